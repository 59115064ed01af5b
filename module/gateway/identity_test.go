package gateway

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// TestIdentityLoadErrors: what only a load can judge (placeholders'
// values, a keys file's content) and what only JSON can write (negative
// numbers) is refused when the configuration loads, naming the setting and
// the placeholder, never a secret. TestSettingRules covers the rest.
func TestIdentityLoadErrors(t *testing.T) {
	t.Setenv("BG_TEST_SIGNING", "a-signing-secret-of-at-least-32-bytes!")
	key := []auth.Key{{ID: "k1", Secret: "secret-one", Capabilities: []string{"all"}}}
	b2up := &UpstreamCredentials{Realm: "http://127.0.0.1:9100", KeyID: "id", ApplicationKey: "app-key"}
	cases := []struct {
		name string
		h    Handler
		want string
	}{
		{"gateway whose keys file holds none", Handler{API: "b2", Mode: "gateway", KeysFile: writeTemp(t, "keys.json", "[]"), SigningSecret: "{env.BG_TEST_SIGNING}", Upstream: b2up}, "needs at least one key"},
		{"signing secret placeholder unset", Handler{API: "b2", Mode: "gateway", Keys: key, SigningSecret: "{env.BG_TEST_UNSET}", Upstream: b2up},
			"signing_secret is empty: the environment variable BG_TEST_UNSET, which {env.BG_TEST_UNSET} names, is not set (or empty) where Caddy runs"},
		{"application key placeholder unset", Handler{API: "b2", Mode: "gateway", Keys: key, SigningSecret: "{env.BG_TEST_SIGNING}",
			Upstream: &UpstreamCredentials{Realm: b2up.Realm, KeyID: "id", ApplicationKey: "{env.BG_TEST_UNSET}"}}, "upstream application_key is empty: the environment variable BG_TEST_UNSET"},
		{"token placeholder misspelt", Handler{API: "flashback", Mode: "gateway", Keys: key, Upstream: &UpstreamCredentials{Token: "{env_FLASHBACK_TOKEN}"}},
			"upstream token holds the placeholder {env_FLASHBACK_TOKEN}, which is not known here"},
		{"short signing secret", Handler{API: "b2", Mode: "gateway", Keys: key, SigningSecret: "short", Upstream: b2up}, "signing_secret"},
		{"key secret placeholder unset", Handler{API: "flashback", Mode: "gateway", Keys: []auth.Key{{ID: "k", Secret: "{env.BG_TEST_UNSET}"}}, Upstream: &UpstreamCredentials{Token: "t"}},
			`keys: auth: key "k" in the configuration: secret is empty: the environment variable BG_TEST_UNSET`},
		{"negative size", Handler{API: "b2", MaxBodySize: -1}, "max_body_size must be positive, got -1"},
		{"negative timeout", Handler{API: "b2", UpstreamTimeout: caddy.Duration(-time.Second)}, "upstream_timeout must be a positive duration, got -1s"},
		{"unknown mode", Handler{API: "b2", Mode: "proxy"}, "mode 'proxy' is not known: write passthrough or gateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := testContext(t)
			defer cancel()
			h := tc.h
			err := h.Provision(ctx)
			if err == nil {
				err = h.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret-one") {
				t.Errorf("error quotes a key secret: %v", err)
			}
		})
	}

	ok := Handler{API: "b2", Mode: "gateway", Keys: key, SigningSecret: "{env.BG_TEST_SIGNING}", Upstream: b2up}
	ctx, cancel := testContext(t)
	defer cancel()
	if err := ok.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if ok.Keys != nil {
		t.Error("configured keys kept after provisioning; only their digests should remain")
	}
}

// TestLiteralSecretsWarned: a secret written into the configuration is
// named (never quoted) in a warning when it loads; placeholders are not.
func TestLiteralSecretsWarned(t *testing.T) {
	t.Setenv("BG_TEST_SIGNING", "a-signing-secret-of-at-least-32-bytes!")
	for _, tc := range []struct {
		name string
		h    Handler
		want []any
	}{
		{"literal", Handler{API: "b2", Mode: "gateway", SigningSecret: "a-signing-secret-of-at-least-32-bytes!",
			Keys:     []auth.Key{{ID: "k1", Secret: "secret-one", Capabilities: []string{"all"}}},
			Upstream: &UpstreamCredentials{Realm: "https://api.backblazeb2.com", KeyID: "id", ApplicationKey: "app-key"}},
			[]any{"signing_secret", "key k1", "upstream application_key"}},
		{"placeholders", Handler{API: "b2", Mode: "gateway", SigningSecret: "{env.BG_TEST_SIGNING}",
			Keys:     []auth.Key{{ID: "k1", Secret: "{env.BG_TEST_SIGNING}", Capabilities: []string{"all"}}},
			Upstream: &UpstreamCredentials{Realm: "https://api.backblazeb2.com", KeyID: "id", ApplicationKey: "{env.BG_TEST_SIGNING}"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.WarnLevel)
			h := tc.h
			h.logger = zap.New(core)
			h.warnLiteralSecrets()
			entries := logs.All()
			if tc.want == nil {
				if len(entries) != 0 {
					t.Errorf("warned about placeholders: %v", entries)
				}
				return
			}
			if len(entries) != 1 {
				t.Fatalf("want one warning, got %v", entries)
			}
			got := entries[0].ContextMap()["settings"]
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("settings %v, want %v", got, tc.want)
			}
			if line := fmt.Sprint(entries[0].Message, entries[0].ContextMap()); strings.Contains(line, "secret-one") || strings.Contains(line, "app-key") || !strings.Contains(line, "{env.") {
				t.Errorf("warning quotes a secret or does not point at {env.*}: %s", line)
			}
		})
	}
}
