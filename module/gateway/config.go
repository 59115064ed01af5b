package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/bucketgate/bucketgate/internal/auth"
	"github.com/bucketgate/bucketgate/internal/dialect"
)

// checkSettings applies every rule the settings obey on their own, before
// anything is provisioned. It is the one place those rules are written:
// UnmarshalCaddyfile runs it once a directive is parsed, so a mistake is
// reported at the file and line of the setting at fault, and Provision runs
// it first, for configurations written in JSON. Rules that need what is
// provisioned (a keys file's content, a placeholder's value) are checked
// where it is.
func (h *Handler) checkSettings() error {
	if h.API == "" {
		return badSetting("api", "missing required subdirective 'api': write b2 or flashback")
	}
	clientAPI, upstreamAPI := h.API, h.UpstreamAPI
	if upstreamAPI == "" {
		upstreamAPI = clientAPI
	}
	for _, s := range []struct{ setting, name string }{{"api", clientAPI}, {"upstream_api", upstreamAPI}} {
		if _, ok := dialects[s.name]; !ok {
			return badSetting(s.setting, "%s '%s' is not known: write %s", s.setting, s.name, strings.Join(knownAPINames(), " or "))
		}
	}
	for _, name := range []string{clientAPI, upstreamAPI} {
		if check := dialects[name].checkOptions; check != nil {
			if err := check(h.dialectOptions()); err != nil {
				return err
			}
		}
	}
	if err := h.checkLimits(); err != nil {
		return err
	}
	if h.Schema != "" && !hasPlaceholder(h.Schema) {
		if _, err := os.Stat(h.Schema); err != nil {
			return badSetting("schema", "schema %s: %v", h.Schema, errors.Unwrap(err))
		}
	}
	if h.KeysFile != "" && !hasPlaceholder(h.KeysFile) {
		if _, err := os.Stat(h.KeysFile); err != nil {
			return badSetting("keys_file", "keys_file %s: %v", h.KeysFile, errors.Unwrap(err))
		}
	}
	if h.ExternalURL != "" && !hasPlaceholder(h.ExternalURL) {
		if _, err := absoluteURL(h.ExternalURL); err != nil {
			return badSetting("external_url", "external_url: %v", err)
		}
	}
	if _, err := compilePolicies(h.Policies, nil); err != nil {
		return err
	}
	for _, k := range h.Keys {
		if err := k.Check(); err != nil {
			setting := "key " + k.ID
			if ke, ok := errors.AsType[*auth.KeyError](err); ok && ke.Field != "" {
				setting += " " + ke.Field
			}
			return badSetting(setting, "key %s: %v", k.ID, err)
		}
	}
	return h.checkIdentity(clientAPI, upstreamAPI)
}

// checkLimits checks the sizes and durations. Zero is the default in JSON;
// the Caddyfile refuses writing it.
func (h *Handler) checkLimits() error {
	switch {
	case h.MaxBodySize < 0:
		return badSetting("max_body_size", "max_body_size must be positive, got %d", h.MaxBodySize)
	case h.MaxResponseSize < 0:
		return badSetting("max_response_size", "max_response_size must be positive, got %d", h.MaxResponseSize)
	case h.MaxDepth < 0:
		return badSetting("max_depth", "max_depth must be a positive whole number, got %d", h.MaxDepth)
	case h.UpstreamTimeout < 0:
		return badSetting("upstream_timeout", "upstream_timeout must be a positive duration, got %s", time.Duration(h.UpstreamTimeout))
	case h.TokenLifetime < 0 || time.Duration(h.TokenLifetime) > maxTokenLifetime:
		return badSetting("token_lifetime", "token_lifetime %s must be positive and at most 24h, as B2's own tokens", time.Duration(h.TokenLifetime))
	}
	return nil
}

// checkIdentity checks the identity settings against the mode and the two
// APIs: each mode's settings and no other mode's, and what a mode needs.
func (h *Handler) checkIdentity(clientAPI, upstreamAPI string) error {
	up := h.Upstream
	if up == nil {
		up = &UpstreamCredentials{}
	}
	if up.Realm != "" {
		if !signsIn(upstreamAPI) {
			return badSetting("upstream realm", "upstream realm: the %s API has no sign-in call; remove realm", upstreamAPI)
		}
		if !hasPlaceholder(up.Realm) {
			if _, err := absoluteURL(up.Realm); err != nil {
				return badSetting("upstream realm", "upstream realm: %v", err)
			}
		}
	}
	switch h.Mode {
	case "", modePassthrough:
		switch {
		case upstreamAPI != clientAPI:
			return badSetting("upstream_api", "upstream_api %s differs from api %s: translation needs 'mode gateway', since the gateway holds the upstream credentials", upstreamAPI, clientAPI)
		case len(h.Keys) > 0 || h.KeysFile != "" || h.SigningSecret != "":
			return badSetting("", "key, keys_file and signing_secret are for 'mode gateway'; clients in passthrough mode use the upstream's own credentials")
		case up.KeyID != "" || up.ApplicationKey != "" || up.Token != "":
			return badSetting("", "upstream key_id, application_key and token are for 'mode gateway'; in passthrough mode the client's own credentials go upstream")
		case len(h.PublicKeyIDs) > 0 && (up.Realm == "" || !signsIn(upstreamAPI)):
			return badSetting("public_key_ids", "public_key_ids needs upstream realm: the gateway learns which key is behind a token when it proxies the sign-in")
		}
		return nil
	case modeGateway:
	default:
		return badSetting("mode", "mode '%s' is not known: write %s or %s", h.Mode, modePassthrough, modeGateway)
	}
	if upstreamAPI != clientAPI && !(translates(clientAPI) && translates(upstreamAPI)) {
		return badSetting("upstream_api", "api %s cannot be translated to upstream_api %s", clientAPI, upstreamAPI)
	}
	if len(h.PublicKeyIDs) > 0 {
		return badSetting("public_key_ids", "public_key_ids is for passthrough mode; in 'mode gateway' grant allow_public to keys")
	}
	var missing []string
	if len(h.Keys) == 0 && h.KeysFile == "" {
		missing = append(missing, "key (or keys_file)")
	}
	if signsIn(clientAPI) && h.SigningSecret == "" {
		missing = append(missing, "signing_secret (such as signing_secret {env.BUCKETGATE_SIGNING_SECRET})")
	}
	if signsIn(upstreamAPI) {
		for _, s := range []struct{ name, value string }{{"realm", up.Realm}, {"key_id", up.KeyID}, {"application_key", up.ApplicationKey}} {
			if s.value == "" {
				missing = append(missing, "upstream "+s.name)
			}
		}
	} else if up.Token == "" {
		missing = append(missing, "upstream token (such as token {env.FLASHBACK_TOKEN})")
	}
	if len(missing) > 0 {
		return badSetting("", "mode gateway is missing %s", strings.Join(missing, ", "))
	}
	return clearRealm(up.Realm)
}

// badSetting refuses the configuration, naming the setting at fault as the
// Caddyfile writes it ("" for the directive itself).
func badSetting(setting, format string, args ...any) error {
	return &dialect.SettingError{Setting: setting, Err: fmt.Errorf(format, args...)}
}

// hasPlaceholder reports whether s holds a placeholder, which only the
// configuration's load can expand and judge.
func hasPlaceholder(s string) bool { return strings.Contains(s, "{") }

// clearRealm refuses an http realm in gateway mode, where the gateway sends
// its own application key there, unless the realm is on this machine.
func clearRealm(realm string) error {
	u, err := url.Parse(realm)
	if err != nil || u.Scheme != "http" || isLoopback(u.Hostname()) {
		return nil
	}
	return badSetting("upstream realm", "upstream realm %s would carry the gateway's own application key in clear: write https://, or use http only to a loopback address", realm)
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
