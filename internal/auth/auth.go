// Package auth authenticates the clients of the gateway and says what each
// may do: the keys the gateway issues (Keyring), the self-contained tokens it
// hands out for them (Signer), and, in passthrough mode, what it learnt about
// upstream B2 tokens (TokenMemory).
//
// Nothing in this package keeps a secret, an application key or a token in
// clear once it has been handed over, and no error it returns contains one.
package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors returned when a request's credentials are refused. Callers compare
// with errors.Is.
var (
	// ErrUnknownKey is returned both for a key id that is not configured and
	// for a wrong secret, so that answers do not reveal which ids exist.
	ErrUnknownKey = errors.New("auth: unknown key or wrong secret")
	// ErrKeyExpired is returned for a key past its expiry. It is returned only
	// to a caller that proved it holds the key (right secret or valid token).
	ErrKeyExpired = errors.New("auth: key expired")
	// ErrBadToken is returned for a token that is malformed, altered, or
	// signed with another secret.
	ErrBadToken = errors.New("auth: bad token")
	// ErrTokenExpired is returned for a well-signed token past its expiry.
	ErrTokenExpired = errors.New("auth: token expired")
)

// Role is a Flashback workspace role. Roles are ordered, so a check for "at
// least WRITE" is r >= RoleWrite.
type Role int

// The roles, weakest first. RoleNone is the role in a workspace a key was not
// given.
const (
	RoleNone Role = iota
	RoleRead
	RoleWrite
	RoleAdmin
)

var roleNames = [...]string{RoleNone: "NONE", RoleRead: "READ", RoleWrite: "WRITE", RoleAdmin: "ADMIN"}

// ParseRole parses a Flashback AccessType: "READ", "WRITE" or "ADMIN", in
// Flashback's spelling. "NONE" is refused: a key without a role in a workspace
// simply does not list it.
func ParseRole(s string) (Role, error) {
	for r := RoleRead; r <= RoleAdmin; r++ {
		if s == roleNames[r] {
			return r, nil
		}
	}
	return RoleNone, fmt.Errorf("unknown role %q (known: READ, WRITE, ADMIN)", s)
}

// String returns the role in Flashback's spelling, or NONE.
func (r Role) String() string {
	if r < RoleNone || r > RoleAdmin {
		return fmt.Sprintf("Role(%d)", int(r))
	}
	return roleNames[r]
}

// b2Capabilities are the B2 capability names a key may be given: b2sdk's 26,
// in b2sdk's order, then the four the TypeScript SDK added.
var b2Capabilities = [...]string{
	"listKeys", "writeKeys", "deleteKeys",
	"listBuckets", "listAllBucketNames", "readBuckets", "writeBuckets", "deleteBuckets",
	"readBucketEncryption", "writeBucketEncryption",
	"readBucketRetentions", "writeBucketRetentions",
	"readFileRetentions", "writeFileRetentions",
	"readFileLegalHolds", "writeFileLegalHolds",
	"readBucketReplications", "writeBucketReplications",
	"bypassGovernance",
	"listFiles", "readFiles", "shareFiles", "writeFiles", "deleteFiles",
	"readBucketNotifications", "writeBucketNotifications",
	"readBucketLifecycleRules", "writeBucketLifecycleRules",
	"readBucketLogging", "writeBucketLogging",
}

// AllCapabilities is the name that stands for every B2 capability.
const AllCapabilities = "all"

// ExpandCapabilities checks a list of capability names and returns it sorted,
// without duplicates, with "all" replaced by every B2 capability.
// Unknown names are an error that lists them and the known names: a misspelt
// capability would otherwise silently deny what the operator meant to allow.
func ExpandCapabilities(names []string) ([]string, error) {
	var out, unknown []string
	for _, n := range names {
		switch {
		case n == AllCapabilities:
			out = append(out, b2Capabilities[:]...)
		case slices.Contains(b2Capabilities[:], n):
			out = append(out, n)
		default:
			unknown = append(unknown, fmt.Sprintf("%q", n))
		}
	}
	if unknown != nil {
		known := append([]string{AllCapabilities}, b2Capabilities[:]...)
		slices.Sort(known)
		return nil, fmt.Errorf("unknown capability %s (known: %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
