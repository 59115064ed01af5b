package flashback

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"net/http"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// stateFields are the bucket fields that only an update changes. status,
// lastStatusAt and latency change on their own, createdAt never does, and
// repos follow repository changes, not bucket ones; none of them may move
// the revision, or every If-Match would fail by chance.
var stateFields = []string{"id", "name", "bucket", "storageType", "key", "secret", "endpoint", "region", "workspaceId", "walletAddress", "apiKeyId"}

// ReadRequest implements dialect.BucketReader. Flashback has no GET for
// one bucket; GET /bucket lists every bucket the caller may see.
func (*Dialect) ReadRequest(sub *http.Request, _, _ string) {
	dialect.Rewrite(sub, http.MethodGet, "/bucket", nil)
	sub.Header.Set("Accept", "application/json")
}

// ReadBucket implements dialect.BucketReader, with the bucket's list entry
// less its credentials as its Entry; Flashback has no revision, so the
// gateway derives one from what this reads.
func (d *Dialect) ReadBucket(a *dialect.Answer, bucketID string) (dialect.Bucket, *dialect.Error) {
	entries, derr := listEntries(a)
	if derr != nil {
		return dialect.Bucket{}, derr
	}
	for _, e := range entries {
		b, _, derr := readEntry(e)
		if derr != nil {
			return dialect.Bucket{}, derr
		}
		if b.ID == bucketID {
			b.Entry = entryOf(e)
			return b, nil
		}
	}
	return dialect.Bucket{}, dialect.NewError(dialect.NotFound, "bucket not found, or not visible to this token")
}

// ReadBuckets implements dialect.Translator, each bucket with its Entry.
func (*Dialect) ReadBuckets(a *dialect.Answer) ([]dialect.Bucket, *dialect.Error) {
	entries, derr := listEntries(a)
	if derr != nil {
		return nil, derr
	}
	out := make([]dialect.Bucket, 0, len(entries))
	for _, e := range entries {
		b, _, derr := readEntry(e)
		if derr != nil {
			return nil, derr
		}
		b.Entry = entryOf(e)
		out = append(out, b)
	}
	return out, nil
}

// entryOf is a list entry as a bucket's Entry: without its credentials.
func entryOf(e jsonscan.Value) map[string]any {
	entry, _ := e.Native(false).(map[string]any)
	for _, f := range credentialFields {
		delete(entry, f)
	}
	return entry
}

// listEntries reads the entries of GET /bucket's answer,
// {"success": true, "buckets": [...]}, each an object.
func listEntries(a *dialect.Answer) ([]jsonscan.Value, *dialect.Error) {
	switch a.Status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return nil, dialect.NewError(dialect.Unauthenticated, "Flashback refused the token when the gateway read the bucket")
	case http.StatusForbidden:
		return nil, dialect.NewError(dialect.Forbidden, "Flashback refused to show the bucket to this token")
	default:
		return nil, dialect.NewError(dialect.UpstreamFailed, "the upstream could not list buckets (HTTP "+http.StatusText(a.Status)+")")
	}
	root, derr := a.Object("the upstream's bucket list")
	if derr != nil {
		return nil, derr
	}
	list := root.Get("buckets")
	if list.Type() != jsonscan.Array {
		return nil, dialect.NewError(dialect.UpstreamFailed, "the upstream's bucket list has no buckets array")
	}
	entries := make([]jsonscan.Value, 0, list.Len())
	for _, e := range list.Items() {
		if e.Type() != jsonscan.Object {
			return nil, dialect.NewError(dialect.UpstreamFailed, "the upstream's bucket list holds an entry that is not an object")
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// readEntry reads one bucket of a list, and its wallet address: each field
// the gateway reads must be a string (or absent, or null), and the id
// present.
func readEntry(e jsonscan.Value) (dialect.Bucket, string, *dialect.Error) {
	var b dialect.Bucket
	var wallet string
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"id", &b.ID}, {"name", &b.Name}, {"workspaceId", &b.Workspace}, {"bucket", &b.ProviderName},
		{"storageType", &b.StorageType}, {"region", &b.Region}, {"endpoint", &b.Endpoint}, {"walletAddress", &wallet},
	} {
		v := e.Get(f.name)
		s, ok := v.Str()
		if v.Given() && !ok {
			return b, "", dialect.NewError(dialect.UpstreamFailed, "the upstream's bucket list cannot be read: a bucket's "+f.name+" is not a string")
		}
		*f.dst = s
	}
	if b.ID == "" {
		return b, "", dialect.NewError(dialect.UpstreamFailed, "the upstream's bucket list cannot be read: a bucket has no id")
	}
	b.Revision = revision(e)
	return b, wallet, nil
}

// Workspace implements dialect.Workspaces.
func (*Dialect) Workspace(u *dialect.Document) (string, bool) {
	ws, ok := u.Str("workspaceId")
	return ws, ok
}

// revision hashes the owner-controlled fields into a positive integer of at
// most 31 bits. The same number is this bucket's ETag and, through B2
// translation, its B2 revision, which B2 clients read into a 32-bit int
// (b2-sdk-java, the Rust client's field is narrower still): a larger one
// would keep them from even listing the bucket. Any change to a hashed field
// changes the number but for a 1 in 2^31 collision, which is the price of
// a revision Flashback itself does not keep. Each field is hashed as its
// type and its value in canonical JSON (object keys sorted), so the revision
// is the bucket's state, not how an answer happens to spell it.
func revision(e jsonscan.Value) int64 {
	h := sha256.New()
	for _, f := range stateFields {
		v := e.Get(f)
		h.Write([]byte(f))
		h.Write([]byte{0, byte(v.Type())})
		if v.Given() {
			canon, _ := json.Marshal(v.Any())
			h.Write(canon)
		}
		h.Write([]byte{0})
	}
	n := int64(binary.BigEndian.Uint64(h.Sum(nil)) & (1<<31 - 1))
	if n == 0 {
		n = 1
	}
	return n
}
