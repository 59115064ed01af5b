package dialect

import (
	"strconv"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// Answer is an upstream's answer as the gateway reads it: its status, its
// body (with the gateway's own credentials already scrubbed, where it
// relays them), and that body parsed once, strictly, on first use.
//
// Strictly means jsonscan's rules: a repeated key, invalid UTF-8 or a
// pathological document is refused, never read one way by the gateway and
// another by the client (the first of two equal keys wins in one parser,
// the last in another). Every dialect reads an answer through Doc, so that
// what the gateway decides from an answer (which buckets a key may see,
// the revision it hands out) and what it returns of it come from that one
// parse.
type Answer struct {
	Status int
	Body   []byte

	parsed bool
	doc    jsonscan.Value
	err    *Error
}

// NewAnswer returns the answer of status with body, not yet parsed.
func NewAnswer(status int, body []byte) *Answer {
	return &Answer{Status: status, Body: body}
}

// answerLimits bound what an upstream's answer may nest and how long its
// numbers may be: far beyond what either API answers (B2's deepest field
// is at depth 6), and yet a bound.
var answerLimits = jsonscan.Limits{MaxDepth: 32, MaxNumberLen: 64}

// Doc is the body parsed, or the refusal of an answer that is not one
// strict JSON document: the client gets a 502 in its API's shape.
func (a *Answer) Doc() (jsonscan.Value, *Error) {
	if !a.parsed {
		a.parsed = true
		v, err := jsonscan.Parse(a.Body, answerLimits)
		if err != nil {
			e := NewError(UpstreamFailed, "the upstream answered HTTP "+strconv.Itoa(a.Status)+" with a body that is not one unambiguous JSON document")
			e.Cause = err.Error()
			a.err = e
		} else {
			a.doc = v
		}
	}
	return a.doc, a.err
}

// Object is Doc for an answer that must be a JSON object, refused as Doc
// refuses when it is anything else. what names the answer in the refusal,
// such as "B2's bucket list".
func (a *Answer) Object(what string) (jsonscan.Value, *Error) {
	doc, derr := a.Doc()
	if derr != nil {
		return doc, derr
	}
	if doc.Type() != jsonscan.Object {
		return jsonscan.Value{}, NewError(UpstreamFailed, what+" cannot be read: it is not a JSON object")
	}
	return doc, nil
}

// Str is the answer's top-level string member name: "" when the answer is
// not a JSON object or has no such string, as an error's message or a
// written bucket's id may be missing from an answer that failed.
func (a *Answer) Str(name string) string {
	doc, _ := a.Doc()
	s, _ := doc.Get(name).Str()
	return s
}

// Release gives the parsed tree back for the next answer's. Nothing read
// from the answer's tree may be used afterwards but its strings.
func (a *Answer) Release() {
	a.doc.Release()
	a.doc, a.parsed = jsonscan.Value{}, false
}
