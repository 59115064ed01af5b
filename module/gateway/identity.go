package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/module/auth"
	"github.com/bucketgate/bucketgate/module/dialect"
)

// maxRememberedTokens bounds passthrough mode's in-process memory of
// upstream tokens; storage holds the rest.
const maxRememberedTokens = 100_000

// tokenMemories holds passthrough mode's in-process token memories, one per
// realm, shared by the handlers of the old and the new configuration during
// a reload, so that a reload forgets no token even with local_state.
var tokenMemories = caddy.NewUsagePool()

// provisionIdentity hashes the keys, prepares the signer and expands the
// upstream secrets, once, when the configuration loads.
func (h *Handler) provisionIdentity(ctx caddy.Context) error {
	if h.Mode == "" {
		h.Mode = modePassthrough
	}
	if h.TokenLifetime == 0 {
		h.TokenLifetime = caddy.Duration(maxTokenLifetime)
	}
	h.warnLiteralSecrets()
	repl := caddy.NewReplacer()
	var mem *auth.TokenMemory
	if h.Mode == modeGateway {
		kr, err := auth.NewKeyring(h.Keys, h.KeysFile, repl)
		if err != nil {
			return fmt.Errorf("keys: %v", err)
		}
		h.keyring = kr
		// The keyring keeps only digests; the configured values are not needed.
		h.Keys = nil
		if h.accounts != nil {
			if h.SigningSecret == "" {
				return errors.New("signing_secret is missing: mode gateway signs the tokens it issues to B2 clients with it; set it, such as {env.BUCKETGATE_SIGNING_SECRET}")
			}
			secret, err := expand(repl, "signing_secret", h.SigningSecret)
			if err != nil {
				return err
			}
			signer, err := auth.NewSigner(secret)
			if err != nil {
				return fmt.Errorf("signing_secret: %v", err)
			}
			h.signer = signer
		}
	}
	if up := h.Upstream; up != nil {
		for _, s := range []struct {
			name  string
			value *string
		}{{"upstream key_id", &up.KeyID}, {"upstream application_key", &up.ApplicationKey}, {"upstream token", &up.Token}} {
			v, err := expand(repl, s.name, *s.value)
			if err != nil {
				return err
			}
			*s.value = v
		}
		if up.Realm != "" && h.upAccounts != nil {
			h.b2 = &upstreamSession{}
			if h.Mode == modePassthrough {
				mem = h.tokenMemory(up.Realm)
			}
		}
	}
	if !h.LocalState && (mem != nil || h.serialised) {
		h.storage = ctx.Storage()
	}
	if mem != nil {
		h.tokens = auth.NewTokenStore(mem, h.storage, h.tokensKey)
	}
	return nil
}

// expand replaces the placeholders in a credential. One that is unknown, or
// an environment variable that is unset, is an error: used literally, it
// would be sent upstream as the credential, and fail only at the first call.
// The error names the setting, not the value, which may be a secret.
func expand(repl *caddy.Replacer, setting, value string) (string, error) {
	out, err := repl.ReplaceOrErr(value, true, true)
	if err != nil {
		return "", fmt.Errorf("%s holds a placeholder that is unknown or empty (is its environment variable set?)", setting)
	}
	return out, nil
}

// warnLiteralSecrets warns about secrets written into the configuration
// itself, where the admin API's /config and every copy of the adapted JSON
// show them. A Caddyfile's {$VAR} is expanded when it is adapted, so it
// counts as literal too; {env.VAR} is expanded only here, at load.
func (h *Handler) warnLiteralSecrets() {
	var literal []string
	check := func(setting, value string) {
		if value != "" && !strings.Contains(value, "{") {
			literal = append(literal, setting)
		}
	}
	check("signing_secret", h.SigningSecret)
	for _, k := range h.Keys {
		check("key "+k.ID, k.Secret)
	}
	if up := h.Upstream; up != nil {
		check("upstream application_key", up.ApplicationKey)
		check("upstream token", up.Token)
	}
	if len(literal) > 0 {
		h.logger.Warn("secrets written literally in the configuration: write them as placeholders such as {env.BUCKETGATE_SIGNING_SECRET}, expanded only when the configuration loads",
			zap.Strings("settings", literal))
	}
}

// tokenMemory takes the in-process token memory for realm: the one an
// earlier configuration used, if it is still loaded.
func (h *Handler) tokenMemory(realm string) *auth.TokenMemory {
	h.tokensKey = strings.TrimSuffix(realm, "/")
	mem, _ := tokenMemories.LoadOrStore(h.tokensKey, auth.NewTokenMemory(maxRememberedTokens))
	return mem.(*auth.TokenMemory)
}

// validateIdentity refuses combinations that cannot work, naming the
// setting, so mistakes surface when the configuration loads.
func (h *Handler) validateIdentity() error {
	up := h.Upstream
	if up == nil {
		up = &Upstream{}
	}
	if h.TokenLifetime < 0 || time.Duration(h.TokenLifetime) > maxTokenLifetime {
		return fmt.Errorf("token_lifetime must be positive and at most 24h, as B2's own tokens")
	}
	if h.ExternalURL != "" {
		if _, err := absoluteURL(h.ExternalURL); err != nil {
			return fmt.Errorf("external_url: %v", err)
		}
	}
	if h.translating && h.Mode != modeGateway {
		return fmt.Errorf("upstream_api %s differs from api %s: translation needs mode gateway, since the gateway holds the upstream credentials", h.UpstreamAPI, h.API)
	}
	if h.translating && (h.clientTr == nil || h.upstreamTr == nil) {
		return fmt.Errorf("api %s cannot be translated to upstream_api %s", h.API, h.UpstreamAPI)
	}
	if up.Realm != "" {
		if h.upAccounts == nil {
			return fmt.Errorf("upstream realm: the %s API has no sign-in call", h.UpstreamAPI)
		}
		if _, err := absoluteURL(up.Realm); err != nil {
			return fmt.Errorf("upstream realm: %v", err)
		}
	}
	switch h.Mode {
	case modePassthrough:
		switch {
		case h.Keys != nil || h.KeysFile != "" || h.SigningSecret != "":
			return errors.New("keys, keys_file and signing_secret are for mode gateway; clients in passthrough mode use the upstream's own credentials")
		case up.KeyID != "" || up.ApplicationKey != "" || up.Token != "":
			return errors.New("upstream credentials are for mode gateway; in passthrough mode the client's own go upstream")
		case len(h.PublicKeyIDs) > 0 && h.tokens == nil:
			return errors.New("public_key_ids needs upstream realm: the gateway learns which key is behind a token when it proxies the sign-in")
		}
	case modeGateway:
		switch {
		case h.keyring.Len() == 0:
			return errors.New("mode gateway needs at least one key (key or keys_file)")
		case len(h.PublicKeyIDs) > 0:
			return errors.New("public_key_ids is for passthrough mode; in gateway mode grant allow_public to keys")
		case h.upAccounts != nil && (up.Realm == "" || up.KeyID == "" || up.ApplicationKey == ""):
			return errors.New("mode gateway needs upstream realm, key_id and application_key: the gateway signs in to B2 itself")
		case h.upAccounts == nil && up.Token == "":
			return errors.New("mode gateway needs upstream token: the gateway calls Flashback with its own token")
		}
		if err := clearRealm(up.Realm); err != nil {
			return err
		}
	default:
		return fmt.Errorf("mode: %q is not a mode (passthrough or gateway)", h.Mode)
	}
	return nil
}

// clearRealm refuses an http realm in gateway mode, where the gateway sends
// its own application key there, unless the realm is on this machine.
func clearRealm(realm string) error {
	u, err := url.Parse(realm)
	if err != nil || u.Scheme != "http" || isLoopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("upstream realm %s would carry the gateway's own application key in clear: write https://, or use http only to a loopback address", realm)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func absoluteURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%q must be an http or https URL with no path, such as https://b2.example.com", s)
	}
	return u, nil
}

// caller is who sent a call, as far as the gateway can tell.
type caller struct {
	// key is the gateway key (gateway mode).
	key *auth.Principal
	// remembered is what the upstream granted the client's token
	// (passthrough mode with a realm).
	remembered *auth.Remembered
}

// id names the caller in logs: a key id, never a secret or token.
func (c *caller) id() string {
	switch {
	case c.key != nil:
		return c.key.KeyID
	case c.remembered != nil:
		return c.remembered.KeyID
	}
	return ""
}

func (c *caller) has(capability string) bool {
	switch {
	case c.key != nil:
		return c.key.Has(capability)
	case c.remembered != nil:
		return c.remembered.Has(capability)
	}
	return true // the upstream decides
}

func (c *caller) mayUseBucket(id string) bool {
	switch {
	case c.key != nil:
		return c.key.MayUseBucket(id)
	case c.remembered != nil:
		return c.remembered.MayUseBucket(id)
	}
	return true
}

// authenticate finds out who sent r: a gateway key (gateway mode), an
// upstream token the gateway has seen signed in (passthrough with a realm),
// or a credential it can only check for form (plain passthrough).
func (h *Handler) authenticate(r *http.Request) (*caller, *dialect.Error) {
	cred, derr := h.client.Credential(r)
	if derr != nil {
		return nil, derr
	}
	now := time.Now()
	switch {
	case h.Mode == modeGateway && h.signer != nil:
		keyID, err := h.signer.Verify(cred, now)
		if errors.Is(err, auth.ErrTokenExpired) {
			return nil, dialect.Errorf(dialect.Expired, "authorization token has expired; sign in again")
		}
		if err != nil {
			return nil, dialect.Errorf(dialect.Unauthenticated, "authorization token is not valid here; sign in again through this gateway")
		}
		return h.keyCaller(h.keyring.Lookup(keyID, now))
	case h.Mode == modeGateway:
		return h.keyCaller(h.keyring.Bearer(cred, now))
	case h.tokens != nil:
		rem, ok, err := h.tokens.Lookup(r.Context(), cred, now)
		if err != nil {
			// The token may be good; telling the client to sign in again
			// would not help while storage is down.
			h.logger.Error("could not look the token up in storage", zap.Error(err))
			return nil, dialect.Errorf(dialect.UpstreamFailed, "the gateway's storage, where it remembers tokens, could not be read")
		}
		if !ok {
			// Never signed in through a gateway sharing this one's storage,
			// or expired: B2 clients sign in again on this code.
			return nil, dialect.Errorf(dialect.Unauthenticated, "authorization token unknown to this gateway; sign in again through it")
		}
		return &caller{remembered: &rem}, nil
	}
	return &caller{}, nil
}

func (h *Handler) keyCaller(p *auth.Principal, err error) (*caller, *dialect.Error) {
	switch {
	case errors.Is(err, auth.ErrKeyExpired):
		return nil, dialect.Errorf(dialect.Expired, "this gateway key has expired")
	case err != nil:
		return nil, dialect.Errorf(dialect.Unauthenticated, "unknown gateway key")
	}
	return &caller{key: p}, nil
}

// authorise checks what can be checked from the update itself: the
// capabilities each field needs, the bucket, the account, and who may make
// a bucket public. Workspace grants need the bucket's state and are checked
// where it is read.
func (h *Handler) authorise(c *caller, u *dialect.Update) *dialect.Error {
	bucket := h.client.BucketID(u)
	if !c.mayUseBucket(bucket) {
		return dialect.Errorf(dialect.Forbidden, "this key may not use this bucket")
	}
	if h.accounts == nil {
		return nil
	}
	var missing []string
	for _, need := range h.accounts.Needs(u) {
		if !c.has(need) {
			missing = append(missing, need)
		}
	}
	if len(missing) > 0 {
		return dialect.Errorf(dialect.Forbidden, "this key lacks the capabilities this update needs: "+strings.Join(missing, ", "))
	}
	if c.remembered != nil {
		if acct := h.accounts.Account(u); acct != "" && acct != c.remembered.AccountID {
			return dialect.Errorf(dialect.Forbidden, "accountId is not the account of this token")
		}
	}
	if h.accounts.MakesPublic(u) {
		switch {
		case c.key != nil && !c.key.AllowPublic:
			return dialect.Errorf(dialect.Forbidden, "making a bucket public is reserved to keys granted it (allow_public), and this key is not")
		case c.remembered != nil && len(h.PublicKeyIDs) > 0 && !slices.Contains(h.PublicKeyIDs, c.remembered.KeyID):
			return errPublicKeyIDs
		}
	}
	return nil
}

var errPublicKeyIDs = dialect.Errorf(dialect.Forbidden, "making a bucket public is reserved to the application keys listed in public_key_ids, and this token's key is not")

// authoriseWorkspace checks a gateway key's workspace grants against the
// bucket as the upstream reports it: changing a bucket needs WRITE (or
// ADMIN) on its workspace, and moving it needs the same on the target.
func authoriseWorkspace(c *caller, state dialect.Bucket, target string, moves bool) *dialect.Error {
	if c.key == nil {
		return nil
	}
	if c.key.Role(state.Workspace) < auth.RoleWrite {
		return dialect.Errorf(dialect.Forbidden, "this key needs WRITE or ADMIN on the bucket's workspace")
	}
	if moves && target != state.Workspace && c.key.Role(target) < auth.RoleWrite {
		return dialect.Errorf(dialect.Forbidden, "moving a bucket needs WRITE or ADMIN on the target workspace too")
	}
	return nil
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

// sameAccount refuses, for a gateway key, an update naming another account
// than the one its sign-in answer showed (the upstream's, or the gateway's
// own name for an upstream without accounts), as B2 refuses an accountId
// that is not the token's. The gateway would otherwise put its own account
// in and apply an update B2 itself refuses.
func (h *Handler) sameAccount(r *http.Request, next caddyhttp.Handler, who *caller, u *dialect.Update) *dialect.Error {
	if who.key == nil || h.accounts == nil {
		return nil
	}
	acct := h.accounts.Account(u)
	if acct == "" {
		return nil
	}
	want := translatedAccount
	if h.b2 != nil {
		g, derr := h.upstreamGrant(r, next)
		if derr != nil {
			return derr
		}
		want = g.AccountID
	}
	if acct != want {
		return dialect.Errorf(dialect.Forbidden, "accountId is not the account of this token")
	}
	return nil
}
