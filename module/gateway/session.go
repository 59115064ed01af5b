package gateway

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// The gateway's own session at an upstream that has a sign-in call (B2, in
// gateway mode): one sign-in shared by concurrent requests, renewed before it
// expires and when the upstream refuses its token.

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
	// State is signed_in (holding a token the upstream has not refused,
	// unexpired), failing (the last sign-in failed, and no such token is
	// held: every call that needs the upstream fails until one succeeds) or
	// not_yet (no call has needed a sign-in yet).
	State       string    `json:"state"`
	SignedIn    bool      `json:"signed_in"`
	SignedInAt  time.Time `json:"signed_in_at,omitzero"`
	Expires     time.Time `json:"expires,omitzero"`
	AccountID   string    `json:"account_id,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// b2TokenLifetime is how long B2's own tokens last.
const b2TokenLifetime = 24 * time.Hour

// Session states, in the admin API and the upstream_sessions gauge.
const (
	sessionSignedIn = "signed_in"
	sessionFailing  = "failing"
	sessionNotYet   = "not_yet"
)

func (s *upstreamSession) status() sessionStatus {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	st := s.seen
	st.SignedIn = st.SignedIn && time.Now().Before(st.Expires)
	switch {
	case st.SignedIn:
		st.State = sessionSignedIn
	case st.LastError != "":
		st.State = sessionFailing
	default:
		st.State = sessionNotYet
	}
	return st
}

// Why a sign-in is due.
const (
	dueFirstUse = "first use"
	dueRenewal  = "renewal before expiry"
	dueRefused  = "the upstream refused the gateway's token"
)

// failed records a failed sign-in for why. A renewal's failure leaves the
// token held before in use, and the session signed in until it expires or
// the upstream refuses it; any other failure leaves no usable token.
func (s *upstreamSession) failed(derr *dialect.Error, why string) {
	msg := derr.Message
	if derr.Cause != "" {
		msg += ": " + derr.Cause
	}
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	s.seen.LastError, s.seen.LastErrorAt = msg, time.Now()
	if why != dueRenewal {
		s.seen.SignedIn = false
	}
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
			return dueFirstUse
		case time.Since(s.signedIn) >= refreshAfter:
			return dueRenewal
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
		return dueRefused
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
		switch {
		case f.err == nil:
			if s.grant.Token != f.grant.Token {
				s.retired = s.grant.Token
			}
			s.grant, s.signedIn = f.grant, time.Now()
		case why == dueRefused:
			// The upstream refused the token: never send it again, so the
			// next call signs in afresh. It is still scrubbed from answers.
			s.retired, s.grant = s.grant.Token, dialect.Grant{}
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
	h.upstreamSide.signIn.SignInRequest(sub, h.Upstream.KeyID, h.Upstream.ApplicationKey)
	routeTo(sub, h.Upstream.Realm)
	g, derr := h.readUpstreamGrant(next, sub)
	if derr != nil {
		h.session.failed(derr, why)
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
	// Read unscrubbed: the token in it is the gateway's own, to keep.
	return h.upstreamSide.signIn.ReadGrant(dialect.NewAnswer(ans.status, ans.body.Bytes()))
}
