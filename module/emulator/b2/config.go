package b2emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Account is one B2 account: its application keys and the buckets it holds
// when the emulator starts.
type Account struct {
	// ID is the account id that b2_authorize_account reports and that
	// requests must name in accountId. Required; unique.
	ID string `json:"id,omitempty"`

	// Keys are the application keys that can authorize for this account.
	// At least one is required.
	Keys []Key `json:"keys,omitempty"`

	// Buckets are created when the emulator starts, unless a state file
	// already holds the buckets.
	Buckets []SeedBucket `json:"buckets,omitempty"`
}

// Key is an application key.
type Key struct {
	// ID is the applicationKeyId half of the Basic credentials. Required;
	// unique across all accounts.
	ID string `json:"id,omitempty"`

	// Secret is the applicationKey half of the Basic credentials. Required.
	Secret string `json:"secret,omitempty"`

	// Capabilities are what tokens issued for this key may do, by B2
	// capability name (listBuckets, writeBuckets, readBucketEncryption, ...).
	// "all" stands for every capability B2 defines. Names the emulator does
	// not know are accepted and reported back as given. At least one is
	// required.
	Capabilities []string `json:"capabilities,omitempty"`

	// Bucket restricts the key to one bucket of its account, named by bucket
	// name or id; it must be one of the account's seeded buckets. A
	// bucket-restricted key can list only that bucket and can never create,
	// update or delete buckets, as in B2. Default: no restriction.
	Bucket string `json:"bucket,omitempty"`

	// NamePrefix restricts the key to file names starting with this prefix.
	// It is only reported by b2_authorize_account, and needs Bucket.
	NamePrefix string `json:"name_prefix,omitempty"`
}

// SeedBucket is a bucket an account starts with.
type SeedBucket struct {
	// Name is the bucket name: 6 to 63 letters, digits and hyphens, not
	// starting with "b2-", unique across all accounts regardless of case.
	// Required.
	Name string `json:"name,omitempty"`

	// ID fixes the bucket id: 24 lowercase letters or digits. Default: an id
	// derived from the account id and bucket name, the same on every start.
	ID string `json:"id,omitempty"`

	// Type is the bucket type: allPrivate, allPublic, snapshot, shared or
	// restricted. Default: allPrivate.
	Type string `json:"type,omitempty"`

	// Info is the initial bucketInfo: at most 10 entries.
	Info map[string]string `json:"info,omitempty"`

	// FileLock starts the bucket with Object Lock (file lock) enabled.
	FileLock bool `json:"file_lock,omitempty"`
}

var seedBucketTypes = []string{"allPrivate", "allPublic", "snapshot", "shared", "restricted"}

var bucketIDPattern = regexp.MustCompile(`^[0-9a-z]{24}$`)

// id derives a stable id so that restarts without a state file, and key
// restrictions by name, always see the same bucket id.
func (sb SeedBucket) id(accountID string) string {
	if sb.ID != "" {
		return sb.ID
	}
	sum := sha256.Sum256([]byte(accountID + "\x00" + strings.ToLower(sb.Name)))
	return hex.EncodeToString(sum[:12])
}

func (sb SeedBucket) bucket(accountID string, revision int64) *bucket {
	typ := sb.Type
	if typ == "" {
		typ = "allPrivate"
	}
	info := make(map[string]string, len(sb.Info))
	for k, v := range sb.Info {
		info[k] = v
	}
	b := newBucket(accountID, sb.id(accountID), sb.Name, typ, revision)
	b.Info = info
	b.FileLock = sb.FileLock
	return b
}

// principal resolves the key's bucket restriction to an id. An unresolved
// restriction (rejected by Validate) is kept as a literal id that matches no
// bucket, so a bad configuration can only ever deny.
func (a Account) principal(k Key) *principal {
	p := &principal{
		accountID:  a.ID,
		caps:       expandCapabilities(k.Capabilities),
		namePrefix: k.NamePrefix,
	}
	if k.Bucket != "" {
		p.bucketID = k.Bucket
		if sb, ok := a.seedBucket(k.Bucket); ok {
			p.bucketID = sb.id(a.ID)
		}
	}
	p.has = make(map[string]bool, len(p.caps))
	for _, c := range p.caps {
		p.has[c] = true
	}
	return p
}

func (a Account) seedBucket(nameOrID string) (SeedBucket, bool) {
	for _, sb := range a.Buckets {
		if sb.id(a.ID) == nameOrID || strings.EqualFold(sb.Name, nameOrID) {
			return sb, true
		}
	}
	return SeedBucket{}, false
}

func checkAPIURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q must start with http:// or https://", s)
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		// Clients append /b2api/vN/... to it verbatim.
		return fmt.Errorf("%q must be scheme and host only, with no path or trailing slash", s)
	}
	return nil
}

func validateAccounts(accounts []Account) error {
	if len(accounts) == 0 {
		return errors.New("at least one account is required")
	}
	accountIDs := make(map[string]bool)
	keyIDs := make(map[string]bool)
	bucketNames := make(map[string]bool)
	bucketIDs := make(map[string]bool)
	for i, a := range accounts {
		if a.ID == "" {
			return fmt.Errorf("account %d: id is required", i)
		}
		if accountIDs[a.ID] {
			return fmt.Errorf("account %q: defined more than once", a.ID)
		}
		accountIDs[a.ID] = true
		if len(a.Buckets) > maxBucketsPerAccount {
			return fmt.Errorf("account %q: at most %d buckets, got %d", a.ID, maxBucketsPerAccount, len(a.Buckets))
		}
		for _, sb := range a.Buckets {
			if err := validateSeedBucket(a.ID, sb, bucketNames, bucketIDs); err != nil {
				return fmt.Errorf("account %q: bucket %q: %v", a.ID, sb.Name, err)
			}
		}
		if len(a.Keys) == 0 {
			return fmt.Errorf("account %q: at least one key is required", a.ID)
		}
		for j, k := range a.Keys {
			if k.ID == "" {
				return fmt.Errorf("account %q: key %d: id is required", a.ID, j)
			}
			if keyIDs[k.ID] {
				return fmt.Errorf("account %q: key %q: key id used more than once", a.ID, k.ID)
			}
			keyIDs[k.ID] = true
			if err := validateKey(a, k); err != nil {
				return fmt.Errorf("account %q: key %q: %v", a.ID, k.ID, err)
			}
		}
	}
	return nil
}

func validateSeedBucket(accountID string, sb SeedBucket, names, ids map[string]bool) error {
	if msg := bucketNameProblem(sb.Name); msg != "" {
		return fmt.Errorf("name %s", msg)
	}
	if names[strings.ToLower(sb.Name)] {
		return errors.New("bucket name used more than once (names are unique regardless of case)")
	}
	names[strings.ToLower(sb.Name)] = true
	if sb.ID != "" && !bucketIDPattern.MatchString(sb.ID) {
		return fmt.Errorf("id %q must be 24 lowercase letters or digits", sb.ID)
	}
	id := sb.id(accountID)
	if ids[id] {
		return fmt.Errorf("bucket id %s used more than once", id)
	}
	ids[id] = true
	if sb.Type != "" && !slices.Contains(seedBucketTypes, sb.Type) {
		return fmt.Errorf("type %q must be one of %s", sb.Type, strings.Join(seedBucketTypes, ", "))
	}
	if len(sb.Info) > maxInfoEntries {
		return fmt.Errorf("info has %d entries, at most %d allowed", len(sb.Info), maxInfoEntries)
	}
	for k := range sb.Info {
		if msg := infoKeyProblem(k); msg != "" {
			return fmt.Errorf("info key %q %s", k, msg)
		}
	}
	return nil
}

func validateKey(a Account, k Key) error {
	if k.Secret == "" {
		return errors.New("secret is required")
	}
	if len(k.Capabilities) == 0 {
		return errors.New("at least one capability is required")
	}
	for _, c := range k.Capabilities {
		if c == "" || strings.ContainsAny(c, ", \t\r\n") {
			return fmt.Errorf("capability %q must be a single capability name; list capabilities separately", c)
		}
	}
	if k.Bucket != "" {
		if _, ok := a.seedBucket(k.Bucket); !ok {
			return fmt.Errorf("bucket %q is not the name or id of one of the account's buckets", k.Bucket)
		}
	}
	if k.NamePrefix != "" && k.Bucket == "" {
		return errors.New("name_prefix needs a bucket restriction")
	}
	return nil
}
