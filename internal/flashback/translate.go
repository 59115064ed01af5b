package flashback

import (
	"net/http"
	"strconv"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// credentials are the fields that hand a provider's credentials to
// Flashback; they have no meaning anywhere else.
var credentials = []string{"key", "secret", "apiKeyUuid", "walletAddress"}

// ToChange implements dialect.Translator. A creation sets what an update
// sets; a deletion names the bucket.
func (*Dialect) ToChange(u *dialect.Document) dialect.Change {
	c := dialect.Change{Op: u.Call.Op, BucketID: u.Call.BucketID}
	if c.Op == dialect.OpDelete {
		return c
	}
	set := func(f *dialect.Field[string], name string) {
		if v, ok := u.Str(name); ok {
			*f = dialect.Field[string]{Set: true, Value: v, From: name}
		}
	}
	set(&c.Name, "name")
	set(&c.Workspace, "workspaceId")
	set(&c.ProviderName, "bucket")
	set(&c.StorageType, "storageType")
	set(&c.Region, "region")
	set(&c.Endpoint, "endpoint")
	for _, f := range credentials {
		if u.Has(f) {
			c.Extras = append(c.Extras, dialect.Extra{From: f, Kind: dialect.Credential})
		}
	}
	return c
}

// FromChange implements dialect.Translator: a Flashback bucket has a name,
// a workspace and its provider's coordinates, and nothing else. A creation
// needs the provider's type and credentials, which no other API's creation
// carries, so it is refused saying so.
func (*Dialect) FromChange(c dialect.Change, current dialect.Bucket) (*dialect.Document, []dialect.Violation) {
	switch c.Op {
	case dialect.OpDelete:
		return dialect.BuildDocument(dialect.Call{Op: dialect.OpDelete, BucketID: current.ID}, map[string]any{}), nil
	case dialect.OpCreate:
		return nil, []dialect.Violation{{Message: "a Flashback bucket is created with its provider's storageType and credentials (key and secret, or apiKeyUuid), which this creation cannot carry; create it through the Flashback API"}}
	}
	doc := make(map[string]any)
	var vs []dialect.Violation
	put := func(f dialect.Field[string], name string) {
		if f.Set {
			doc[name] = f.Value
		}
	}
	put(c.Name, "name")
	put(c.Workspace, "workspaceId")
	put(c.ProviderName, "bucket")
	put(c.StorageType, "storageType")
	put(c.Region, "region")
	put(c.Endpoint, "endpoint")
	if c.Public.Set && c.Public.Value {
		vs = append(vs, dialect.Violation{Path: c.Public.From, Message: "a Flashback bucket is private; it cannot be made public"})
	}
	for _, f := range c.Info {
		vs = append(vs, dialect.Violation{Path: f.From, Message: "Flashback keeps a bucket's name and workspace only; this entry has nowhere to go"})
	}
	for _, x := range c.Extras {
		msg := "Flashback has no such setting"
		if x.Kind == dialect.Credential {
			msg = "credentials are not translated"
		}
		vs = append(vs, dialect.Violation{Path: x.From, Message: msg})
	}
	if len(vs) > 0 || len(doc) == 0 {
		return nil, vs
	}
	return dialect.BuildDocument(dialect.Call{Op: dialect.OpUpdate, BucketID: current.ID}, doc), nil
}

// UpdatedBucket implements dialect.Translator: Flashback answers an update
// with the bucket's id only.
func (*Dialect) UpdatedBucket(*dialect.Answer) (dialect.Bucket, bool) { return dialect.Bucket{}, false }

// UpstreamError implements dialect.Translator. A refusal of the gateway's
// own token is the gateway's fault, not the client's, so it is a 502.
func (*Dialect) UpstreamError(a *dialect.Answer) *dialect.Error {
	msg := a.Str("message")
	if msg == "" {
		msg = "HTTP " + strconv.Itoa(a.Status)
	}
	kind := dialect.UpstreamFailed
	switch a.Status {
	case http.StatusBadRequest:
		kind = dialect.BadRequest
	case http.StatusForbidden:
		kind = dialect.Forbidden
	case http.StatusNotFound:
		kind = dialect.NotFound
	}
	return dialect.NewError(kind, "Flashback refused the write: "+msg)
}

// WriteWritten implements dialect.Translator with Flashback's answers: a
// creation's and an update's {success, bucketId}, a deletion's {success}.
func (*Dialect) WriteWritten(w http.ResponseWriter, op dialect.Op, b dialect.Bucket) {
	if op == dialect.OpDelete {
		dialect.WriteJSON(w, http.StatusOK, "application/json; charset=utf-8", struct {
			Success bool `json:"success"`
		}{true})
		return
	}
	dialect.WriteJSON(w, http.StatusOK, "application/json; charset=utf-8", struct {
		Success  bool   `json:"success"`
		BucketID string `json:"bucketId"`
	}{true, b.ID})
}

// Interface guard
var _ dialect.Translator = (*Dialect)(nil)
