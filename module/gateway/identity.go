package gateway

import (
	"fmt"
	"strings"

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
			secret, err := auth.Expand(repl, "signing_secret", h.SigningSecret)
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
			v, err := auth.Expand(repl, s.name, *s.value)
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
