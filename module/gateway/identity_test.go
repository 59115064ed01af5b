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

// TestIdentityLoadErrors: configurations that cannot work are refused when
// they load, naming the setting.
func TestIdentityLoadErrors(t *testing.T) {
	t.Setenv("BG_TEST_SIGNING", "a-signing-secret-of-at-least-32-bytes!")
	key := []auth.Key{{ID: "k1", Secret: "secret-one", Capabilities: []string{"all"}}}
	b2up := &UpstreamCredentials{Realm: "http://127.0.0.1:9100", KeyID: "id", ApplicationKey: "app-key"}
	cases := []struct {
		name string
		h    Handler
		want string
	}{
		{"unknown mode", Handler{API: "b2", Mode: "proxy"}, `mode: "proxy" is not a mode`},
		{"keys in passthrough", Handler{API: "b2", Keys: key}, "keys, keys_file and signing_secret are for mode gateway"},
		{"upstream credentials in passthrough", Handler{API: "b2", Upstream: &UpstreamCredentials{KeyID: "x", ApplicationKey: "y"}}, "upstream credentials are for mode gateway"},
		{"public ids without realm", Handler{API: "b2", PublicKeyIDs: []string{"k"}}, "public_key_ids needs upstream realm"},
		{"gateway without keys", Handler{API: "b2", Mode: "gateway", SigningSecret: "{env.BG_TEST_SIGNING}", Upstream: b2up}, "needs at least one key"},
		{"gateway without signing secret", Handler{API: "b2", Mode: "gateway", Keys: key, Upstream: b2up}, "signing_secret is missing"},
		{"signing secret placeholder unset", Handler{API: "b2", Mode: "gateway", Keys: key, SigningSecret: "{env.BG_TEST_UNSET}", Upstream: b2up}, "signing_secret holds a placeholder that is unknown or empty"},
		{"application key placeholder unset", Handler{API: "b2", Mode: "gateway", Keys: key, SigningSecret: "{env.BG_TEST_SIGNING}",
			Upstream: &UpstreamCredentials{Realm: b2up.Realm, KeyID: "id", ApplicationKey: "{env.BG_TEST_UNSET}"}}, "upstream application_key holds a placeholder"},
		{"token placeholder misspelt", Handler{API: "flashback", Mode: "gateway", Keys: key, Upstream: &UpstreamCredentials{Token: "{env_FLASHBACK_TOKEN}"}}, "upstream token holds a placeholder"},
		{"http realm off this machine", Handler{API: "b2", Mode: "gateway", Keys: key, SigningSecret: "{env.BG_TEST_SIGNING}",
			Upstream: &UpstreamCredentials{Realm: "http://api.backblazeb2.com", KeyID: "id", ApplicationKey: "app-key"}}, "in clear"},
		{"short signing secret", Handler{API: "b2", Mode: "gateway", Keys: key, SigningSecret: "short", Upstream: b2up}, "signing_secret"},
		{"B2 gateway without upstream key", Handler{API: "b2", Mode: "gateway", Keys: key, SigningSecret: "{env.BG_TEST_SIGNING}", Upstream: &UpstreamCredentials{Realm: b2up.Realm}}, "needs upstream realm, key_id and application_key"},
		{"Flashback gateway without token", Handler{API: "flashback", Mode: "gateway", Keys: key}, "needs upstream token"},
		{"realm for Flashback", Handler{API: "flashback", Upstream: &UpstreamCredentials{Realm: "https://x.example"}}, "has no sign-in call"},
		{"bad realm", Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "api.backblazeb2.com"}}, "upstream realm"},
		{"bad external_url", Handler{API: "b2", ExternalURL: "https://gw.example/b2"}, "external_url"},
		{"long token lifetime", Handler{API: "b2", TokenLifetime: caddy.Duration(25 * time.Hour)}, "token_lifetime"},
		{"key secret placeholder unset", Handler{API: "flashback", Mode: "gateway", Keys: []auth.Key{{ID: "k", Secret: "{env.BG_TEST_UNSET}"}}, Upstream: &UpstreamCredentials{Token: "t"}}, "keys:"},
		{"public ids in gateway mode", Handler{API: "flashback", Mode: "gateway", Keys: key, Upstream: &UpstreamCredentials{Token: "t"}, PublicKeyIDs: []string{"k"}}, "public_key_ids is for passthrough mode"},
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
