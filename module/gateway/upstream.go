package gateway

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// Everything the gateway sends upstream goes through next (the user's
// reverse_proxy) and comes back as a captured answer that the gateway judges
// before the client sees anything: the update itself, and the calls it makes
// on its own account (sub-requests that read a bucket or list them).

// answer is an upstream's answer to a call the gateway handles, held whole
// so that the gateway can read it, retry, or replace it before the client
// sees anything. Answers to bucket calls are a few kilobytes; the limit is
// max_response_size.
type answer struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	limit    int64
	overflow bool
	// sent is true once the request may have reached the upstream: any
	// failure but one to connect. An update that failed after it was sent
	// may have been applied.
	sent bool
	// read is the answer as the gateway reads it, once made (Handler.read).
	read *dialect.Answer
}

func (a *answer) Header() http.Header { return a.header }

// WriteHeader keeps the final status. Informational answers (100 Continue,
// 103 Early Hints), which reverse_proxy passes on as they come, are not the
// answer and are dropped.
func (a *answer) WriteHeader(status int) {
	if a.status == 0 && status >= 200 {
		a.status = status
	}
}

func (a *answer) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if int64(a.body.Len()+len(p)) > a.limit {
		a.overflow = true
		return len(p), nil
	}
	return a.body.Write(p)
}

// Flush lets reverse_proxy flush as it does for a client connection.
func (a *answer) Flush() {}

// writeTo gives the client the upstream's answer with body in place of the
// upstream's own: its status and headers, less the ones the body makes wrong.
func (a *answer) writeTo(w http.ResponseWriter, body []byte) error {
	h := w.Header()
	for k, v := range a.header {
		if k == "Warning" {
			// The gateway's own warnings (policies) stay beside the upstream's.
			h[k] = append(h[k], v...)
			continue
		}
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Transfer-Encoding")
	w.WriteHeader(a.status)
	_, err := w.Write(body)
	return err
}

// answerPool holds answers for reuse. Only an answer whose every use is
// over goes back (release): its header values may live on in the client's
// header, which is why release drops them from the map rather than changing
// them, and its body has been copied out by the client's writer.
var answerPool = sync.Pool{New: func() any { return &answer{header: http.Header{}} }}

// maxPooledAnswer is the largest answer body whose buffer is kept for reuse;
// a rare large answer's buffer is left to the garbage collector.
const maxPooledAnswer = 64 << 10

// release returns a to answerPool. Nothing may use a, its header or its body
// afterwards.
func (a *answer) release() {
	if a.body.Cap() > maxPooledAnswer {
		return
	}
	clear(a.header)
	a.body.Reset()
	if a.read != nil {
		a.read.Release()
		a.read = nil
	}
	a.status, a.limit, a.overflow, a.sent = 0, 0, false, false
	answerPool.Put(a)
}

// errBrokenAnswer stands for reverse_proxy's abort when the upstream's
// answer breaks off after it began.
var errBrokenAnswer = errors.New("the upstream's answer broke off")

// serveCaptured runs next into a. reverse_proxy aborts a response it cannot
// finish (the upstream reset or cut the body short) by panicking with
// http.ErrAbortHandler, which is meant to drop the client's connection;
// here the answer is the gateway's to judge, so the abort becomes an error.
func serveCaptured(next caddyhttp.Handler, a *answer, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			err = errBrokenAnswer
		}
	}()
	return next.ServeHTTP(a, r)
}

// roundTrip sends r through next and keeps the whole answer. On failure the
// answer, when not nil, still says whether the request may have been sent.
func (h *Handler) roundTrip(next caddyhttp.Handler, r *http.Request) (*answer, *dialect.Error) {
	a := answerPool.Get().(*answer)
	a.limit = h.MaxResponseSize
	err := serveCaptured(next, a, r)
	if err != nil {
		_, dialFailed := errors.AsType[reverseproxy.DialError](err)
		a.sent = !dialFailed
		he, _ := errors.AsType[caddyhttp.HandlerError](err)
		var derr *dialect.Error
		switch {
		case r.Context().Err() != nil:
			derr = deadlineError(r.Context(), "the upstream did not answer in time")
		case he.StatusCode == http.StatusGatewayTimeout:
			derr = dialect.NewError(dialect.UpstreamTimeout, "the upstream did not answer in time")
		case errors.Is(err, errBrokenAnswer) && a.status != 0:
			derr = dialect.NewError(dialect.UpstreamFailed, "the upstream's answer (HTTP "+strconv.Itoa(a.status)+") broke off before its end")
		case errors.Is(err, errBrokenAnswer):
			derr = dialect.NewError(dialect.UpstreamFailed, "the upstream's answer broke off before its end")
		case dialFailed:
			derr = dialect.NewError(dialect.UpstreamFailed, "the upstream could not be reached")
		default:
			status := http.StatusBadGateway
			if he.StatusCode >= 500 {
				status = he.StatusCode
			}
			derr = dialect.NewError(dialect.UpstreamFailed, "the upstream did not answer ("+http.StatusText(status)+")")
		}
		derr.Cause = err.Error()
		return a, derr
	}
	a.sent = true
	switch {
	case a.status == 0:
		return a, dialect.NewError(dialect.UpstreamFailed, "no upstream answered; is reverse_proxy configured after bucketgate?")
	case a.overflow:
		return a, dialect.NewError(dialect.UpstreamFailed, "the upstream's answer is larger than max_response_size")
	}
	return a, nil
}

// deadlineError says why ctx ended: the gateway's deadline (504), or the
// client going away.
func deadlineError(ctx context.Context, what string) *dialect.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return dialect.NewError(dialect.UpstreamTimeout, what+" within upstream_timeout")
	}
	return dialect.NewError(dialect.UpstreamFailed, what+" before the client went away")
}

// callUpstream sends req, made ready by prepare, with the gateway's own
// upstream credentials (gateway mode). When the upstream refuses the
// gateway's token, the gateway signs in again and sends once more: a refused
// token means nothing was applied.
func (h *Handler) callUpstream(x *exchange, req *http.Request, prepare func(dialect.Grant) *dialect.Error) (*answer, *dialect.Error) {
	var g dialect.Grant
	if h.session != nil {
		var derr *dialect.Error
		if g, derr = h.upstreamGrant(x); derr != nil {
			return nil, derr
		}
	}
	send := func(g dialect.Grant) (*answer, *dialect.Error) {
		if h.session != nil {
			h.upstreamSide.SetCredential(req, g.Token)
			routeTo(req, g.APIURL)
		} else {
			h.upstreamSide.SetCredential(req, h.Upstream.Token)
		}
		if derr := prepare(g); derr != nil {
			return nil, derr
		}
		return h.roundTrip(x.next, req)
	}
	ans, derr := send(g)
	if derr != nil || h.session == nil || !h.upstreamSide.signIn.TokenRefused(h.read(ans)) {
		return ans, derr
	}
	if g, derr = h.renewUpstream(x, g.Token); derr != nil {
		return nil, derr
	}
	return send(g)
}

// upstreamPlaceholder names the upstream to dial for the current call, for
// use as reverse_proxy's upstream address: reverse_proxy {http.bucketgate.upstream}.
const upstreamPlaceholder = "http.bucketgate.upstream"

// routeTo sets {http.bucketgate.upstream} to the host:port of base.
func routeTo(r *http.Request, base string) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Set(upstreamPlaceholder, host)
	}
}

// subRequest copies r for a call the gateway makes on its own account: same
// context (so reverse_proxy finds its server and placeholders), no body,
// and none of the client's headers.
func subRequest(r *http.Request) *http.Request {
	sub := r.Clone(r.Context())
	sub.Header = http.Header{}
	sub.Body, sub.GetBody, sub.ContentLength = http.NoBody, nil, 0
	return sub
}

// readBucket reads one bucket's current state through next, the same
// upstream the update goes to: with the gateway's own credentials in
// gateway mode, with the client's otherwise.
func (h *Handler) readBucket(x *exchange, bucketID string) (dialect.Bucket, *dialect.Error) {
	sub := subRequest(x.r)
	var g dialect.Grant
	read := func(grant dialect.Grant) *dialect.Error {
		g = grant
		account := grant.AccountID
		if account == "" && x.doc != nil && h.upstreamSide.scopes != nil {
			// The client's own credential: its write names its account.
			account = h.upstreamSide.scopes.Account(x.doc)
		}
		h.upstreamSide.reader.ReadRequest(sub, bucketID, account)
		return nil
	}
	var ans *answer
	var derr *dialect.Error
	if h.Mode == modeGateway {
		ans, derr = h.callUpstream(x, sub, read)
	} else {
		if cred := x.r.Header.Get("Authorization"); cred != "" {
			sub.Header.Set("Authorization", cred)
		}
		_ = read(dialect.Grant{})
		ans, derr = h.roundTrip(x.next, sub)
	}
	if derr != nil {
		return dialect.Bucket{}, derr
	}
	b, derr := h.upstreamSide.reader.ReadBucket(h.read(ans), bucketID)
	// What the bucket object does not say, the gateway's sign-in does: the
	// account, and the S3 endpoint translated updates are checked against.
	switch {
	case b.AccountID != "":
	case g.AccountID != "":
		b.AccountID = g.AccountID
	default:
		b.AccountID = h.upstreamAccount()
	}
	if g.S3APIURL != "" {
		b.Endpoint = g.S3APIURL
	}
	return b, derr
}

// upstreamContext is what the upstream's side knows of a bucket before it
// exists: the account it goes in and the upstream's S3 endpoint, from the
// gateway's own sign-in, or the upstream API's name for one without
// accounts.
func (h *Handler) upstreamContext(x *exchange) (dialect.Bucket, *dialect.Error) {
	b := dialect.Bucket{AccountID: h.upstreamAccount()}
	if h.session != nil {
		g, derr := h.upstreamGrant(x)
		if derr != nil {
			return b, derr
		}
		b.AccountID, b.Endpoint = g.AccountID, g.S3APIURL
	}
	return b, nil
}

// readBuckets lists the upstream's buckets with the gateway's credentials.
func (h *Handler) readBuckets(x *exchange) ([]dialect.Bucket, *dialect.Error) {
	sub := subRequest(x.r)
	ans, derr := h.callUpstream(x, sub, func(g dialect.Grant) *dialect.Error {
		h.upstreamSide.reader.ReadRequest(sub, "", g.AccountID)
		return nil
	})
	if derr != nil {
		return nil, derr
	}
	return h.upstreamSide.translator.ReadBuckets(h.read(ans))
}

// prepareUpstream strips what the upstream must not see or that would stop
// the gateway reading its answer: the revision header the gateway has
// already turned into the API's own precondition; Accept-Encoding, so the
// answer arrives uncompressed (Go's transport negotiates gzip on its own and
// decompresses it); and Expect, since the gateway already holds the whole
// body and has nothing to ask leave to send.
func prepareUpstream(r *http.Request) {
	r.Header.Del("If-Match")
	r.Header.Del("Accept-Encoding")
	r.Header.Del("Expect")
}

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
	if h.session != nil {
		h.session.mu.Lock()
		for _, v := range []string{h.session.grant.Token, h.session.retired} {
			if v != "" {
				s = append(s, v)
			}
		}
		h.session.mu.Unlock()
	}
	return s
}

// read is a's answer as the gateway reads it: its body with the gateway's
// own credentials scrubbed from it, parsed once, on first use, for every
// step that reads it.
func (h *Handler) read(a *answer) *dialect.Answer {
	if a.read == nil {
		a.read = dialect.NewAnswer(a.status, h.scrubAnswer(a))
	}
	return a.read
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
