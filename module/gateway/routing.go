package gateway

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// Routing in passthrough mode with a realm: every call of a token the
// gateway saw signed in, and that it does not judge itself, goes to its
// account's API URL, through {http.bucketgate.upstream}.

// route sends a call the gateway does not otherwise handle to the account
// of the token it carries (passthrough mode with a realm), untouched. Only
// a refusal is a decision the gateway logs and counts: routed calls are
// the upstream's to answer, and are not bounded by upstream_timeout.
func (h *Handler) route(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, call dialect.Call) error {
	who, derr := h.authenticate(r)
	if derr != nil {
		return h.decide(&exchange{w: w, r: r, next: next, call: call}, func(x *exchange) error { return h.refuse(x, derr) })
	}
	setUser(r, who.id())
	routeTo(r, who.remembered.APIURL)
	return next.ServeHTTP(w, r)
}

// externalURL is the gateway's address as the client reached it.
func (h *Handler) externalURL(r *http.Request) string {
	if h.ExternalURL != "" {
		return strings.TrimSuffix(h.ExternalURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
