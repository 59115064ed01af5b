package b2emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// allCapabilities is what the capability "all" expands to, in B2's order.
var allCapabilities = []string{
	"listKeys", "writeKeys", "deleteKeys",
	"listBuckets", "listAllBucketNames", "readBuckets", "writeBuckets", "deleteBuckets",
	"readBucketEncryption", "writeBucketEncryption",
	"readBucketRetentions", "writeBucketRetentions",
	"readFileRetentions", "writeFileRetentions",
	"readFileLegalHolds", "writeFileLegalHolds",
	"readBucketReplications", "writeBucketReplications",
	"bypassGovernance",
	"listFiles", "readFiles", "shareFiles", "writeFiles", "deleteFiles",
	"readBucketNotifications", "writeBucketNotifications",
}

func expandCapabilities(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool)
	add := func(c string) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, c := range in {
		if c == "all" {
			for _, a := range allCapabilities {
				add(a)
			}
			continue
		}
		add(c)
	}
	return out
}

// principal is what an application key, and every token issued for it, may
// do.
type principal struct {
	accountID  string
	caps       []string
	has        map[string]bool
	bucketID   string // "" when the key is not restricted to a bucket
	namePrefix string
}

func (p *principal) need(caps ...string) *apiError {
	for _, c := range caps {
		if !p.has[c] {
			return unauthorized("the application key does not have the %s capability", c)
		}
	}
	return nil
}

// needAccount is B2's rule for calls that name an account: it must be the
// token's own.
func (p *principal) needAccount(accountID string) *apiError {
	if accountID != p.accountID {
		return unauthorized("the authorization token is not valid for account %s", accountID)
	}
	return nil
}

// needUnrestricted reflects that B2 does not let a bucket-restricted key hold
// the capabilities that create, change or delete buckets.
func (p *principal) needUnrestricted() *apiError {
	if p.bucketID != "" {
		return unauthorized("the application key is restricted to one bucket")
	}
	return nil
}

const (
	tokenLifetime = 24 * time.Hour

	testModeHeader = "X-Bz-Test-Mode"
	expireTestMode = "expire_some_account_authorization_tokens"
)

type token struct {
	p       *principal
	expires time.Time
	used    bool
	revoked bool
}

type tokenStore struct {
	mu     sync.Mutex
	now    func() time.Time
	tokens map[string]*token
}

func newTokenStore(now func() time.Time) *tokenStore {
	return &tokenStore{now: now, tokens: make(map[string]*token)}
}

func (s *tokenStore) issue(p *principal) string {
	value := "4_" + rand.Text()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Expired tokens are kept for a further lifetime so that a client still
	// holding one is told expired_auth_token rather than bad_auth_token.
	for v, t := range s.tokens {
		if now.After(t.expires.Add(tokenLifetime)) {
			delete(s.tokens, v)
		}
	}
	s.tokens[value] = &token{p: p, expires: now.Add(tokenLifetime)}
	return value
}

// check resolves a token. Under the expire_some_account_authorization_tokens
// test mode, a token that has already been accepted once is expired for good
// on its next use while the mode is on. The rule is deterministic and makes
// every second call of a client that keeps the mode on go through
// re-authorization, while the call right after re-authorizing, which uses a
// fresh token, always succeeds.
func (s *tokenStore) check(value string, expireMode bool) (*principal, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	if !ok {
		return nil, newError(http.StatusUnauthorized, "bad_auth_token", "the authorization token is not valid")
	}
	if expireMode && t.used {
		t.revoked = true
	}
	if t.revoked || !s.now().Before(t.expires) {
		return nil, newError(http.StatusUnauthorized, "expired_auth_token", "Authorization token has expired")
	}
	t.used = true
	return t.p, nil
}

func (h *Emulator) authenticate(r *http.Request) (*principal, *apiError) {
	value := r.Header.Get("Authorization")
	if value == "" {
		return nil, newError(http.StatusUnauthorized, "bad_auth_token", "an Authorization header with an account authorization token is required")
	}
	return h.tokens.check(value, testMode(r, expireTestMode))
}

func testMode(r *http.Request, mode string) bool {
	for _, v := range r.Header.Values(testModeHeader) {
		for m := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(m) == mode {
				return true
			}
		}
	}
	return false
}

type appKey struct {
	secret string
	p      *principal
}

// Part sizes B2 reports. The emulator has no large-file calls; clients upload
// a file smaller than recommendedPartSize with one b2_upload_file, and the
// default storage_cap keeps every file below it.
const (
	recommendedPartSize     = 100_000_000
	absoluteMinimumPartSize = 5_000_000
)

func (h *Emulator) authorizeAccount(w http.ResponseWriter, r *http.Request, version int) {
	keyID, secret, ok := r.BasicAuth()
	if !ok {
		refuseAuthorize(w, newError(http.StatusUnauthorized, "bad_auth_token", "the Authorization header must be Basic base64(applicationKeyId:applicationKey)"))
		return
	}
	k, known := h.keys[keyID]
	// Compare even for unknown ids so the timing does not reveal which key
	// ids exist.
	want := k.secret
	if !known {
		want = "\x00unknown key"
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 || !known {
		refuseAuthorize(w, unauthorized("the application key id or application key is not valid"))
		return
	}
	tok := h.tokens.issue(k.p)
	h.logger.Debug("authorized", zap.String("account", k.p.accountID), zap.Int("api_version", version))
	writeJSON(w, http.StatusOK, h.authorizeResponse(version, h.apiURL(r), tok, k.p))
}

func refuseAuthorize(w http.ResponseWriter, e *apiError) {
	w.Header().Set("WWW-Authenticate", `BASIC realm="authorize_account"`)
	writeError(w, e)
}

// authorizeResponse shapes the answer for the API version asked for: the
// shape changed in v3 and again in v4, and clients break on the wrong one.
func (h *Emulator) authorizeResponse(version int, base, tok string, p *principal) map[string]any {
	var bucketID, bucketName any
	if p.bucketID != "" {
		bucketID = p.bucketID
		if name, ok := h.store.name(p.bucketID); ok {
			bucketName = name
		}
	}
	var prefix any
	if p.namePrefix != "" {
		prefix = p.namePrefix
	}
	caps := p.caps
	urls := map[string]any{
		"apiUrl":                  base,
		"downloadUrl":             base,
		"s3ApiUrl":                base,
		"recommendedPartSize":     recommendedPartSize,
		"absoluteMinimumPartSize": absoluteMinimumPartSize,
	}
	resp := map[string]any{
		"accountId":          p.accountID,
		"authorizationToken": tok,
	}
	switch version {
	case 1, 2:
		for k, v := range urls {
			resp[k] = v
		}
		if version == 1 {
			resp["minimumPartSize"] = recommendedPartSize
		}
		resp["allowed"] = map[string]any{
			"bucketId": bucketID, "bucketName": bucketName, "capabilities": caps, "namePrefix": prefix,
		}
	case 3:
		storage := urls
		storage["bucketId"] = bucketID
		storage["bucketName"] = bucketName
		storage["capabilities"] = caps
		storage["namePrefix"] = prefix
		storage["infoType"] = "storageApi"
		resp["apiInfo"] = map[string]any{"storageApi": storage}
		resp["applicationKeyExpirationTimestamp"] = nil
	default:
		var buckets any
		if bucketID != nil {
			buckets = []map[string]any{{"id": bucketID, "name": bucketName}}
		}
		storage := urls
		storage["allowed"] = map[string]any{"buckets": buckets, "capabilities": caps, "namePrefix": prefix}
		resp["apiInfo"] = map[string]any{"storageApi": storage}
		resp["applicationKeyExpirationTimestamp"] = nil
	}
	return resp
}
