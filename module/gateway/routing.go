package gateway

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// Routing in passthrough mode with a realm: every call of a token the
// gateway saw signed in goes to its account's API URL, through
// {http.bucketgate.upstream}; bucket creations are checked against
// public_key_ids on the way.

// create checks a bucket creation against public_key_ids (passthrough mode
// with a realm) and then routes it like any other call: a bucket created
// allPublic is as public as one updated to it.
func (h *Handler) create(x *exchange) error {
	who, derr := h.authenticate(x.r)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.verified(who.id())
	var body []byte
	read := func() ([]byte, *dialect.Error) {
		var derr *dialect.Error
		body, derr = readBody(x.w, x.r, h.MaxBodySize)
		return body, derr
	}
	u, derr := h.clientSide.scopes.DecodeCreate(x.r, x.call, read)
	if derr != nil {
		return h.refuse(x, derr)
	}
	if h.clientSide.scopes.MakesPublic(u) && !slices.Contains(h.PublicKeyIDs, who.remembered.KeyID) {
		return h.refuse(x, errPublicKeyIDs)
	}
	// The body was read to judge it; the upstream gets it as sent.
	x.r.Body = io.NopCloser(bytes.NewReader(body))
	x.r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	x.r.ContentLength = int64(len(body))
	x.d.outcome = outcomeRouted
	routeTo(x.r, who.remembered.APIURL)
	return x.next.ServeHTTP(x.w, x.r)
}

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
