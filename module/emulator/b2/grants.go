package b2emulator

import (
	"crypto/rand"
	"net/http"
	"sync"
	"time"
)

// maxGrants bounds each store of upload or download authorization tokens.
// Past it, the token closest to expiring is forgotten, and its holder gets
// 401 bad_auth_token: for an upload token, B2's cue to ask for a new upload
// URL (b2_get_upload_url docs: a URL is valid "until the endpoint rejects an
// upload").
const maxGrants = 10000

// uploadGrant is what an upload authorization token allows: uploads to one
// upload URL, as the key that asked for it.
type uploadGrant struct {
	p        *principal
	bucketID string
	uploadID string
}

// grants holds tokens that each stand for a grant: upload authorization
// tokens (b2_get_upload_url) and download authorization tokens
// (b2_get_download_authorization). Like account tokens, expired ones are
// kept for a further tokenLifetime so that their holders are told
// expired_auth_token rather than bad_auth_token.
type grants[T any] struct {
	mu     sync.Mutex
	now    func() time.Time
	tokens map[string]grant[T]
}

type grant[T any] struct {
	v       T
	expires time.Time
}

func newGrants[T any](now func() time.Time) *grants[T] {
	return &grants[T]{now: now, tokens: make(map[string]grant[T])}
}

// issue gives a token for v, valid for tokenLifetime: 24 hours, as B2's
// upload authorization tokens are (b2_get_upload_url docs).
func (g *grants[T]) issue(v T) string {
	return g.issueFor(v, tokenLifetime)
}

func (g *grants[T]) issueFor(v T, lifetime time.Duration) string {
	token := "4_" + rand.Text()
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	soonest := ""
	for t, held := range g.tokens {
		if now.After(held.expires.Add(tokenLifetime)) {
			delete(g.tokens, t)
		} else if soonest == "" || held.expires.Before(g.tokens[soonest].expires) {
			soonest = t
		}
	}
	if len(g.tokens) >= maxGrants {
		delete(g.tokens, soonest)
	}
	g.tokens[token] = grant[T]{v: v, expires: now.Add(lifetime)}
	return token
}

// find looks a token up: found is false for a token never issued (or
// forgotten), expired true for one past its time.
func (g *grants[T]) find(token string) (v T, found, expired bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	held, found := g.tokens[token]
	return held.v, found, found && !g.now().Before(held.expires)
}

// check is find with B2's refusals.
func (g *grants[T]) check(token string) (T, *apiError) {
	v, found, expired := g.find(token)
	switch {
	case !found:
		return v, newError(http.StatusUnauthorized, "bad_auth_token", "the authorization token is not valid")
	case expired:
		return v, newError(http.StatusUnauthorized, "expired_auth_token", "Authorization token has expired")
	}
	return v, nil
}
