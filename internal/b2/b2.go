// Package b2 is the Backblaze B2 native API dialect, /b2api/v1 to v4.
//
//	b2.go        which requests are bucket writes (b2_create_bucket,
//	             b2_update_bucket, b2_delete_bucket) and lists, by POST or
//	             GET; their documents decoded and validated against the
//	             built-in schemas; the token; ifRevisionIs and the
//	             revision in answers (B2's revisions are native).
//	query.go     GET calls: the query parameters read as the JSON body B2
//	             would build from them.
//	rules.go     what B2 refuses that a schema cannot say.
//	errors.go    B2's {status, code, message} errors, and reading them.
//	accounts.go  sign-in: b2_authorize_account (Basic keyId:applicationKey;
//	             v4's storageApi shape), what a key may do (capabilities,
//	             bucket restrictions), and b2_list_buckets by account.
//	translate.go translation to and from neutral terms (a bucket's name,
//	             type, info, CORS and lifecycle rules), and B2's writes
//	             built from a neutral change.
package b2

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
	"github.com/bucketgate/bucketgate/internal/schema"
	"github.com/bucketgate/bucketgate/schemas"
)

// Versions are the API versions whose bucket calls the dialect knows.
// Every version carries the same bodies; only authorize answers differ.
var Versions = []string{"v1", "v2", "v3", "v4"}

const (
	updateCall    = "b2_update_bucket"
	authorizeCall = "b2_authorize_account"
	createCall    = "b2_create_bucket"
	deleteCall    = "b2_delete_bucket"
)

// writeCalls name the writes' calls in paths.
var writeCalls = map[dialect.Op]string{dialect.OpCreate: createCall, dialect.OpUpdate: updateCall, dialect.OpDelete: deleteCall}

// Dialect is the B2 native API.
type Dialect struct {
	// writes are the writes' contracts, by operation; the update's may be
	// the user's own schema.
	writes map[dialect.Op]*schema.Schema
	list   *schema.Schema
	limits jsonscan.Limits
	// nameKey and workspaceKey are the bucketInfo entries that hold a
	// Flashback bucket's display name and workspace in translation.
	nameKey, workspaceKey string
}

// New compiles the dialect's schemas (the built-in update schema unless o
// names a file).
func New(o dialect.Options) (*Dialect, error) {
	if err := CheckOptions(o); err != nil {
		return nil, err
	}
	update, err := schema.Load(o.SchemaFile, schemas.B2UpdateBucket)
	if err != nil {
		return nil, err
	}
	d := &Dialect{writes: map[dialect.Op]*schema.Schema{dialect.OpUpdate: update}, limits: o.Limits}
	d.nameKey, d.workspaceKey = infoKeys(o)
	for op, src := range map[dialect.Op][]byte{dialect.OpCreate: schemas.B2CreateBucket, dialect.OpDelete: schemas.B2DeleteBucket} {
		if d.writes[op], err = schema.Compile(src); err != nil {
			return nil, err
		}
	}
	if d.list, err = schema.Compile(schemas.B2ListBuckets); err != nil {
		return nil, err
	}
	return d, nil
}

// infoKeys are the bucketInfo keys o names for a Flashback bucket's display
// name and workspace, or their defaults.
func infoKeys(o dialect.Options) (nameKey, workspaceKey string) {
	nameKey, workspaceKey = o.NameKey, o.WorkspaceKey
	if nameKey == "" {
		nameKey = DefaultNameKey
	}
	if workspaceKey == "" {
		workspaceKey = DefaultWorkspaceKey
	}
	return nameKey, workspaceKey
}

// CheckOptions refuses bucketInfo keys for a Flashback bucket's name and
// workspace that B2 would refuse, or one key for both: either would make
// translation fail on every update, or mistake a name for a workspace. It
// needs nothing provisioned, so the Caddyfile adapter runs it too.
func CheckOptions(o dialect.Options) error {
	nameKey, workspaceKey := infoKeys(o)
	for _, k := range []struct{ setting, key string }{{"name_info_key", nameKey}, {"workspace_info_key", workspaceKey}} {
		if !validInfoKey(k.key) {
			return &dialect.SettingError{Setting: k.setting,
				Err: fmt.Errorf("%s %q is not a key B2 accepts in bucketInfo: 1 to 50 letters, digits, - and _, not starting with b2-", k.setting, k.key)}
		}
	}
	if nameKey == workspaceKey {
		return &dialect.SettingError{Setting: "workspace_info_key",
			Err: fmt.Errorf("name_info_key and workspace_info_key are both %q: a bucket's name and workspace need keys of their own", nameKey)}
	}
	return nil
}

// validInfoKey applies B2's rule for bucketInfo keys, as the schema's
// propertyNames does.
func validInfoKey(k string) bool {
	if len(k) < 1 || len(k) > 50 || strings.HasPrefix(strings.ToLower(k), "b2-") {
		return false
	}
	for _, c := range []byte(k) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Name implements dialect.Dialect.
func (*Dialect) Name() string { return "b2" }

// Match takes every request as a call of the API, as a site in front of B2
// serves nothing else, and says which: /b2api/<version>/<call>, a download
// (/file/<bucket>/<name>), or another call. The path is cleaned and
// compared without case first, so that no spelling an upstream might route
// to the same call slips past; any version is matched, and unknown ones are
// refused when decoded rather than passed on. Path parameters
// (/b2api;x=1/..., b2_update_bucket;jsessionid=1), which servlet-style
// servers strip before routing, are refused outright.
func (*Dialect) Match(r *http.Request) (dialect.Call, bool) {
	// Cleaned as "/" + the path, without making that string when the path
	// already starts with "/" (a clean path is then returned as it is).
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = path.Clean(p)
	first, rest, _ := strings.Cut(p[1:], "/")
	base, _, _ := strings.Cut(first, ";")
	if !strings.EqualFold(base, "b2api") {
		return dialect.Call{Op: dialect.OpOther, Download: strings.EqualFold(base, "file")}, true
	}
	if strings.Contains(p, ";") {
		return dialect.Call{Op: dialect.OpOther, Refusal: dialect.NewError(dialect.BadRequest,
			"path parameters (;) are not part of the B2 API; call /b2api/<version>/<call>")}, true
	}
	version, name, ok := strings.Cut(rest, "/")
	if !ok {
		return dialect.Call{Op: dialect.OpOther}, true
	}
	call := dialect.Call{Op: dialect.OpOther, Version: version}
	switch strings.ToLower(name) {
	case updateCall:
		call.Op = dialect.OpUpdate
	case authorizeCall:
		call.Op = dialect.OpAuthorize
	case listCall:
		call.Op = dialect.OpList
	case createCall:
		call.Op = dialect.OpCreate
	case deleteCall:
		call.Op = dialect.OpDelete
	}
	return call, true
}

// Decode reads a write from a POST body or from GET query parameters, typed
// by the write's own schema.
func (d *Dialect) Decode(r *http.Request, call dialect.Call, read func() ([]byte, *dialect.Error)) (*dialect.Document, *dialect.Error) {
	return d.decode(r, call, read, d.writes[call.Op].IsStringField)
}

// decode reads a call's document from a POST body or, typed by isString, from
// GET query parameters, as B2 takes both for its bucket calls.
func (d *Dialect) decode(r *http.Request, call dialect.Call, read func() ([]byte, *dialect.Error), isString func(string) bool) (*dialect.Document, *dialect.Error) {
	if !knownVersion(call.Version) {
		return nil, dialect.NewError(dialect.BadRequest, "unsupported API version in path; use one of /b2api/v1 to /b2api/v4")
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, dialect.NewError(dialect.MethodNotAllowed, "B2 bucket calls take POST with a JSON body, or GET with query parameters")
	}
	body, err := read()
	if err != nil {
		return nil, err
	}
	if r.Method == http.MethodPost {
		tree, err := dialect.DecodeObject(body, d.limits)
		if err != nil {
			return nil, err
		}
		return dialect.NewDocument(call, tree, body), nil
	}
	if len(body) > 0 {
		return nil, dialect.NewError(dialect.BadRequest, "a GET call takes its parameters from the query string, not a body")
	}
	doc, err := d.fromQuery(r.URL.RawQuery, isString)
	if err != nil {
		return nil, err
	}
	return dialect.BuildDocument(call, doc), nil
}

func knownVersion(v string) bool {
	for _, k := range Versions {
		if v == k {
			return true
		}
	}
	return false
}

// Credential returns the account authorization token. B2 carries it raw in
// Authorization, with no scheme.
func (*Dialect) Credential(r *http.Request) (string, *dialect.Error) {
	tok := r.Header.Get("Authorization")
	if tok == "" {
		return "", dialect.NewError(dialect.Unauthenticated, "missing Authorization header: send the authorizationToken from b2_authorize_account")
	}
	return tok, nil
}

// SetCredential implements dialect.Dialect: B2 tokens go raw, no scheme.
func (*Dialect) SetCredential(r *http.Request, token string) { r.Header.Set("Authorization", token) }

// Validate checks a write against its call's schema and then the rules the
// schema cannot express, and reports all failures together. A creation
// sets what an update sets, so the update's rules judge the same fields of
// both; a deletion names a bucket and nothing more.
func (d *Dialect) Validate(u *dialect.Document) *dialect.Error {
	doc := u.Tree()
	vs := d.writes[u.Call.Op].Validate(doc)
	if u.Call.Op != dialect.OpDelete {
		vs = append(vs, rules(doc)...)
	}
	if len(vs) == 0 {
		return nil
	}
	return dialect.Invalid(vs)
}

// Contract implements dialect.Dialect.
func (d *Dialect) Contract(op dialect.Op) *schema.Schema { return d.writes[op] }

// BucketID implements dialect.Dialect: a creation names none.
func (*Dialect) BucketID(u *dialect.Document) string {
	id, _ := u.Str("bucketId")
	return id
}

// WrittenID implements dialect.Dialect: every bucket call answers with the
// bucket object.
func (*Dialect) WrittenID(a *dialect.Answer) string { return a.Str("bucketId") }

// Outbound makes r the canonical upstream call: a POST of the validated JSON
// to /b2api/<version>/<call> with no query string, whichever form the
// client used.
func (*Dialect) Outbound(r *http.Request, u *dialect.Document, body []byte) {
	dialect.Rewrite(r, http.MethodPost, "/b2api/"+u.Call.Version+"/"+writeCalls[u.Call.Op], body)
}

// RevisionField implements dialect.NativeRevisions.
func (*Dialect) RevisionField() string { return "ifRevisionIs" }

// BodyRevision implements dialect.NativeRevisions. ifRevisionIs 11.0 or
// 1.1e1 passes the schema as an integer, so it is revision 11 here too.
func (*Dialect) BodyRevision(u *dialect.Document) (int64, bool, *dialect.Error) {
	if !u.Given("ifRevisionIs") {
		return 0, false, nil
	}
	rev, ok := dialect.Integer(u.Get("ifRevisionIs"))
	if !ok {
		return 0, false, &dialect.Error{Kind: dialect.BadRequest, Fields: []string{"ifRevisionIs"},
			Message: "ifRevisionIs must be an integer revision"}
	}
	return rev, true, nil
}

// SetBodyRevision implements dialect.NativeRevisions: the upstream gets the
// revision as a plain integer, whatever spelling the client used.
func (*Dialect) SetBodyRevision(u *dialect.Document, rev int64) {
	n := json.Number(strconv.FormatInt(rev, 10))
	if u.Get("ifRevisionIs") != n {
		u.Set("ifRevisionIs", n)
	}
}

// ResponseRevision implements dialect.NativeRevisions, reading the
// revision as the integer the answer writes.
func (*Dialect) ResponseRevision(a *dialect.Answer) (int64, bool, *dialect.Error) {
	root, derr := a.Object("B2's answer")
	if derr != nil {
		return 0, false, derr
	}
	n, ok := root.Get("revision").Number()
	if !ok {
		return 0, false, nil
	}
	rev, ok := dialect.Integer(n)
	return rev, ok, nil
}

// IsConflict implements dialect.NativeRevisions: B2 answers a failed
// ifRevisionIs with 409 conflict.
func (*Dialect) IsConflict(a *dialect.Answer) bool { return a.Status == http.StatusConflict }

// Interface guards
var (
	_ dialect.Dialect         = (*Dialect)(nil)
	_ dialect.NativeRevisions = (*Dialect)(nil)
	_ dialect.SignIn          = (*Dialect)(nil)
	_ dialect.Scopes          = (*Dialect)(nil)
	_ dialect.AccountLists    = (*Dialect)(nil)
)
