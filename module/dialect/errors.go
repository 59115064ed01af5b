package dialect

import (
	"net/http"
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
)

// Status is the HTTP status most APIs use for k; dialects may differ.
func (k Kind) Status() int {
	switch k {
	case BadRequest, BadJSON:
		return http.StatusBadRequest
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case PreconditionFailed:
		return http.StatusPreconditionFailed
	case PreconditionRequired:
		return http.StatusPreconditionRequired
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
}

func (e *Error) Error() string { return e.Message }

// Errorf is a shorthand for a refusal naming no field.
func Errorf(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// Violation is one failed check of a document.
type Violation struct {
	Path    string // e.g. corsRules[1].maxAgeSeconds; "" for the document itself
	Message string // e.g. "must be at most 86400"
}

// Invalid builds the BadRequest refusal for a set of violations, naming every
// failing field in one message.
func Invalid(vs []Violation) *Error {
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
