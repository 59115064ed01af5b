package dialect

import (
	"bytes"
	"encoding/json"
	"github.com/bucketgate/bucketgate/internal/schema"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Kind classifies a refusal independently of any API. Each dialect maps a
// kind to its own status and code, so the pipeline never decides wire details.
type Kind int

const (
	// BadRequest: the document fails the schema or a rule.
	BadRequest Kind = iota + 1
	// BadJSON: the body is not JSON, or is JSON that parsers may read differently.
	BadJSON
	// TooLarge: the body is over the size limit.
	TooLarge
	// MethodNotAllowed: a gated path called with a method it does not take.
	MethodNotAllowed
	// Unauthenticated: no credential, or one the API does not accept.
	Unauthenticated
	// Expired: a credential that was good and has expired; clients sign in
	// again.
	Expired
	// Forbidden: a known caller without the right to make this change.
	Forbidden
	// NotFound: no such bucket.
	NotFound
	// Conflict: the API's own revision test failed.
	Conflict
	// PreconditionFailed: an If-Match header did not match.
	PreconditionFailed
	// PreconditionRequired: a revision is required and none was given.
	PreconditionRequired
	// UpstreamFailed: the upstream could not be reached or answered nonsense.
	UpstreamFailed
	// Unsupported: a good credential that cannot be used this way, such as
	// a key allowed several buckets signing in on a B2 API version older
	// than v4, which can name only one.
	Unsupported
	// UpstreamTimeout: the upstream did not answer within the gateway's
	// deadline.
	UpstreamTimeout
	// PolicyDenied: an operator's policy refused the write.
	PolicyDenied
)

var kindNames = map[Kind]string{
	BadRequest: "bad_request", BadJSON: "bad_json", TooLarge: "too_large", MethodNotAllowed: "method_not_allowed",
	Unauthenticated: "unauthenticated", Expired: "expired", Forbidden: "forbidden", NotFound: "not_found",
	Conflict: "conflict", PreconditionFailed: "precondition_failed", PreconditionRequired: "precondition_required",
	UpstreamFailed: "upstream_failed", Unsupported: "unsupported", UpstreamTimeout: "upstream_timeout",
	PolicyDenied: "policy_denied",
}

// String names k in logs and metrics.
func (k Kind) String() string { return kindNames[k] }

// Status is the HTTP status most APIs use for k; dialects may differ.
func (k Kind) Status() int {
	switch k {
	case BadRequest, BadJSON:
		return http.StatusBadRequest
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case Unauthenticated, Expired, Unsupported:
		return http.StatusUnauthorized
	case Forbidden, PolicyDenied:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case PreconditionFailed:
		return http.StatusPreconditionFailed
	case PreconditionRequired:
		return http.StatusPreconditionRequired
	case UpstreamTimeout:
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadGateway
	}
}

// Error is a refusal, rendered by the client's dialect in its own shape.
// Message must never contain a submitted value: only field paths and rules.
type Error struct {
	Kind    Kind
	Message string
	// Fields names the fields at fault, for the decision log.
	Fields []string
	// Cause is why an upstream call failed, for the decision log only:
	// clients get Message, which does not reveal the gateway's network.
	Cause string
}

func (e *Error) Error() string { return e.Message }

// NewError returns a refusal of kind k with message msg, naming no field.
// msg is used as written: it is not a format.
func NewError(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// Violation is one failed check of a document (schema.Violation), so that
// the schema's failures and the rules' are reported as one list.
type Violation = schema.Violation

// Invalid builds the BadRequest refusal for a set of violations, naming every
// failing field in one message, once, in path order.
func Invalid(vs []Violation) *Error {
	vs = byPath(vs)
	var b strings.Builder
	b.WriteString("invalid request: ")
	fields := make([]string, 0, len(vs))
	for i, v := range vs {
		if i > 0 {
			b.WriteString("; ")
		}
		if v.Path != "" {
			b.WriteString(v.Path)
			b.WriteString(": ")
			fields = append(fields, v.Path)
		}
		b.WriteString(v.Message)
	}
	return &Error{Kind: BadRequest, Message: b.String(), Fields: fields}
}

// byPath sorts violations by path and words several failures of one field
// as one entry, so each field is named once.
func byPath(vs []Violation) []Violation {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Path < vs[j].Path })
	out := vs[:0]
	for _, v := range vs {
		if n := len(out); n > 0 && out[n-1].Path == v.Path {
			out[n-1].Message += ", and " + v.Message
			continue
		}
		out = append(out, v)
	}
	return out
}

// WriteRefusal writes a refusal: v as JSON, without the headers that must
// not go with one, which w may hold from an upstream answer: a retry hint
// (blazer retries anything that carries one) and an ETag.
func WriteRefusal(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Del("Retry-After")
	w.Header().Del("Etag")
	WriteJSON(w, status, contentType, v)
}

// Encode writes v as JSON without HTML escaping: upstreams and clients
// compare strings byte for byte, and messages quote syntax such as
// <access token>.
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// WriteJSON writes v as the whole answer with status, setting the headers
// that describe the body.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, _ := Encode(v)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
