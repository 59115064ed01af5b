package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/internal/auth"
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
		if h.clientSide.signIn != nil {
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
		if up.Realm != "" && h.upstreamSide.signIn != nil {
			h.session = &upstreamSession{}
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
		up = &UpstreamCredentials{}
	}
	if h.TokenLifetime < 0 || time.Duration(h.TokenLifetime) > maxTokenLifetime {
		return fmt.Errorf("token_lifetime must be positive and at most 24h, as B2's own tokens")
	}
	if h.ExternalURL != "" {
		if _, err := absoluteURL(h.ExternalURL); err != nil {
			return fmt.Errorf("external_url: %v", err)
		}
	}
	if h.translating() && h.Mode != modeGateway {
		return fmt.Errorf("upstream_api %s differs from api %s: translation needs mode gateway, since the gateway holds the upstream credentials", h.UpstreamAPI, h.API)
	}
	if h.translating() && (h.clientSide.translator == nil || h.upstreamSide.translator == nil) {
		return fmt.Errorf("api %s cannot be translated to upstream_api %s", h.API, h.UpstreamAPI)
	}
	if up.Realm != "" {
		if h.upstreamSide.signIn == nil {
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
		case h.upstreamSide.signIn != nil && (up.Realm == "" || up.KeyID == "" || up.ApplicationKey == ""):
			return errors.New("mode gateway needs upstream realm, key_id and application_key: the gateway signs in to B2 itself")
		case h.upstreamSide.signIn == nil && up.Token == "":
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
