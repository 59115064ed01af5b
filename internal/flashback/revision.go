package flashback

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"

	"github.com/tidwall/gjson"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// stateFields are the bucket fields that only an update changes. status,
// lastStatusAt and latency change on their own, createdAt never does, and
// repos follow repository changes, not bucket ones; none of them may move
// the revision, or every If-Match would fail by chance.
var stateFields = []string{"id", "name", "bucket", "storageType", "key", "secret", "endpoint", "region", "workspaceId", "walletAddress", "apiKeyId"}

// ReadRequest implements dialect.DerivedRevisions. Flashback has no GET for
// one bucket; GET /bucket lists every bucket the caller may see.
func (*Dialect) ReadRequest(sub *http.Request, _, _ string) {
	dialect.Rewrite(sub, http.MethodGet, "/bucket", nil)
	sub.Header.Set("Accept", "application/json")
}

// ReadBucket implements dialect.DerivedRevisions.
func (d *Dialect) ReadBucket(status int, body []byte, bucketID string) (dialect.Bucket, *dialect.Error) {
	buckets, err := d.ReadBuckets(status, body)
	if err != nil {
		return dialect.Bucket{}, err
	}
	if b, ok := dialect.FindBucket(buckets, bucketID); ok {
		return b, nil
	}
	return dialect.Bucket{}, dialect.NewError(dialect.NotFound, "bucket not found, or not visible to this token")
}

// ReadBuckets implements dialect.Translator.
func (*Dialect) ReadBuckets(status int, body []byte) ([]dialect.Bucket, *dialect.Error) {
	switch status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return nil, dialect.NewError(dialect.Unauthenticated, "Flashback refused the token when the gateway read the bucket")
	case http.StatusForbidden:
		return nil, dialect.NewError(dialect.Forbidden, "Flashback refused to show the bucket to this token")
	default:
		return nil, dialect.NewError(dialect.UpstreamFailed, "the upstream could not list buckets (HTTP "+http.StatusText(status)+")")
	}
	if !gjson.ValidBytes(body) {
		return nil, dialect.NewError(dialect.UpstreamFailed, "the upstream's bucket list is not JSON")
	}
	buckets := gjson.GetBytes(body, "buckets")
	if !buckets.IsArray() {
		return nil, dialect.NewError(dialect.UpstreamFailed, "the upstream's bucket list has no buckets array")
	}
	var out []dialect.Bucket
	buckets.ForEach(func(_, b gjson.Result) bool {
		out = append(out, dialect.Bucket{
			ID: b.Get("id").String(), Name: b.Get("name").String(), Workspace: b.Get("workspaceId").String(),
			ProviderName: b.Get("bucket").String(), StorageType: b.Get("storageType").String(),
			Region: b.Get("region").String(), Endpoint: b.Get("endpoint").String(),
			Revision: revision(b),
		})
		return true
	})
	return out, nil
}

// MovesTo implements dialect.DerivedRevisions.
func (*Dialect) MovesTo(u *dialect.Update) (string, bool) {
	ws, ok := u.Str("workspaceId")
	return ws, ok
}

// revision hashes the owner-controlled fields into a positive integer of at
// most 31 bits. The same number is this bucket's ETag and, through B2
// translation, its B2 revision, which B2 clients read into a 32-bit int
// (b2-sdk-java, the Rust client's field is narrower still): a larger one
// would keep them from even listing the bucket. Any change to a hashed field
// changes the number but for a 1 in 2^31 collision, which is the price of
// a revision Flashback itself does not keep.
func revision(b gjson.Result) int64 {
	h := sha256.New()
	for _, f := range stateFields {
		v := b.Get(f)
		h.Write([]byte(f))
		h.Write([]byte{0, byte(v.Type)})
		h.Write([]byte(v.Raw))
		h.Write([]byte{0})
	}
	n := int64(binary.BigEndian.Uint64(h.Sum(nil)) & (1<<31 - 1))
	if n == 0 {
		n = 1
	}
	return n
}
