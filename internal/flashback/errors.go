package flashback

import (
	"net/http"
	"strconv"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// Error is Flashback's error body.
type Error struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// WriteError implements dialect.Dialect.
func (*Dialect) WriteError(w http.ResponseWriter, e *dialect.Error) {
	dialect.WriteRefusal(w, e.Kind.Status(), "application/json; charset=utf-8", Error{Message: e.Message})
}

// CheckAnswer implements dialect.Dialect: a Flashback answer is a JSON
// object whose success flag agrees with its status. Anything else (an HTML
// error page from a proxy, an empty body, an object that repeats a key) is
// not an answer a Flashback client can act on, so the client gets a 502
// saying so.
func (*Dialect) CheckAnswer(a *dialect.Answer) *dialect.Error {
	doc, derr := a.Doc()
	if derr == nil {
		success, ok := doc.Get("success").Bool()
		if doc.Type() == jsonscan.Object && ok && success == (a.Status >= 200 && a.Status < 300) {
			return nil
		}
	}
	e := dialect.NewError(dialect.UpstreamFailed, "the upstream answered HTTP "+strconv.Itoa(a.Status)+" with something that is not a Flashback response")
	if derr != nil {
		e.Cause = derr.Cause
	}
	return e
}
