package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/caddyserver/caddy/v2"
)

// MinSecretLength is the shortest key secret accepted, in characters.
const MinSecretLength = 8

// Key is one gateway-issued key as configured, in a Caddy config or a keys
// file.
type Key struct {
	// ID names the key. B2 clients send it as the applicationKeyId of
	// b2_authorize_account, so it cannot contain ':' (Basic auth splits there).
	ID string `json:"id"`
	// Secret is the key's secret, or a Caddy placeholder for it such as
	// {env.GW_KEY_1} or {file./run/secrets/gw_key_1}. It must be unique among
	// the keys, since a Flashback Bearer secret alone names its key.
	Secret string `json:"secret"`
	// Name is a free description, for logs.
	Name string `json:"name,omitempty"`
	// Capabilities are the B2 capabilities granted; "all" grants every one.
	Capabilities []string `json:"capabilities,omitempty"`
	// Buckets are the B2 or Flashback bucket ids the key may use; empty means
	// every bucket.
	Buckets []string `json:"buckets,omitempty"`
	// Workspaces gives the key a role ("READ", "WRITE" or "ADMIN") in each
	// listed Flashback workspace, by workspace id; it has none in the others.
	Workspaces map[string]string `json:"workspaces,omitempty"`
	// AllowPublic lets the key make a bucket public (B2 bucketType allPublic).
	AllowPublic bool `json:"allow_public,omitempty"`
	// Expires is when the key stops working, in RFC 3339; empty means never.
	Expires string `json:"expires,omitempty"`
}

// Principal is an authenticated gateway key as the request pipeline sees it.
// It holds no secret. Each Principal returned by a Keyring is the caller's own
// copy.
type Principal struct {
	KeyID string
	Name  string
	// Capabilities are sorted, with "all" expanded.
	Capabilities []string
	// Buckets are the allowed bucket ids, sorted; nil means every bucket.
	Buckets []string
	// Workspaces maps a Flashback workspace id to the key's role there.
	Workspaces  map[string]Role
	AllowPublic bool
	// Expires is the key's expiry; zero means never.
	Expires time.Time
}

// Has reports whether the key holds the B2 capability.
func (p *Principal) Has(capability string) bool {
	return slices.Contains(p.Capabilities, capability)
}

// MayUseBucket reports whether the key may act on the bucket. A key without
// a bucket list may use every bucket.
func (p *Principal) MayUseBucket(bucketID string) bool {
	return p.Buckets == nil || slices.Contains(p.Buckets, bucketID)
}

// Role returns the key's role in a Flashback workspace, RoleNone if it has
// none there.
func (p *Principal) Role(workspace string) Role {
	return p.Workspaces[workspace]
}

func (p *Principal) clone() *Principal {
	c := *p
	c.Capabilities = slices.Clone(p.Capabilities)
	c.Buckets = slices.Clone(p.Buckets)
	c.Workspaces = maps.Clone(p.Workspaces)
	return &c
}

// Keyring holds the configured keys, their secrets only as SHA-256 digests.
// It is read-only once built, so safe for concurrent use.
type Keyring struct {
	byID     map[string]*entry
	bySecret map[[sha256.Size]byte]*entry
	// dummy is compared against when a key id is unknown, so that an unknown
	// id costs the same hashing and comparing as a known one.
	dummy [sha256.Size]byte
}

type entry struct {
	digest    [sha256.Size]byte
	principal Principal
}

// NewKeyring builds a keyring from keys and, if file is not empty, the keys
// in that JSON file: either an array of keys or {"keys": [...]}. Each secret
// is first expanded with repl.ReplaceKnown (no expansion if repl is nil).
//
// Every key is checked: a non-empty id without ':' or spaces, used once; a
// secret, after expansion, of at least MinSecretLength characters, holding no
// unexpanded placeholder, and used by no other key; known capabilities and
// roles; an RFC 3339 expiry. An error names the key by id (or by position if
// it has none) and never contains a secret.
func NewKeyring(keys []Key, file string, repl *caddy.Replacer) (*Keyring, error) {
	type sourced struct {
		Key
		where string
		index int
	}
	all := make([]sourced, 0, len(keys))
	for i, k := range keys {
		all = append(all, sourced{k, "in the configuration", i})
	}
	if file != "" {
		fileKeys, err := readKeysFile(file)
		if err != nil {
			return nil, err
		}
		for i, k := range fileKeys {
			all = append(all, sourced{k, "in keys file " + file, i})
		}
	}

	kr := &Keyring{
		byID:     make(map[string]*entry, len(all)),
		bySecret: make(map[[sha256.Size]byte]*entry, len(all)),
	}
	rand.Read(kr.dummy[:])
	for _, k := range all {
		label := fmt.Sprintf("key %q %s", k.ID, k.where)
		if k.ID == "" {
			label = fmt.Sprintf("key #%d %s", k.index+1, k.where)
		}
		e, err := newEntry(k.Key, repl)
		if err != nil {
			return nil, fmt.Errorf("auth: %s: %w", label, err)
		}
		if _, dup := kr.byID[k.ID]; dup {
			return nil, fmt.Errorf("auth: %s: key id used twice", label)
		}
		if other, dup := kr.bySecret[e.digest]; dup {
			return nil, fmt.Errorf("auth: %s: same secret as key %q; each key needs its own, since a Bearer secret alone must name one key",
				label, other.principal.KeyID)
		}
		kr.byID[k.ID] = e
		kr.bySecret[e.digest] = e
	}
	return kr, nil
}

// KeyError is a key's refusal, naming the field at fault (capabilities,
// workspace, expires; "" for the key itself) so that a configuration's
// errors can point at it.
type KeyError struct {
	Field string
	Err   error
}

func (e *KeyError) Error() string { return e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }

// Check applies every rule a key obeys on its own, before its secret is
// expanded: an id without ':' or spaces, known capabilities and roles,
// non-empty bucket and workspace ids, an RFC 3339 expiry. It needs nothing
// provisioned, so the Caddyfile adapter runs it to report a key's mistakes
// at its file and line; NewKeyring runs it on every key as well.
func (k Key) Check() error {
	_, err := k.principal()
	return err
}

// principal is what the pipeline sees of k, checked.
func (k Key) principal() (Principal, error) {
	if k.ID == "" {
		return Principal{}, errors.New("empty id")
	}
	if strings.IndexFunc(k.ID, func(r rune) bool { return r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return Principal{}, errors.New("id contains ':', a space or a control character")
	}
	caps, err := ExpandCapabilities(k.Capabilities)
	if err != nil {
		return Principal{}, &KeyError{"capabilities", err}
	}
	p := Principal{KeyID: k.ID, Name: k.Name, Capabilities: caps, AllowPublic: k.AllowPublic}
	if len(k.Buckets) > 0 {
		if slices.Contains(k.Buckets, "") {
			return Principal{}, &KeyError{"buckets", errors.New("empty bucket id")}
		}
		p.Buckets = slices.Compact(slices.Sorted(slices.Values(k.Buckets)))
	}
	if len(k.Workspaces) > 0 {
		p.Workspaces = make(map[string]Role, len(k.Workspaces))
		for ws, name := range k.Workspaces {
			if ws == "" {
				return Principal{}, &KeyError{"workspace", errors.New("empty workspace id")}
			}
			r, err := ParseRole(name)
			if err != nil {
				return Principal{}, &KeyError{"workspace", fmt.Errorf("workspace %s: %w", ws, err)}
			}
			p.Workspaces[ws] = r
		}
	}
	if k.Expires != "" {
		t, err := time.Parse(time.RFC3339, k.Expires)
		if err != nil {
			return Principal{}, &KeyError{"expires", fmt.Errorf("expires '%s' is not an RFC 3339 time; write one such as 2027-01-31T00:00:00Z", k.Expires)}
		}
		p.Expires = t
	}
	return p, nil
}

func newEntry(k Key, repl *caddy.Replacer) (*entry, error) {
	p, err := k.principal()
	if err != nil {
		return nil, err
	}
	// A placeholder the replacer does not know, or one that is empty, is a
	// typo or a missing variable: used literally, the secret would be as
	// public as the configuration that names it.
	if repl == nil {
		repl = caddy.NewEmptyReplacer()
	}
	secret, err := Expand(repl, "secret", k.Secret)
	switch {
	case err != nil:
		return nil, err
	case secret == "":
		return nil, errors.New("empty secret")
	case utf8.RuneCountInString(secret) < MinSecretLength:
		return nil, fmt.Errorf("secret shorter than %d characters", MinSecretLength)
	}
	return &entry{digest: sha256.Sum256([]byte(secret)), principal: p}, nil
}

// readKeysFile decodes strictly: a misspelt field such as "bucket" would
// otherwise be dropped, and leave the key free to use every bucket.
func readKeysFile(path string) ([]Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: keys file: %w", err)
	}
	var keys []Key
	var wrapped struct {
		Keys []Key `json:"keys"`
	}
	var into any
	switch start := bytes.TrimSpace(data); {
	case bytes.HasPrefix(start, []byte("[")):
		into = &keys
	case bytes.HasPrefix(start, []byte("{")):
		into = &wrapped
	default:
		return nil, fmt.Errorf("auth: keys file %s: want a JSON array of keys or an object {\"keys\": [...]}", path)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return nil, fmt.Errorf("auth: keys file %s: %w", path, jsonError(data, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("auth: keys file %s: data after the keys", path)
	}
	return append(keys, wrapped.Keys...), nil
}

// jsonError replaces a syntax error, whose message quotes the offending
// character (possibly from a secret), by the line and column of that
// character.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		return err
	}
	before := data[:min(max(int(syn.Offset)-1, 0), len(data))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Errorf("invalid JSON at line %d, column %d", line, col)
}

// Basic authenticates a key id and secret, as B2's b2_authorize_account
// receives them. An unknown id and a wrong secret both give ErrUnknownKey,
// after the same work, so neither the answer nor its timing says which ids
// exist. An expired key gives ErrKeyExpired.
func (k *Keyring) Basic(keyID, secret string, now time.Time) (*Principal, error) {
	got := sha256.Sum256([]byte(secret))
	e, known := k.byID[keyID]
	want := &k.dummy
	if known {
		want = &e.digest
	}
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
		return nil, ErrUnknownKey
	}
	return e.use(now)
}

// Bearer authenticates a secret alone, as Flashback clients of the gateway
// send it. The map lookup needs no constant-time care: its timing depends on
// the digest, which an attacker can compute for any guess but not invert.
func (k *Keyring) Bearer(secret string, now time.Time) (*Principal, error) {
	e, ok := k.bySecret[sha256.Sum256([]byte(secret))]
	if !ok {
		return nil, ErrUnknownKey
	}
	return e.use(now)
}

// Lookup returns the key a verified gateway token names. Tokens outlive
// configurations, so it is asked on every request: a key removed or changed by
// a config reload takes effect at once.
func (k *Keyring) Lookup(keyID string, now time.Time) (*Principal, error) {
	e, ok := k.byID[keyID]
	if !ok {
		return nil, ErrUnknownKey
	}
	return e.use(now)
}

// Len returns the number of keys.
func (k *Keyring) Len() int { return len(k.byID) }

func (e *entry) use(now time.Time) (*Principal, error) {
	if !e.principal.Expires.IsZero() && !now.Before(e.principal.Expires) {
		return nil, ErrKeyExpired
	}
	return e.principal.clone(), nil
}
