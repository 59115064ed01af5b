package b2

import (
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// Default bucketInfo entries that hold a Flashback bucket's display name and
// workspace when one API is translated into the other.
const (
	DefaultNameKey      = "name"
	DefaultWorkspaceKey = "workspaceId"
)

// ReadRequest implements dialect.Translator: B2 has no call that reads one
// bucket; every client lists with a bucketId instead. Without an id, the
// call lists every bucket of the account.
func (*Dialect) ReadRequest(sub *http.Request, bucketID, accountID string) {
	doc := map[string]any{"accountId": accountID, "bucketTypes": []string{"all"}}
	if bucketID != "" {
		doc["bucketId"] = bucketID
	}
	body, _ := json.Marshal(doc)
	dialect.Rewrite(sub, http.MethodPost, "/b2api/v3/"+listCall, body)
}

// ReadBucket implements dialect.Translator, with the bucket's own object as
// its Entry.
func (d *Dialect) ReadBucket(a *dialect.Answer, bucketID string) (dialect.Bucket, *dialect.Error) {
	buckets, objects, err := d.readList(a)
	if err != nil {
		return dialect.Bucket{}, err
	}
	for i, b := range buckets {
		if b.ID == bucketID {
			b.Entry, _ = objects[i].Native(false).(map[string]any)
			return b, nil
		}
	}
	return dialect.Bucket{}, dialect.NewError(dialect.NotFound, "B2 has no such bucket, or not for this account")
}

// ReadBuckets implements dialect.Translator, with each bucket's own object
// as its Entry.
func (d *Dialect) ReadBuckets(a *dialect.Answer) ([]dialect.Bucket, *dialect.Error) {
	buckets, objects, err := d.readList(a)
	for i := range buckets {
		buckets[i].Entry, _ = objects[i].Native(false).(map[string]any)
	}
	return buckets, err
}

// readList reads a list answer's buckets, and each one's object.
func (d *Dialect) readList(a *dialect.Answer) ([]dialect.Bucket, []jsonscan.Value, *dialect.Error) {
	if a.Status != http.StatusOK {
		return nil, nil, d.UpstreamError(a)
	}
	_, list, derr := bucketList(a)
	if derr != nil {
		return nil, nil, derr
	}
	out := make([]dialect.Bucket, 0, list.Len())
	objects := make([]jsonscan.Value, 0, list.Len())
	for _, v := range list.Items() {
		b, derr := d.bucket(v)
		if derr != nil {
			return nil, nil, derr
		}
		out, objects = append(out, b), append(objects, v)
	}
	return out, objects, nil
}

// bucket reads a B2 bucket object, each field it reads of the type B2
// gives it. Region and Endpoint are the upstream's, which the gateway knows
// from its sign-in, not the bucket object.
func (d *Dialect) bucket(v jsonscan.Value) (dialect.Bucket, *dialect.Error) {
	bad := func(what string) (dialect.Bucket, *dialect.Error) {
		return dialect.Bucket{}, dialect.NewError(dialect.UpstreamFailed, "a B2 bucket cannot be read: "+what)
	}
	if v.Type() != jsonscan.Object {
		return bad("it is not an object")
	}
	out := dialect.Bucket{StorageType: "S3", Info: map[string]string{}}
	var bucketType string
	for _, f := range []struct {
		name string
		dst  *string
	}{{"bucketId", &out.ID}, {"accountId", &out.AccountID}, {"bucketName", &out.ProviderName}, {"bucketType", &bucketType}} {
		field := v.Get(f.name)
		s, ok := field.Str()
		if field.Given() && !ok {
			return bad(f.name + " is not a string")
		}
		*f.dst = s
	}
	if out.ID == "" {
		return bad("it has no bucketId")
	}
	out.Public = bucketType == "allPublic"
	if rev := v.Get("revision"); rev.Given() {
		n, _ := rev.Number()
		r, ok := dialect.Integer(n)
		if !ok {
			return bad("revision is not an integer")
		}
		out.Revision = r
	}
	info := v.Get("bucketInfo")
	if info.Given() && info.Type() != jsonscan.Object {
		return bad("bucketInfo is not an object")
	}
	for k, e := range info.Members() {
		key, _ := k.Str()
		value, ok := e.Str()
		if !ok {
			return bad("a bucketInfo value is not a string")
		}
		switch key {
		case d.nameKey:
			out.Name = value
		case d.workspaceKey:
			out.Workspace = value
		default:
			out.Info[key] = value
		}
	}
	return out, nil
}

// ToChange implements dialect.Translator. A creation and an update set the
// same settings, and a creation names the bucket too. Settings whose values
// change nothing (empty lists, null or "none" modes, Object Lock left off),
// which real clients send routinely, are dropped rather than refused
// elsewhere.
func (d *Dialect) ToChange(u *dialect.Document) dialect.Change {
	c := dialect.Change{Op: u.Call.Op, BucketID: d.BucketID(u)}
	if c.Op == dialect.OpDelete {
		return c
	}
	doc := u.Map()
	if name, ok := doc["bucketName"].(string); ok {
		c.ProviderName = dialect.Field[string]{Set: true, Value: name, From: "bucketName"}
	}
	if t, ok := doc["bucketType"].(string); ok {
		c.Public = dialect.Field[bool]{Set: true, Value: t == "allPublic", From: "bucketType"}
	}
	if info, ok := doc["bucketInfo"].(map[string]any); ok {
		for k, v := range info {
			f := dialect.Field[string]{Set: true, From: "bucketInfo." + k}
			f.Value, _ = v.(string)
			switch k {
			case d.nameKey:
				c.Name = f
			case d.workspaceKey:
				c.Workspace = f
			default:
				if c.Info == nil {
					c.Info = make(map[string]dialect.Field[string])
				}
				c.Info[k] = f
			}
		}
	}
	for _, field := range []string{"corsRules", "lifecycleRules", "defaultServerSideEncryption", "defaultRetention", "fileLockEnabled", "replicationConfiguration"} {
		if v, ok := doc[field]; ok && !changesNothing(v) {
			c.Extras = append(c.Extras, dialect.Extra{From: field, Kind: dialect.Setting})
		}
	}
	return c
}

// changesNothing reports whether a B2 setting's value leaves a bucket as a
// bucket without that setting: [], false, {"mode": null|"none"}, or an
// object whose every part is null.
func changesNothing(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case map[string]any:
		if mode, ok := x["mode"]; ok {
			return (mode == nil || mode == "none") && x["period"] == nil
		}
		for _, part := range x {
			if part != nil {
				return false
			}
		}
		return true
	}
	return false
}

// FromChange implements dialect.Translator. A deletion names the bucket; a
// creation is a new bucket with the change's name, type and bucketInfo, in
// the upstream's account. B2 replaces bucketInfo whole, so an update's
// entries are merged into the bucket's current ones, and the write is made
// conditional on the revision they were read at.
func (d *Dialect) FromChange(c dialect.Change, current dialect.Bucket) (*dialect.Document, []dialect.Violation) {
	if c.Op == dialect.OpDelete {
		return dialect.BuildDocument(dialect.Call{Op: dialect.OpDelete, Version: "v3"},
			map[string]any{"accountId": current.AccountID, "bucketId": current.ID}), nil
	}
	var vs []dialect.Violation
	refuse := func(from, msg string) { vs = append(vs, dialect.Violation{Path: from, Message: msg}) }
	if c.Op == dialect.OpUpdate && c.ProviderName.Set && c.ProviderName.Value != current.ProviderName {
		refuse(c.ProviderName.From, "B2 cannot rename a bucket; it must stay the B2 bucket's name")
	}
	if c.StorageType.Set && c.StorageType.Value != "S3" {
		refuse(c.StorageType.From, "B2 is reached as S3; GCS and BLOB are other providers")
	}
	if c.Region.Set && !strings.EqualFold(c.Region.Value, regionOf(current.Endpoint)) {
		refuse(c.Region.From, upstreamIs("region", regionOf(current.Endpoint)))
	}
	if c.Endpoint.Set && !sameURL(c.Endpoint.Value, current.Endpoint) {
		refuse(c.Endpoint.From, upstreamIs("S3 endpoint", current.Endpoint))
	}
	for _, x := range c.Extras {
		msg := "not translated"
		if x.Kind == dialect.Credential {
			msg = "B2 keeps bucketInfo unencrypted, so credentials are never stored there"
		}
		refuse(x.From, msg)
	}
	if len(vs) > 0 {
		return nil, vs
	}
	if c.Op == dialect.OpCreate {
		return d.creation(c, current.AccountID), nil
	}

	info := maps.Clone(current.Info)
	if info == nil {
		info = map[string]string{}
	}
	setInfo := func(key, value string) {
		if value != "" {
			info[key] = value
		}
	}
	setInfo(d.nameKey, current.Name)
	setInfo(d.workspaceKey, current.Workspace)
	before := maps.Clone(info)
	if c.Name.Set {
		info[d.nameKey] = c.Name.Value
	}
	if c.Workspace.Set {
		info[d.workspaceKey] = c.Workspace.Value
	}
	for k, f := range c.Info {
		info[k] = f.Value
	}

	doc := map[string]any{"accountId": current.AccountID, "bucketId": current.ID}
	if !maps.Equal(info, before) {
		asAny := make(map[string]any, len(info))
		for k, v := range info {
			asAny[k] = v
		}
		doc["bucketInfo"] = asAny
	}
	if c.Public.Set && c.Public.Value != current.Public {
		doc["bucketType"] = map[bool]string{true: "allPublic", false: "allPrivate"}[c.Public.Value]
	}
	if len(doc) == 2 {
		return nil, nil
	}
	doc["ifRevisionIs"] = json.Number(strconv.FormatInt(current.Revision, 10))
	return dialect.BuildDocument(dialect.Call{Op: dialect.OpUpdate, Version: "v3"}, doc), nil
}

// creation is c as b2_create_bucket in account: the bucket's name, its
// type, and its display name, workspace and other entries in bucketInfo.
func (d *Dialect) creation(c dialect.Change, account string) *dialect.Document {
	bucketType := "allPrivate"
	if c.Public.Value {
		bucketType = "allPublic"
	}
	doc := map[string]any{"accountId": account, "bucketName": c.ProviderName.Value, "bucketType": bucketType}
	info := make(map[string]any, len(c.Info)+2)
	for k, f := range c.Info {
		info[k] = f.Value
	}
	for _, f := range []struct {
		key   string
		field dialect.Field[string]
	}{{d.nameKey, c.Name}, {d.workspaceKey, c.Workspace}} {
		if f.field.Set && f.field.Value != "" {
			info[f.key] = f.field.Value
		}
	}
	if len(info) > 0 {
		doc["bucketInfo"] = info
	}
	return dialect.BuildDocument(dialect.Call{Op: dialect.OpCreate, Version: "v3"}, doc)
}

// regionOf reads the region from a B2 S3 endpoint such as
// https://s3.us-west-004.backblazeb2.com.
func regionOf(endpoint string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://")
	region, ok := strings.CutPrefix(strings.TrimSuffix(host, ".backblazeb2.com"), "s3.")
	if !ok || region == host || strings.ContainsAny(region, ".:/") {
		return ""
	}
	return region
}

// upstreamIs words a refusal of a value that must be the upstream's own; the
// upstream's value is no secret, and saying it saves a guess.
func upstreamIs(what, value string) string {
	if value == "" {
		return "must be the B2 upstream's " + what + ", which it does not report"
	}
	return "must be the B2 upstream's " + what + ", " + value
}

func sameURL(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}

// UpdatedBucket implements dialect.Translator: B2 answers an update with the
// bucket object.
func (d *Dialect) UpdatedBucket(a *dialect.Answer) (dialect.Bucket, bool) {
	root, derr := a.Object("B2's answer")
	if derr != nil {
		return dialect.Bucket{}, false
	}
	b, derr := d.bucket(root)
	return b, derr == nil
}

// UpstreamError implements dialect.Translator with the statuses a client of
// the other API acts on: a missing bucket is not found, a capability refusal
// is forbidden, a token B2 refuses is the gateway's own and so its failure.
func (*Dialect) UpstreamError(a *dialect.Answer) *dialect.Error {
	code, msg := a.Str("code"), a.Str("message")
	if msg == "" {
		msg = code
	}
	if msg == "" {
		msg = "HTTP " + strconv.Itoa(a.Status)
	}
	kind := dialect.UpstreamFailed
	switch {
	case code == "bad_bucket_id":
		kind = dialect.NotFound
	case code == "unauthorized" || a.Status == http.StatusForbidden:
		kind = dialect.Forbidden
	case a.Status == http.StatusConflict:
		kind = dialect.Conflict
	case a.Status == http.StatusBadRequest:
		kind = dialect.BadRequest
	}
	return dialect.NewError(kind, "B2 refused the write: "+msg)
}

// WriteWritten implements dialect.Translator with a complete bucket object,
// as B2 answers every bucket call: B2 clients dereference every part of it.
func (d *Dialect) WriteWritten(w http.ResponseWriter, _ dialect.Op, b dialect.Bucket) {
	w.Header().Set("Cache-Control", "max-age=0, no-cache, no-store")
	dialect.WriteJSON(w, http.StatusOK, "application/json;charset=utf-8", d.bucketObject(b))
}

// Describe implements dialect.Translator: b as B2 reports a bucket.
func (d *Dialect) Describe(b dialect.Bucket) map[string]any { return d.bucketObject(b) }

// WriteBuckets implements dialect.AccountLists.
func (d *Dialect) WriteBuckets(w http.ResponseWriter, buckets []dialect.Bucket) {
	list := make([]any, 0, len(buckets))
	for _, b := range buckets {
		list = append(list, d.bucketObject(b))
	}
	w.Header().Set("Cache-Control", "max-age=0, no-cache, no-store")
	dialect.WriteJSON(w, http.StatusOK, "application/json;charset=utf-8", map[string]any{"buckets": list})
}

// bucketObject is b as B2 reports a bucket. A bucket from another API has
// none of B2's storage settings, and says so in B2's words.
func (d *Dialect) bucketObject(b dialect.Bucket) map[string]any {
	info := make(map[string]any, len(b.Info)+2)
	for k, v := range b.Info {
		info[k] = v
	}
	if b.Name != "" {
		info[d.nameKey] = b.Name
	}
	if b.Workspace != "" {
		info[d.workspaceKey] = b.Workspace
	}
	bucketType := "allPrivate"
	if b.Public {
		bucketType = "allPublic"
	}
	return map[string]any{
		"accountId": b.AccountID, "bucketId": b.ID, "bucketName": b.ProviderName, "bucketType": bucketType,
		"bucketInfo": info, "corsRules": []any{}, "lifecycleRules": []any{}, "options": []string{"s3"},
		"revision": b.Revision,
		"defaultServerSideEncryption": map[string]any{"isClientAuthorizedToRead": true,
			"value": map[string]any{"algorithm": nil, "mode": nil}},
		"fileLockConfiguration": map[string]any{"isClientAuthorizedToRead": true,
			"value": map[string]any{"defaultRetention": map[string]any{"mode": nil, "period": nil}, "isFileLockEnabled": false}},
		"replicationConfiguration": map[string]any{"isClientAuthorizedToRead": true, "value": nil},
	}
}

// Interface guard
var _ dialect.Translator = (*Dialect)(nil)
