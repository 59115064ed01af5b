package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// exchange is one call the gateway handles, from its arrival to its
// answer: what every step of the call reads and adds to.
type exchange struct {
	w    http.ResponseWriter
	r    *http.Request
	next caddyhttp.Handler
	call dialect.Call
	// who sent the call, once authenticated.
	who *caller
	// doc and pre are the write and its precondition (writes only).
	doc *dialect.Document
	pre precondition
	// judged is set once the operator's policies have judged the write.
	judged bool
	// d is what the call came to, for its log line and metrics.
	d decision
}

// verified records that the caller proved to hold the key id: in the
// decision line, and as Caddy's {http.auth.user.id}, which the access log
// shows as user_id.
func (x *exchange) verified(keyID string) {
	x.d.key = keyID
	setUser(x.r, keyID)
}

// serverName names r's Caddy server, as Caddy's own metrics label it.
func serverName(r *http.Request) string {
	if srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok {
		return srv.Name()
	}
	return ""
}

// setUser makes keyID, verified, Caddy's {http.auth.user.id} for r.
func setUser(r *http.Request, keyID string) {
	if keyID == "" {
		return
	}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Set("http.auth.user.id", keyID)
	}
}

// serve hands a call of the client's API to what answers it: the update
// pipeline for bucket updates, the sign-in and list handlers where the
// identity mode answers them, routing in passthrough mode with a realm, and
// next, untouched, for everything else.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, call dialect.Call) error {
	gateway, routed := h.Mode == modeGateway, h.tokens != nil
	var handle func(*exchange) error
	switch refusal := refuseUnmatchable(r, call); {
	case refusal != nil:
		// Not judged: so not forwarded either, whatever the mode.
		handle = func(x *exchange) error { return h.refuse(x, refusal) }
	case call.Op.Writes():
		handle = h.write
	case call.Op == dialect.OpAuthorize && gateway:
		handle = h.signIn
	case call.Op == dialect.OpAuthorize && routed:
		handle = h.proxySignIn
	case call.Op == dialect.OpAuthorize:
		handle = func(x *exchange) error { return h.refuse(x, errNoRealm) }
	case call.Op == dialect.OpList && gateway && h.clientSide.workspaceLists != nil:
		handle = h.listWorkspaces
	case call.Op == dialect.OpList && gateway && h.translating():
		handle = h.listAcross
	case call.Op == dialect.OpList && gateway:
		handle = h.list
	case gateway:
		handle = func(x *exchange) error { return h.refuse(x, h.errNotAnswered(call)) }
	case routed && call.Download:
		handle = func(x *exchange) error { return h.refuse(x, errDownloadElsewhere) }
	case routed:
		return h.route(w, r, next, call)
	default:
		return next.ServeHTTP(w, r)
	}
	return h.decide(&exchange{w: w, r: r, next: next, call: call}, handle)
}

// decide runs handle for a call the gateway handles, under one deadline for
// all of its upstream work, and logs and counts what it came to.
func (h *Handler) decide(x *exchange, handle func(*exchange) error) error {
	start := time.Now()
	x.d.server, x.d.api, x.d.call = serverName(x.r), h.clientSide.Name(), x.call.Op
	ctx, cancel := context.WithTimeout(x.r.Context(), time.Duration(h.UpstreamTimeout))
	defer cancel()
	x.r = x.r.WithContext(ctx)
	err := handle(x)
	if x.doc != nil {
		x.doc.Release()
	}
	took := time.Since(start)
	x.d.record(h.logger, took, x.r)
	x.d.observe(took)
	return err
}

// workspaced reports whether buckets live in workspaces on either side, so
// that keys' roles in them apply.
func (h *Handler) workspaced() bool {
	return h.clientSide.workspaces != nil || h.upstreamSide.workspaces != nil
}

// errNotAnswered refuses, in gateway mode, a call the gateway does not
// answer, whatever credential it carries: passed on, a B2 gateway token
// would be refused upstream and clients would sign in again forever, a
// Flashback key's secret would leave the gateway, and a call with no
// credential would meet an upstream only the gateway's own calls are routed
// to. Gateway keys manage buckets; files are the storage's, reached with its
// own credentials, and public ones at the download URL a sign-in hands out.
func (h *Handler) errNotAnswered(call dialect.Call) *dialect.Error {
	answers := "creating, updating and deleting buckets"
	switch {
	case h.clientSide.signIn != nil:
		answers = "sign-ins, bucket lists, and creating, updating and deleting buckets"
	case h.clientSide.workspaceLists != nil:
		answers = "bucket lists, and creating, updating and deleting buckets"
	}
	msg := "gateway keys are good for " + answers + " only"
	if call.Download {
		msg += "; this gateway serves no downloads: public files are at the downloadUrl b2_authorize_account returns"
	}
	return dialect.NewError(dialect.Forbidden, msg)
}

// errDownloadElsewhere refuses a download in passthrough mode with a realm:
// sign-ins through the gateway hand out the storage's own downloadUrl, so no
// client needs to download through it, and the gateway would not know where
// to send the call.
var errDownloadElsewhere = dialect.NewError(dialect.Forbidden, "this gateway serves no downloads: download from the downloadUrl b2_authorize_account returns")

// methodOverrides are the headers some frameworks read to take a request as
// another method: a POST or GET carrying one could reach the upstream as an
// update that the gateway never judged.
var methodOverrides = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// methodOverrideKeys are methodOverrides as keys of an http.Header, so that
// looking them up on every call canonicalises nothing.
var methodOverrideKeys = func() []string {
	keys := make([]string, len(methodOverrides))
	for i, name := range methodOverrides {
		keys[i] = http.CanonicalHeaderKey(name)
	}
	return keys
}()

// refuseUnmatchable refuses a call of the API the gateway cannot vouch for
// as recognised: one its dialect refuses as spelled, or one carrying a
// method override.
func refuseUnmatchable(r *http.Request, call dialect.Call) *dialect.Error {
	if call.Refusal != nil {
		return call.Refusal
	}
	for i, key := range methodOverrideKeys {
		if len(r.Header[key]) > 0 {
			return dialect.NewError(dialect.BadRequest, "method override headers ("+methodOverrides[i]+") are not accepted; send the method itself")
		}
	}
	return nil
}

// refuse answers the call with a refusal in the client's dialect: the one
// way every refusal is written, so that each is logged and counted.
func (h *Handler) refuse(x *exchange, e *dialect.Error) error {
	x.d.refused(e)
	h.clientSide.WriteError(x.w, e)
	return nil
}

// failUpstream answers a call the upstream failed, in the client's dialect,
// with the cause in the decision line and the metric.
func (h *Handler) failUpstream(x *exchange, e *dialect.Error) error {
	x.d.upstreamFailed(e)
	h.clientSide.WriteError(x.w, e)
	return nil
}

// translating reports whether the client's API is not the upstream's.
func (h *Handler) translating() bool {
	return h.clientSide.Dialect != h.upstreamSide.Dialect
}

// upstreamAccount is the account id clients see when the upstream API has
// no accounts: the upstream API's name.
func (h *Handler) upstreamAccount() string {
	return h.upstreamSide.Name()
}
