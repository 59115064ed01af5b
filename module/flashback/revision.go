package flashback

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"

	"github.com/tidwall/gjson"

	"github.com/bucketgate/bucketgate/module/dialect"
)

// stateFields are the bucket fields that only an update changes. status,
// lastStatusAt and latency change on their own, createdAt never does, and
// repos follow repository changes, not bucket ones; none of them may move
// the revision, or every If-Match would fail by chance.
var stateFields = []string{"id", "name", "bucket", "storageType", "key", "secret", "endpoint", "region", "workspaceId", "walletAddress", "apiKeyId"}

// StateRequest implements dialect.DerivedRevisions. Flashback has no GET
// for one bucket; GET /bucket lists every bucket the caller may see.
func (*Dialect) StateRequest(sub *http.Request, _ string) {
	dialect.Rewrite(sub, http.MethodGet, "/bucket", nil)
	sub.Header.Set("Accept", "application/json")
}

// State implements dialect.DerivedRevisions.
func (*Dialect) State(status int, body []byte, bucketID string) (dialect.BucketState, *dialect.Error) {
	switch status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return dialect.BucketState{}, dialect.Errorf(dialect.Unauthenticated, "Flashback refused the token when the gateway read the bucket")
	case http.StatusForbidden:
		return dialect.BucketState{}, dialect.Errorf(dialect.Forbidden, "Flashback refused to show the bucket to this token")
	default:
		return dialect.BucketState{}, dialect.Errorf(dialect.UpstreamFailed, "the upstream could not list buckets (HTTP "+http.StatusText(status)+")")
	}
	if !gjson.ValidBytes(body) {
		return dialect.BucketState{}, dialect.Errorf(dialect.UpstreamFailed, "the upstream's bucket list is not JSON")
	}
	buckets := gjson.GetBytes(body, "buckets")
	if !buckets.IsArray() {
		return dialect.BucketState{}, dialect.Errorf(dialect.UpstreamFailed, "the upstream's bucket list has no buckets array")
	}
	var found gjson.Result
	buckets.ForEach(func(_, b gjson.Result) bool {
		if b.Get("id").String() == bucketID {
			found = b
			return false
		}
		return true
	})
	if !found.Exists() {
		return dialect.BucketState{}, dialect.Errorf(dialect.NotFound, "bucket not found, or not visible to this token")
	}
	return dialect.BucketState{Revision: revision(found), Workspace: found.Get("workspaceId").String()}, nil
}

// MovesTo implements dialect.DerivedRevisions.
func (*Dialect) MovesTo(u *dialect.Update) (string, bool) {
	ws, ok := u.Doc["workspaceId"].(string)
	return ws, ok
}

// revision hashes the owner-controlled fields into a positive integer that
// fits a JSON number exactly (53 bits), so it reads the same in every client.
func revision(b gjson.Result) int64 {
	h := sha256.New()
	for _, f := range stateFields {
		v := b.Get(f)
		h.Write([]byte(f))
		h.Write([]byte{0, byte(v.Type)})
		h.Write([]byte(v.Raw))
		h.Write([]byte{0})
	}
	n := int64(binary.BigEndian.Uint64(h.Sum(nil)) & (1<<53 - 1))
	if n == 0 {
		n = 1
	}
	return n
}
