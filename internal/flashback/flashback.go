// Package flashback is the Flashback platform API dialect.
//
//	flashback.go  which requests are bucket writes (POST /bucket, PUT and
//	              DELETE /bucket/{bucketId}) and lists (GET /bucket); their
//	              documents decoded and validated against the built-in
//	              schemas; Bearer tokens; workspaces.
//	rules.go      what Flashback refuses that a schema cannot say: bucket
//	              names by storage type, endpoints, and a creation's storage
//	              credentials (unless the gateway translates and supplies
//	              them).
//	errors.go     Flashback's {success, message} errors, and reading them.
//	revision.go   the revisions the gateway derives for an API that has
//	              none: a digest of the fields only an update changes, of
//	              the bucket as GET /bucket lists it.
//	lists.go      GET /bucket, by workspace.
//	translate.go  translation to and from neutral terms, and Flashback's
//	              writes built from a neutral change.
package flashback

import (
	"net/http"
	"path"
	"strings"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
	"github.com/bucketgate/bucketgate/internal/schema"
	"github.com/bucketgate/bucketgate/schemas"
)

// maxBucketIDLen bounds the path's bucket id; Flashback's own ids are
// 36-character UUIDs.
const maxBucketIDLen = 128

// Dialect is the Flashback platform API.
type Dialect struct {
	// writes are the writes' contracts, by operation (a deletion's is its
	// path); the update's may be the user's own schema.
	writes map[dialect.Op]*schema.Schema
	limits jsonscan.Limits
	// credentialsElsewhere is set when the upstream is another API, which
	// keeps no provider credentials: a creation need not bring them.
	credentialsElsewhere bool
}

// New compiles the dialect's schemas (the built-in update schema unless o
// names a file).
func New(o dialect.Options) (*Dialect, error) {
	update, err := schema.Load(o.SchemaFile, schemas.FlashbackUpdateBucket)
	if err != nil {
		return nil, err
	}
	create, err := schema.Compile(schemas.FlashbackCreateBucket)
	if err != nil {
		return nil, err
	}
	return &Dialect{writes: map[dialect.Op]*schema.Schema{dialect.OpUpdate: update, dialect.OpCreate: create},
		limits: o.Limits, credentialsElsewhere: o.Translated}, nil
}

// Name implements dialect.Dialect.
func (*Dialect) Name() string { return "flashback" }

// Match recognises POST /bucket as a creation, PUT /bucket/{bucketId} as an
// update, DELETE /bucket/{bucketId} as a deletion and GET /bucket as the
// bucket list, and takes every other request as another call of the API:
// a site that fronts Flashback serves nothing else. The path is cleaned and its first segment compared
// without case, as Flashback's router does, so no variant of the path
// reaches the upstream unvalidated. Path parameters (;) anywhere under
// /bucket, and methods Flashback does not define on /bucket/{bucketId}
// (PATCH, POST, ...), are refused, since a router that strips the one or
// maps the other could still reach the update.
func (*Dialect) Match(r *http.Request) (dialect.Call, bool) {
	p := path.Clean("/" + r.URL.Path)
	first, rest, _ := strings.Cut(p[1:], "/")
	base, _, _ := strings.Cut(first, ";")
	if !strings.EqualFold(base, "bucket") {
		return dialect.Call{Op: dialect.OpOther}, true
	}
	if strings.Contains(p, ";") {
		return dialect.Call{Op: dialect.OpOther, Refusal: dialect.NewError(dialect.BadRequest,
			"invalid request: path parameters (;) are not part of the Flashback API")}, true
	}
	switch {
	case rest == "" && r.Method == http.MethodGet:
		return dialect.Call{Op: dialect.OpList}, true
	case rest == "" && r.Method == http.MethodPost:
		return dialect.Call{Op: dialect.OpCreate}, true
	case rest == "":
		return dialect.Call{Op: dialect.OpOther}, true
	case r.Method == http.MethodPut:
		// Any id, so that one Decode refuses the malformed ones.
		return dialect.Call{Op: dialect.OpUpdate, BucketID: rest}, true
	case r.Method == http.MethodDelete && !strings.Contains(rest, "/"):
		return dialect.Call{Op: dialect.OpDelete, BucketID: rest}, true
	case strings.Contains(rest, "/"):
		return dialect.Call{Op: dialect.OpOther}, true
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return dialect.Call{Op: dialect.OpOther}, true
	}
	return dialect.Call{Op: dialect.OpOther, Refusal: dialect.NewError(dialect.MethodNotAllowed,
		"invalid request: /bucket/{bucketId} takes PUT to update a bucket, or DELETE")}, true
}

// Decode checks the path's bucket id before reading anything, then reads
// the body as one JSON object; an update's names at least one field. A
// deletion has no body: Flashback reads none, and none is sent on.
func (d *Dialect) Decode(_ *http.Request, call dialect.Call, read func() ([]byte, *dialect.Error)) (*dialect.Document, *dialect.Error) {
	if call.Op != dialect.OpCreate && !validBucketID(call.BucketID) {
		return nil, &dialect.Error{Kind: dialect.BadRequest, Fields: []string{"bucketId"},
			Message: "invalid request: bucketId in the path must be one segment of 1 to 128 letters, digits, '-' or '_'"}
	}
	if call.Op == dialect.OpDelete {
		return dialect.BuildDocument(call, map[string]any{}), nil
	}
	body, err := read()
	if err != nil {
		return nil, err
	}
	doc, err := dialect.DecodeObject(body, d.limits)
	if err != nil {
		return nil, err
	}
	if call.Op == dialect.OpUpdate && doc.Len() == 0 {
		return nil, dialect.NewError(dialect.BadRequest, "invalid request: the body names no field to change; send at least one of name, storageType, bucket, key, secret, region, endpoint, workspaceId, walletAddress, apiKeyUuid")
	}
	return dialect.NewDocument(call, doc, body), nil
}

func validBucketID(id string) bool {
	if id == "" || len(id) > maxBucketIDLen {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Credential returns the Bearer token. A header that is not one Bearer
// token of token68 characters (RFC 6750) is refused here, so a malformed
// credential never reaches the upstream.
func (*Dialect) Credential(r *http.Request) (string, *dialect.Error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", dialect.NewError(dialect.Unauthenticated, "missing Authorization header: send Authorization: Bearer <access token>")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !isToken68(tok) {
		return "", dialect.NewError(dialect.Unauthenticated, "malformed Authorization header: expected Bearer <access token>")
	}
	return tok, nil
}

func isToken68(s string) bool {
	s = strings.TrimRight(s, "=")
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~+/", c)) {
			return false
		}
	}
	return true
}

// SetCredential implements dialect.Dialect.
func (*Dialect) SetCredential(r *http.Request, token string) {
	r.Header.Set("Authorization", "Bearer "+token)
}

// Validate checks a creation or an update against its schema and the rules
// it leaves to code; a deletion's contract is its path, checked in Decode.
func (d *Dialect) Validate(u *dialect.Document) *dialect.Error {
	s, ok := d.writes[u.Call.Op]
	if !ok {
		return nil
	}
	doc := u.Tree()
	vs := s.Validate(doc)
	vs = append(vs, rules(doc)...)
	if u.Call.Op == dialect.OpCreate && !d.credentialsElsewhere {
		vs = append(vs, requireCredentials(doc)...)
	}
	if len(vs) == 0 {
		return nil
	}
	return dialect.Invalid(vs)
}

// Contract implements dialect.Dialect: a deletion has no body, and none.
func (d *Dialect) Contract(op dialect.Op) *schema.Schema { return d.writes[op] }

// BucketID implements dialect.Dialect: Flashback names the bucket in the path.
func (*Dialect) BucketID(u *dialect.Document) string { return u.Call.BucketID }

// WrittenID implements dialect.Dialect: a creation, like an update, is
// answered {"success": true, "bucketId": ...}.
func (*Dialect) WrittenID(a *dialect.Answer) string { return a.Str("bucketId") }

// Outbound makes r the canonical call: POST /bucket, PUT or DELETE
// /bucket/{bucketId}, with the validated body (none for a deletion) and no
// query string.
func (*Dialect) Outbound(r *http.Request, u *dialect.Document, body []byte) {
	switch u.Call.Op {
	case dialect.OpCreate:
		dialect.Rewrite(r, http.MethodPost, "/bucket", body)
	case dialect.OpDelete:
		dialect.Rewrite(r, http.MethodDelete, "/bucket/"+u.Call.BucketID, nil)
	default:
		dialect.Rewrite(r, http.MethodPut, "/bucket/"+u.Call.BucketID, body)
	}
}

// Interface guards
var (
	_ dialect.Dialect      = (*Dialect)(nil)
	_ dialect.BucketReader = (*Dialect)(nil)
	_ dialect.Workspaces   = (*Dialect)(nil)
)
