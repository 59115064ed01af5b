package flashbackemulator

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"go.uber.org/zap"
)

// Bucket is a bucket that exists when the configuration loads. Its fields
// obey the rules the API applies to a new bucket, but for credentials, which
// a seeded bucket may do without.
type Bucket struct {
	// ID is the bucket's id, a lowercase UUID such as
	// 11111111-2222-3333-4444-555555555555. Required, and different for
	// every bucket.
	ID string `json:"id,omitempty"`

	// Name is the bucket's display name. Required.
	Name string `json:"name,omitempty"`

	// Workspace is the id of the workspace the bucket belongs to, one of
	// workspaces. Required.
	Workspace string `json:"workspace,omitempty"`

	// StorageType is the kind of provider storage: S3, GCS or BLOB, or
	// AZURE, which POST /bucket also takes for Azure Blob Storage.
	// Required.
	StorageType string `json:"storage_type,omitempty"`

	// Bucket is the bucket's (for BLOB, the container's) name at the
	// provider, following that provider's naming rules. Required.
	Bucket string `json:"bucket,omitempty"`

	// Region is the provider region, e.g. us-east-1.
	Region string `json:"region,omitempty"`

	// Endpoint is the provider's URL, http or https; empty for its default.
	Endpoint string `json:"endpoint,omitempty"`

	// Key is the provider access key (for S3 also a role ARN; for GCS the
	// client email). The API returns it to readers.
	Key string `json:"key,omitempty"`

	// Secret is the provider secret. The API never returns it, and the
	// emulator keeps only its SHA-256 digest.
	Secret string `json:"secret,omitempty"`

	// WalletAddress is the wallet the bucket is linked to, if any.
	WalletAddress string `json:"wallet_address,omitempty"`

	// APIKeyID is the id (a UUID) of a stored provider API key the bucket
	// uses instead of key and secret.
	APIKeyID string `json:"api_key_id,omitempty"`
}

func (b Bucket) body() body {
	all := body{
		"name": b.Name, "storageType": b.StorageType, "bucket": b.Bucket, "key": b.Key,
		"secret": b.Secret, "region": b.Region, "endpoint": b.Endpoint, "workspaceId": b.Workspace,
		"walletAddress": b.WalletAddress, "apiKeyUuid": b.APIKeyID,
	}
	maps.DeleteFunc(all, func(_, v string) bool { return v == "" })
	return all
}

func (b Bucket) record(created time.Time) record {
	return record{ID: b.ID, CreatedAt: created}.with(b.body())
}

// checkSeeds refuses seeded buckets the API itself would refuse.
func checkSeeds(seeds []Bucket, workspaces map[string]bool) error {
	ids := make(map[string]int, len(seeds))
	for i, b := range seeds {
		where := fmt.Sprintf("buckets[%d] (%q)", i, b.Name)
		if !isUUID(b.ID) {
			return fmt.Errorf("%s: id must be a lowercase UUID", where)
		}
		if j, dup := ids[b.ID]; dup {
			return fmt.Errorf("%s: id already used by buckets[%d]", where, j)
		}
		ids[b.ID] = i
		if ps := checkBody(b.body(), nil); len(ps) > 0 {
			return fmt.Errorf("%s: %s", where, ps.config())
		}
		if !workspaces[b.Workspace] {
			return fmt.Errorf("%s: workspace %q is not declared", where, b.Workspace)
		}
	}
	return nil
}

// record is a bucket as the emulator keeps it, in memory and in the state
// file. Of the secret only a digest is kept: the real backend cannot read
// secrets back either, so nothing here needs the clear text.
type record struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Bucket        string    `json:"bucket"`
	StorageType   string    `json:"storageType"`
	Key           string    `json:"key,omitempty"`
	SecretSHA256  string    `json:"secretSha256,omitempty"`
	Endpoint      string    `json:"endpoint,omitempty"`
	Region        string    `json:"region,omitempty"`
	WorkspaceID   string    `json:"workspaceId"`
	WalletAddress string    `json:"walletAddress,omitempty"`
	APIKeyID      string    `json:"apiKeyId,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
}

func (r record) with(b body) record {
	for _, f := range fields {
		if v, ok := b[f.wire]; ok {
			f.set(&r, v)
		}
	}
	return r
}

// jsTime is how the backend writes times: JavaScript's toISOString.
const jsTime = "2006-01-02T15:04:05.000Z07:00"

// storageBucket is a bucket as GET /bucket shows it.
type storageBucket struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Bucket        string     `json:"bucket"`
	StorageType   string     `json:"storageType"`
	Key           string     `json:"key,omitempty"`
	Secret        *struct{}  `json:"secret,omitempty"` // the backend's documents show an encrypted secret as {}
	Endpoint      string     `json:"endpoint,omitempty"`
	Region        string     `json:"region,omitempty"`
	Status        string     `json:"status"`
	CreatedAt     string     `json:"createdAt"`
	LastStatusAt  string     `json:"lastStatusAt"`
	WorkspaceID   string     `json:"workspaceId"`
	WalletAddress string     `json:"walletAddress,omitempty"`
	APIKeyID      string     `json:"apiKeyId,omitempty"`
	Repos         []struct{} `json:"repos"`
}

// view shows r as probed at checked: the emulator has no provider to probe,
// so every bucket is ONLINE as of the read, which also makes lastStatusAt
// move on its own as it does on the real service.
func (r record) view(checked time.Time) storageBucket {
	v := storageBucket{
		ID: r.ID, Name: r.Name, Bucket: r.Bucket, StorageType: r.StorageType, Key: r.Key,
		Endpoint: r.Endpoint, Region: r.Region, Status: "ONLINE",
		CreatedAt: r.CreatedAt.Format(jsTime), LastStatusAt: checked.Format(jsTime),
		WorkspaceID: r.WorkspaceID, WalletAddress: r.WalletAddress, APIKeyID: r.APIKeyID,
		Repos: []struct{}{},
	}
	if r.SecretSHA256 != "" {
		v.Secret = &struct{}{}
	}
	return v
}

type bucketList struct {
	Success bool            `json:"success"`
	Buckets []storageBucket `json:"buckets"`
}

type bucketID struct {
	Success  bool   `json:"success"`
	BucketID string `json:"bucketId"`
}

// queryParam treats "undefined" as absent: the TypeScript client builds its
// query string by concatenation and sends unset arguments that way.
func queryParam(q url.Values, name string) string {
	if v := q.Get(name); v != "undefined" {
		return v
	}
	return ""
}

func (e *Emulator) list(a *account, r *http.Request, _ string) (any, *refusal) {
	q := r.URL.Query()
	ws, wallet := queryParam(q, "workspaceId"), queryParam(q, "walletAddress")
	e.store.mu.Lock()
	recs := sorted(e.store.buckets)
	e.store.mu.Unlock()

	checked := e.timestamp()
	out := []storageBucket{}
	for _, rec := range recs {
		if !a.can(rec.WorkspaceID, roleRead) ||
			ws != "" && rec.WorkspaceID != ws ||
			wallet != "" && rec.WalletAddress != wallet {
			continue
		}
		out = append(out, rec.view(checked))
	}
	return bucketList{Success: true, Buckets: out}, nil
}

func (e *Emulator) create(a *account, r *http.Request, _ string) (any, *refusal) {
	raw, ref := readBody(r)
	if ref != nil {
		return nil, ref
	}
	b, ref := parseBody(raw)
	if ref != nil {
		return nil, ref
	}
	if ps := append(checkBody(b, nil), credentials(b)...); len(ps) > 0 {
		return nil, refuse(http.StatusBadRequest, "%s", ps)
	}
	// A workspace the caller cannot write to is refused alike whether it
	// exists or not, so creating probes nothing.
	if !a.can(b["workspaceId"], roleWrite) {
		return nil, refuse(http.StatusForbidden, "workspaceId: WRITE or ADMIN role required in the workspace")
	}
	rec := record{ID: newUUID(), CreatedAt: e.timestamp()}.with(b)

	e.store.mu.Lock()
	defer e.store.mu.Unlock()
	// POST's reference: a bucket name is unique within the organisation,
	// which is every workspace here; the guide adds that it is so across
	// providers.
	for _, other := range e.store.buckets {
		if other.Bucket == rec.Bucket {
			return nil, refuse(http.StatusBadRequest, "bucket: already registered in the organisation")
		}
	}
	if err := e.store.commit(func(m map[string]record) { m[rec.ID] = rec }); err != nil {
		return nil, e.internal("create", err)
	}
	e.logger.Info("bucket created", zap.String("user", a.name), zap.String("bucket_id", rec.ID),
		zap.String("workspace_id", rec.WorkspaceID))
	return bucketID{Success: true, BucketID: rec.ID}, nil
}

func (e *Emulator) update(a *account, r *http.Request, id string) (any, *refusal) {
	raw, ref := readBody(r)
	if ref != nil {
		return nil, ref
	}
	// The lock covers the check and the write, so two updates of one bucket
	// never interleave.
	e.store.mu.Lock()
	defer e.store.mu.Unlock()
	cur, ref := e.writableBucket(a, id)
	if ref != nil {
		return nil, ref
	}
	b, ref := parseBody(raw)
	if ref != nil {
		return nil, ref
	}
	if ps := checkBody(b, &cur); len(ps) > 0 {
		return nil, refuse(http.StatusBadRequest, "%s", ps)
	}
	next := cur.with(b)
	if next.WorkspaceID != cur.WorkspaceID {
		if ref := writable(a, next.WorkspaceID); ref != nil {
			return nil, ref
		}
	}
	if err := e.store.commit(func(m map[string]record) { m[id] = next }); err != nil {
		return nil, e.internal("update", err)
	}
	e.logger.Info("bucket updated", zap.String("user", a.name), zap.String("bucket_id", id),
		zap.Strings("fields", slices.Sorted(maps.Keys(b))))
	return bucketID{Success: true, BucketID: id}, nil
}

func (e *Emulator) remove(a *account, _ *http.Request, id string) (any, *refusal) {
	e.store.mu.Lock()
	defer e.store.mu.Unlock()
	if _, ref := e.writableBucket(a, id); ref != nil {
		return nil, ref
	}
	if err := e.store.commit(func(m map[string]record) { delete(m, id) }); err != nil {
		return nil, e.internal("delete", err)
	}
	e.logger.Info("bucket deleted", zap.String("user", a.name), zap.String("bucket_id", id))
	return message{Success: true, Message: "Bucket deleted"}, nil
}

// writableBucket finds a bucket the caller may change; the caller holds the
// state lock.
func (e *Emulator) writableBucket(a *account, id string) (record, *refusal) {
	cur, ok := e.store.buckets[id]
	if !ok || !a.can(cur.WorkspaceID, roleRead) {
		return record{}, refuse(http.StatusNotFound, "Bucket not found")
	}
	if !a.can(cur.WorkspaceID, roleWrite) {
		return record{}, refuse(http.StatusForbidden, "WRITE or ADMIN role required in the bucket's workspace")
	}
	return cur, nil
}

// writable judges a workspace named in a body the way buckets are judged: one
// the caller cannot read is not found, whether or not it exists (users only
// hold roles in declared workspaces).
func writable(a *account, workspace string) *refusal {
	switch {
	case !a.can(workspace, roleRead):
		return refuse(http.StatusNotFound, "workspaceId: workspace not found")
	case !a.can(workspace, roleWrite):
		return refuse(http.StatusForbidden, "workspaceId: WRITE or ADMIN role required in the workspace")
	}
	return nil
}

// internal answers a change the state file could not record; the change has
// been discarded, so memory and file still agree.
func (e *Emulator) internal(op string, err error) *refusal {
	e.logger.Error("state file not written, change discarded", zap.String("op", op), zap.Error(err))
	return refuse(http.StatusInternalServerError, "Failed to %s bucket", op)
}

// newUUID makes a random (version 4) UUID.
func newUUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}
