package flashback

import (
	"net/http"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// ListFilters implements dialect.WorkspaceLists. Flashback's TypeScript
// client (ApiClient.getStorageBuckets) joins its arguments into the query
// as they are, so one it was not given arrives as the text "undefined".
func (*Dialect) ListFilters(r *http.Request) (workspace, wallet string) {
	q := r.URL.Query()
	given := func(name string) string {
		if v := q.Get(name); v != "undefined" && v != "null" {
			return v
		}
		return ""
	}
	return given("workspaceId"), given("walletAddress")
}

// credentialFields are the bucket fields that hold provider credentials:
// the access key id (or role ARN, or client email) and the secret, which
// Flashback shows encrypted. A gateway key's holder gets neither.
var credentialFields = []string{"key", "secret"}

// FilterList implements dialect.WorkspaceLists on GET /bucket's answer,
// {"success": true, "buckets": [...]}: each entry is judged from the one
// parse it is written from, and kept with every field the upstream sent but
// the credentials.
func (*Dialect) FilterList(a *dialect.Answer, keep func(dialect.Bucket, string) bool) ([]byte, *dialect.Error) {
	entries, derr := listEntries(a)
	if derr != nil {
		return nil, derr
	}
	kept := make([]any, 0, len(entries))
	for _, e := range entries {
		b, wallet, derr := readEntry(e)
		if derr != nil {
			return nil, derr
		}
		if !keep(b, wallet) {
			continue
		}
		entry := e.Any().(map[string]any)
		for _, f := range credentialFields {
			delete(entry, f)
		}
		kept = append(kept, entry)
	}
	out, err := dialect.Encode(map[string]any{"success": true, "buckets": kept})
	if err != nil {
		return nil, dialect.NewError(dialect.UpstreamFailed, "the bucket list cannot be encoded")
	}
	return out, nil
}

// WriteList implements dialect.WorkspaceLists with buckets of another API
// in Flashback's StorageBucket shape (Describe).
func (d *Dialect) WriteList(w http.ResponseWriter, buckets []dialect.Bucket) {
	list := make([]map[string]any, 0, len(buckets))
	for _, b := range buckets {
		list = append(list, d.Describe(b))
	}
	dialect.WriteJSON(w, http.StatusOK, "application/json; charset=utf-8", map[string]any{"success": true, "buckets": list})
}

// Describe implements dialect.Translator: b in Flashback's StorageBucket
// shape. A bucket of another API has no creation time or status Flashback
// would know; what it has is shown.
func (*Dialect) Describe(b dialect.Bucket) map[string]any {
	m := map[string]any{"id": b.ID, "name": b.Name, "bucket": b.ProviderName, "storageType": b.StorageType, "workspaceId": b.Workspace}
	if b.Endpoint != "" {
		m["endpoint"] = b.Endpoint
	}
	if b.Region != "" {
		m["region"] = b.Region
	}
	return m
}

// Interface guard
var _ dialect.WorkspaceLists = (*Dialect)(nil)
