package flashback

import (
	"bytes"
	"encoding/json"
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
// {"success": true, "buckets": [...]}, keeping every other field as the
// upstream sent it.
func (d *Dialect) FilterList(status int, body []byte, keep func(dialect.Bucket, string) bool) ([]byte, *dialect.Error) {
	buckets, derr := d.ReadBuckets(status, body)
	if derr != nil {
		return nil, derr
	}
	var doc struct {
		Buckets []map[string]json.RawMessage `json:"buckets"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Buckets) != len(buckets) {
		return nil, dialect.NewError(dialect.UpstreamFailed, "the upstream's bucket list cannot be read")
	}
	kept := make([]map[string]json.RawMessage, 0, len(buckets))
	for i, b := range buckets {
		entry := doc.Buckets[i]
		var wallet string
		_ = json.Unmarshal(entry["walletAddress"], &wallet)
		if !keep(b, wallet) {
			continue
		}
		for _, f := range credentialFields {
			delete(entry, f)
		}
		kept = append(kept, entry)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // the upstream's text as it sent it
	if err := enc.Encode(map[string]any{"success": true, "buckets": kept}); err != nil {
		return nil, dialect.NewError(dialect.UpstreamFailed, "the bucket list cannot be encoded")
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

// WriteList implements dialect.WorkspaceLists with buckets of another API
// in Flashback's StorageBucket shape. They have no creation time or status
// Flashback would know; what they have is shown.
func (*Dialect) WriteList(w http.ResponseWriter, buckets []dialect.Bucket) {
	type storageBucket struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Bucket      string `json:"bucket"`
		StorageType string `json:"storageType"`
		Endpoint    string `json:"endpoint,omitempty"`
		Region      string `json:"region,omitempty"`
		WorkspaceID string `json:"workspaceId"`
	}
	list := make([]storageBucket, 0, len(buckets))
	for _, b := range buckets {
		list = append(list, storageBucket{ID: b.ID, Name: b.Name, Bucket: b.ProviderName, StorageType: b.StorageType,
			Endpoint: b.Endpoint, Region: b.Region, WorkspaceID: b.Workspace})
	}
	dialect.WriteJSON(w, http.StatusOK, "application/json; charset=utf-8", struct {
		Success bool            `json:"success"`
		Buckets []storageBucket `json:"buckets"`
	}{true, list})
}

// Interface guard
var _ dialect.WorkspaceLists = (*Dialect)(nil)
