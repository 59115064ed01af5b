// Package dialect defines what the gateway needs from one storage API's wire
// format, and the values that pass between a dialect and the gateway's one
// pipeline. The gateway knows no API: each dialect knows its own paths,
// schemas and the rules a schema cannot say, where the bucket id and the
// credential are, and how its errors look.
//
// What it holds, by file:
//
//	dialect.go   the calls (Call, Op: create, update, delete, list, the
//	             others), the Dialect every API implements, and the
//	             optional interfaces an API has or lacks (native revisions,
//	             workspaces).
//	document.go  a write's document (Document): the body as received, read
//	             as a jsonscan tree, sent byte for byte unless edited.
//	decode.go    bodies decoded strictly, once, under the limits.
//	answer.go    an upstream's answer (Answer), parsed once and strictly:
//	             what the gateway decides from it and what it returns come
//	             from that one parse.
//	errors.go    refusals (Error, Kind) and schema violations, which each
//	             dialect words in its own error shape.
//	accounts.go  sign-in, scopes and account lists, for an API with accounts
//	             (B2).
//	lists.go     lists by workspace, for an API with workspaces (Flashback).
//	bucket.go    translation: a bucket in neutral terms (Bucket), a write as
//	             a neutral change (Change), and the Translator and
//	             BucketReader an API implements to take part.
package dialect

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
	"github.com/bucketgate/bucketgate/internal/schema"
)

// Op is the kind of call a dialect recognised.
type Op int

const (
	// OpUpdate is a bucket update.
	OpUpdate Op = iota + 1
	// OpAuthorize is an API's sign-in call (B2's b2_authorize_account).
	OpAuthorize
	// OpList lists buckets (B2's b2_list_buckets).
	OpList
	// OpCreate creates a bucket (B2's b2_create_bucket, Flashback's
	// POST /bucket).
	OpCreate
	// OpOther is any other call of the API, which only identity handling
	// (token routing, gateway keys) may need to look at.
	OpOther
	// OpDelete deletes a bucket (B2's b2_delete_bucket, Flashback's
	// DELETE /bucket/{bucketId}).
	OpDelete
)

// Writes reports whether op writes a bucket's configuration: a creation,
// an update or a deletion, the calls the gateway exists to make safe. Each
// runs the same pipeline; they differ in their contract (a schema per
// operation), the capability or role they need, and whether a bucket
// exists before them.
func (op Op) Writes() bool { return op == OpCreate || op == OpUpdate || op == OpDelete }

// Call is a request a dialect recognised as one it gates.
type Call struct {
	Op Op
	// Version is the API version named by the path, such as "v3" for B2.
	Version string
	// BucketID is the bucket named by the path, for APIs that put it there.
	BucketID string
	// Download is set for a file download (B2's /file/<bucket>/<name>),
	// which the gateway never answers: downloads go to the download URL a
	// sign-in hands out, the storage's own.
	Download bool
	// Refusal, when set, refuses the call as recognised: a spelling of the
	// API's paths or methods that an upstream might still route to a gated
	// call (path parameters, methods the API does not define), which the
	// gateway neither judges nor forwards.
	Refusal *Error
}

// Dialect is one storage API's wire format, as seen from the gateway.
type Dialect interface {
	// Name is the dialect's name in configuration, such as "b2".
	Name() string
	// Match reports whether r is a call of this API, and which. It looks
	// only at the method and path, so other requests cost nothing more.
	Match(r *http.Request) (Call, bool)
	// Decode turns a write (call.Op Writes) into its document. read returns
	// the request body under the gateway's size limit; the dialect calls it
	// only once what it can check without the body has passed.
	Decode(r *http.Request, call Call, read func() ([]byte, *Error)) (*Document, *Error)
	// Credential returns the caller's credential as the API carries it.
	Credential(r *http.Request) (string, *Error)
	// SetCredential makes r carry token as the API expects it.
	SetCredential(r *http.Request, token string)
	// Validate checks a write against its operation's contract: the schema
	// and the rules a schema cannot express, reporting every failure at once.
	Validate(u *Document) *Error
	// Contract is the schema writes of op are validated against; nil for a
	// write without a body.
	Contract(op Op) *schema.Schema
	// BucketID returns the id of the bucket a write changes or deletes; ""
	// for a creation.
	BucketID(u *Document) string
	// WrittenID returns the id of the bucket a successful write's answer
	// names, such as the one a creation made; "" when it names none.
	WrittenID(a *Answer) string
	// Outbound rewrites r into the upstream request that carries the write
	// u, as body (nil for a write that has none).
	Outbound(r *http.Request, u *Document, body []byte)
	// WriteError writes e in this API's error shape.
	WriteError(w http.ResponseWriter, e *Error)
	// CheckAnswer refuses an upstream answer that this API's clients could
	// not act on, so that it becomes a 502 in the API's shape; nil passes
	// the answer on as the upstream sent it.
	CheckAnswer(a *Answer) *Error
}

// Revisions are int64 in every dialect and reach clients as ETag "<n>", so
// one If-Match and ETag mechanism serves APIs that have revisions and APIs
// that do not. A dialect whose API has a revision implements
// NativeRevisions; for one that has none, the gateway derives a revision
// from the bucket's state as the dialect's BucketReader reads it (leaving
// out the fields that change on their own), compares it itself, and
// serialises the check with the write.

// NativeRevisions is implemented by dialects whose API has a bucket revision
// that the upstream itself compares (B2's ifRevisionIs).
type NativeRevisions interface {
	// RevisionField names the body field that carries the revision
	// precondition (B2's ifRevisionIs), for refusals that name it.
	RevisionField() string
	// BodyRevision returns the revision precondition carried in the body,
	// read exactly as the schema validated it (see Integer). A value that
	// is present but no integer is refused, never taken as no precondition.
	BodyRevision(u *Document) (int64, bool, *Error)
	// SetBodyRevision sets the revision precondition in the body, written
	// as a plain integer; a body that already says so is left as sent.
	SetBodyRevision(u *Document, rev int64)
	// ResponseRevision reads the bucket's revision from a successful
	// answer; ok is false when the answer names none.
	ResponseRevision(a *Answer) (rev int64, ok bool, err *Error)
	// IsConflict reports whether an upstream answer is a failed revision test.
	IsConflict(a *Answer) bool
}

// Options configure a dialect when a handler is provisioned.
type Options struct {
	// SchemaFile replaces the dialect's built-in schema when not empty.
	SchemaFile string
	// Limits bound the JSON documents the dialect decodes.
	Limits jsonscan.Limits
	// NameKey and WorkspaceKey are the B2 bucketInfo entries that hold a
	// Flashback bucket's display name and workspace in translation.
	NameKey, WorkspaceKey string
	// Translated is set for the client's side of a gateway that translates
	// into another API: what only its own service needs of a write (a
	// Flashback bucket's provider credentials, which the upstream API does
	// not keep) is not asked of the client.
	Translated bool
}

// SettingError is a refusal of a configuration that names the setting at
// fault as it is written in a Caddyfile ("upstream realm", "key k1"), so
// that the Caddyfile adapter can report it at that setting's file and line;
// a JSON configuration gets the message as it is.
type SettingError struct {
	Setting string
	Err     error
}

func (e *SettingError) Error() string { return e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// Workspaces is implemented by dialects whose buckets live in workspaces in
// which keys hold roles (Flashback's READ, WRITE and ADMIN).
type Workspaces interface {
	// Workspace returns the workspace a write names: where a creation puts
	// its bucket, or where an update moves it.
	Workspace(u *Document) (string, bool)
}

// Rewrite turns r into a call of method on path carrying body (none when
// body is nil), with no query string: what reaches the upstream is the
// canonical form of the call, whatever form the client used.
func Rewrite(r *http.Request, method, path string, body []byte) {
	r.Method = method
	r.URL.Path, r.URL.RawPath, r.URL.RawQuery = path, "", ""
	r.RequestURI = r.URL.RequestURI()
	if body == nil {
		r.Body, r.GetBody, r.ContentLength = http.NoBody, nil, 0
		r.Header.Del("Content-Length")
		r.Header.Del("Content-Type")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.Header.Set("Content-Type", "application/json")
}
