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
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"

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
			h.upstream.SetCredential(req, g.Token)
			routeTo(req, g.APIURL)
		} else {
			h.upstream.SetCredential(req, h.Upstream.Token)
		}
		if derr := prepare(g); derr != nil {
			return nil, derr
		}
		return h.roundTrip(x.next, req)
	}
	ans, derr := send(g)
	if derr != nil || h.session == nil || !h.upstream.signIn.TokenRefused(ans.status, ans.body.Bytes()) {
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
		h.upstream.reader.ReadRequest(sub, bucketID, grant.AccountID)
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
	b, derr := h.upstream.reader.ReadBucket(ans.status, h.scrubAnswer(ans), bucketID)
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

// readBuckets lists the upstream's buckets with the gateway's credentials.
func (h *Handler) readBuckets(x *exchange) ([]dialect.Bucket, *dialect.Error) {
	sub := subRequest(x.r)
	ans, derr := h.callUpstream(x, sub, func(g dialect.Grant) *dialect.Error {
		h.upstream.reader.ReadRequest(sub, "", g.AccountID)
		return nil
	})
	if derr != nil {
		return nil, derr
	}
	return h.upstream.translator.ReadBuckets(ans.status, h.scrubAnswer(ans))
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

// refreshAfter renews the gateway's own upstream token well before B2's 24
// hours run out, so no request meets it expired in the normal course.
const refreshAfter = 20 * time.Hour

// upstreamSession is the gateway's own sign-in at the upstream (B2, gateway
// mode). Concurrent requests that find the token missing, old or refused
// share one sign-in: the first starts it, the others wait for its outcome,
// each no longer than its own deadline. The mutex guards the fields only and
// is never held across a call upstream, so a hung sign-in stalls nothing but
// the requests that need it, and only until their deadlines.
type upstreamSession struct {
	mu       sync.Mutex
	grant    dialect.Grant
	signedIn time.Time
	// flight is the sign-in under way, if any.
	flight *signInFlight
	// retired is the token before the current one, still scrubbed from
	// answers that may have been made with it.
	retired string

	// seen is what the admin API and metrics report, under its own lock.
	seenMu sync.Mutex
	seen   sessionStatus
}

// sessionStatus is the session as the admin API reports it. It holds no
// token or key.
type sessionStatus struct {
	SignedIn    bool      `json:"signed_in"`
	SignedInAt  time.Time `json:"signed_in_at,omitzero"`
	Expires     time.Time `json:"expires,omitzero"`
	AccountID   string    `json:"account_id,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// b2TokenLifetime is how long B2's own tokens last.
const b2TokenLifetime = 24 * time.Hour

func (s *upstreamSession) status() sessionStatus {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	st := s.seen
	st.SignedIn = st.SignedIn && time.Now().Before(st.Expires)
	return st
}

// failed records a failed sign-in. The grant held before, if any, stays
// in use until the upstream refuses it.
func (s *upstreamSession) failed(derr *dialect.Error) {
	msg := derr.Message
	if derr.Cause != "" {
		msg += ": " + derr.Cause
	}
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	s.seen.LastError, s.seen.LastErrorAt = msg, time.Now()
}

func (s *upstreamSession) succeeded(g dialect.Grant, at time.Time) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	s.seen.SignedIn, s.seen.SignedInAt, s.seen.Expires, s.seen.AccountID = true, at, at.Add(b2TokenLifetime), g.AccountID
}

// signInFlight is one sign-in under way; done closes when grant or err is set.
type signInFlight struct {
	done  chan struct{}
	grant dialect.Grant
	err   *dialect.Error
}

// upstreamGrant returns the gateway's current upstream grant, signing in
// when there is none or it is due for renewal.
func (h *Handler) upstreamGrant(x *exchange) (dialect.Grant, *dialect.Error) {
	return h.sessionGrant(x, func(s *upstreamSession) string {
		switch {
		case s.grant.Token == "":
			return "first use"
		case time.Since(s.signedIn) >= refreshAfter:
			return "renewal before expiry"
		}
		return ""
	})
}

// renewUpstream signs in again after the upstream refused token, unless
// another request already has.
func (h *Handler) renewUpstream(x *exchange, refused string) (dialect.Grant, *dialect.Error) {
	return h.sessionGrant(x, func(s *upstreamSession) string {
		if s.grant.Token != "" && s.grant.Token != refused {
			return ""
		}
		return "the upstream refused the gateway's token"
	})
}

// sessionGrant returns the current grant when due says no sign-in is due
// (an empty reason), and otherwise joins the sign-in under way or starts one.
func (h *Handler) sessionGrant(x *exchange, due func(*upstreamSession) string) (dialect.Grant, *dialect.Error) {
	s := h.session
	s.mu.Lock()
	why := due(s)
	if why == "" {
		g := s.grant
		s.mu.Unlock()
		return g, nil
	}
	f := s.flight
	if f == nil {
		f = &signInFlight{done: make(chan struct{})}
		s.flight = f
		s.mu.Unlock()
		h.fly(x, f, why)
	} else {
		s.mu.Unlock()
	}
	select {
	case <-f.done:
		return f.grant, f.err
	case <-x.r.Context().Done():
		return dialect.Grant{}, deadlineError(x.r.Context(), "the gateway could not sign in upstream")
	}
}

// fly runs sign-in f in the caller's goroutine and publishes its outcome.
// It keeps the caller's deadline but not its cancellation: requests that
// joined f should not fail because the first client went away. The outcome
// is published however the sign-in ends, so no later request can join a
// sign-in that will never finish.
func (h *Handler) fly(x *exchange, f *signInFlight, why string) {
	ctx := context.WithoutCancel(x.r.Context())
	if dl, ok := x.r.Context().Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
	}
	f.err = dialect.NewError(dialect.UpstreamFailed, "the gateway could not sign in upstream")
	defer func() {
		s := h.session
		s.mu.Lock()
		defer s.mu.Unlock()
		if f.err == nil {
			if s.grant.Token != f.grant.Token {
				s.retired = s.grant.Token
			}
			s.grant, s.signedIn = f.grant, time.Now()
		}
		s.flight = nil
		close(f.done)
	}()
	f.grant, f.err = h.signInUpstream(x.r.WithContext(ctx), x.next, why)
}

// signInUpstream signs in with the gateway's own key, through next like
// every other upstream call, routed to the realm.
func (h *Handler) signInUpstream(r *http.Request, next caddyhttp.Handler, why string) (dialect.Grant, *dialect.Error) {
	sub := subRequest(r)
	h.upstream.signIn.SignInRequest(sub, h.Upstream.KeyID, h.Upstream.ApplicationKey)
	routeTo(sub, h.Upstream.Realm)
	g, derr := h.readUpstreamGrant(next, sub)
	if derr != nil {
		h.session.failed(derr)
		h.logger.Error("could not sign in upstream", zap.String("reason", why), zap.String("error", derr.Message), zap.String("cause", derr.Cause))
		return dialect.Grant{}, derr
	}
	h.session.succeeded(g, time.Now())
	h.logger.Info("signed in upstream", zap.String("reason", why), zap.String("account_id", g.AccountID))
	return g, nil
}

// readUpstreamGrant sends the gateway's sign-in and reads the grant.
func (h *Handler) readUpstreamGrant(next caddyhttp.Handler, sub *http.Request) (dialect.Grant, *dialect.Error) {
	ans, derr := h.roundTrip(next, sub)
	if derr != nil {
		return dialect.Grant{}, derr
	}
	if ans.status != http.StatusOK {
		derr := dialect.NewError(dialect.UpstreamFailed, "the gateway could not sign in upstream (HTTP "+strconv.Itoa(ans.status)+")")
		derr.Cause = "the upstream answered HTTP " + strconv.Itoa(ans.status)
		if ans.status == http.StatusUnauthorized || ans.status == http.StatusForbidden {
			derr.Cause = "the upstream refused the gateway's own key"
		}
		return dialect.Grant{}, derr
	}
	g, err := h.upstream.signIn.ReadGrant(ans.body.Bytes())
	if err != nil {
		return dialect.Grant{}, dialect.NewError(dialect.UpstreamFailed, "the upstream's sign-in answer cannot be read")
	}
	return g, nil
}
