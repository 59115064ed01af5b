package gateway

import (
	"bytes"
	"strings"
)

// redacted replaces the gateway's own upstream credentials in what it relays.
const redacted = "[redacted]"

// secrets are the gateway's own upstream credentials (gateway mode): the
// upstream token or application key it holds, and the B2 tokens it signed in
// with. An upstream, or an error page in front of it, that echoes request
// headers would otherwise hand them to whoever made the call.
func (h *Handler) secrets() []string {
	if h.Mode != modeGateway || h.Upstream == nil {
		return nil
	}
	var s []string
	for _, v := range []string{h.Upstream.Token, h.Upstream.ApplicationKey} {
		if v != "" {
			s = append(s, v)
		}
	}
	if h.b2 != nil {
		h.b2.mu.Lock()
		for _, v := range []string{h.b2.grant.Token, h.b2.retired} {
			if v != "" {
				s = append(s, v)
			}
		}
		h.b2.mu.Unlock()
	}
	return s
}

// scrubAnswer removes the gateway's own credentials from an upstream answer
// before anything of it is relayed, quoted or logged: from its header values
// in place, and from the body it returns.
func (h *Handler) scrubAnswer(a *answer) []byte {
	body := a.body.Bytes()
	for _, secret := range h.secrets() {
		for k, vs := range a.header {
			for i, v := range vs {
				if strings.Contains(v, secret) {
					a.header[k][i] = strings.ReplaceAll(v, secret, redacted)
				}
			}
		}
		if bytes.Contains(body, []byte(secret)) {
			body = bytes.ReplaceAll(body, []byte(secret), []byte(redacted))
		}
	}
	return body
}
