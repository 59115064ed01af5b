package flashback

import (
	"net/http"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/bucketgate/bucketgate/internal/dialect"
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
// error page from a proxy, an empty body) is not an answer a Flashback
// client can act on, so the client gets a 502 saying so.
func (*Dialect) CheckAnswer(status int, body []byte) *dialect.Error {
	ok := gjson.ValidBytes(body)
	if ok {
		res := gjson.ParseBytes(body)
		success := res.Get("success")
		ok = res.IsObject() && success.IsBool() && success.Bool() == (status >= 200 && status < 300)
	}
	if ok {
		return nil
	}
	return dialect.NewError(dialect.UpstreamFailed, "the upstream answered HTTP "+strconv.Itoa(status)+" with something that is not a Flashback response")
}
