package b2

import (
	"net/http"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// codes maps each refusal to B2's status and code. Capability refusals are
// 401 unauthorized, as B2 answers them, so clients stop instead of retrying;
// token problems are 401 bad_auth_token, which makes clients re-authorize.
var codes = map[dialect.Kind]struct {
	status int
	code   string
}{
	dialect.BadRequest:           {http.StatusBadRequest, "bad_request"},
	dialect.BadJSON:              {http.StatusBadRequest, "bad_json"},
	dialect.TooLarge:             {http.StatusRequestEntityTooLarge, "request_too_large"},
	dialect.MethodNotAllowed:     {http.StatusMethodNotAllowed, "method_not_allowed"},
	dialect.Unauthenticated:      {http.StatusUnauthorized, "bad_auth_token"},
	dialect.Expired:              {http.StatusUnauthorized, "expired_auth_token"},
	dialect.Forbidden:            {http.StatusUnauthorized, "unauthorized"},
	dialect.NotFound:             {http.StatusBadRequest, "bad_bucket_id"},
	dialect.Conflict:             {http.StatusConflict, "conflict"},
	dialect.PreconditionFailed:   {http.StatusPreconditionFailed, "precondition_failed"},
	dialect.PreconditionRequired: {http.StatusPreconditionRequired, "precondition_required"},
	dialect.UpstreamFailed:       {http.StatusBadGateway, "bad_gateway"},
	dialect.Unsupported:          {http.StatusUnauthorized, "unsupported"},
	dialect.UpstreamTimeout:      {http.StatusGatewayTimeout, "gateway_timeout"},
	// A policy's refusal is the operator's, not a capability the key lacks:
	// 403 access_denied, which b2sdk reads as AccessDenied and rclone does
	// not retry.
	dialect.PolicyDenied: {http.StatusForbidden, "access_denied"},
}

// Error is B2's error body. Status always equals the HTTP status; b2sdk
// checks that.
type Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError implements dialect.Dialect, with the headers B2 sends on errors.
func (*Dialect) WriteError(w http.ResponseWriter, e *dialect.Error) {
	c, ok := codes[e.Kind]
	if !ok {
		c = codes[dialect.UpstreamFailed]
	}
	w.Header().Set("Cache-Control", "max-age=0, no-cache, no-store")
	dialect.WriteRefusal(w, c.status, "application/json;charset=utf-8", Error{Status: c.status, Code: c.code, Message: e.Message})
}

// CheckAnswer implements dialect.Dialect. B2 answers pass unchanged, whatever
// they hold: once B2 may have applied an update, only B2's own answer can
// tell the client what happened, and B2 clients retry 5xx answers.
func (*Dialect) CheckAnswer(*dialect.Answer) *dialect.Error { return nil }
