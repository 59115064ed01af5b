package gateway

import (
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// TestSettingRules: each rule the settings obey is written once
// (checkSettings) and judges a Caddyfile, at the file and line of the
// setting at fault, and the same settings given as JSON, when they load.
func TestSettingRules(t *testing.T) {
	b2gw := func(more string) string {
		return "bucketgate {\n api b2\n mode gateway\n signing_secret {env.S}\n key k1 s1\n upstream {\n key_id a\n application_key b\n" + more + "\n }\n}"
	}
	cases := []struct {
		name, input, want string
		line              int
	}{
		{"api missing", "bucketgate", "missing required subdirective 'api'", 1},
		{"token lifetime too long", "bucketgate {\n api b2\n token_lifetime 48h\n}", "token_lifetime 48h0m0s must be positive and at most 24h, as B2's own tokens", 3},
		{"external_url with a path", "bucketgate {\n api b2\n external_url https://b2.example.com/x\n}", `external_url: "https://b2.example.com/x" must be an http or https URL with no path`, 3},
		{"external_url without a scheme", "bucketgate {\n api b2\n external_url b2.example.com\n}", "must be an http or https URL with no path, such as https://b2.example.com", 3},
		{"realm with a path", "bucketgate {\n api b2\n upstream {\n realm https://api.backblazeb2.com/b2api\n }\n}", "upstream realm: ", 4},
		{"translation in passthrough", "bucketgate {\n api b2\n upstream_api flashback\n}", "translation needs 'mode gateway'", 3},
		{"keys in passthrough", "bucketgate {\n api b2\n key k1 s1\n}", "key, keys_file and signing_secret are for 'mode gateway'; clients in passthrough mode use the upstream's own credentials", 1},
		{"signing secret in passthrough", "bucketgate {\n api b2\n signing_secret {env.S}\n}", "are for 'mode gateway'; clients in passthrough mode", 1},
		{"upstream token in passthrough", "bucketgate {\n api flashback\n upstream {\n token {env.T}\n }\n}", "upstream key_id, application_key and token are for 'mode gateway'; in passthrough mode the client's own credentials go upstream", 1},
		{"public ids without realm", "bucketgate {\n api b2\n public_key_ids k1\n}", "public_key_ids needs upstream realm", 3},
		{"public ids in gateway mode", gw("public_key_ids k1"), "public_key_ids is for passthrough mode; in 'mode gateway' grant allow_public to keys", 4},
		{"realm for Flashback", "bucketgate {\n api flashback\n upstream {\n realm https://api.backblazeb2.com\n }\n}", "upstream realm: the flashback API has no sign-in call; remove realm", 4},
		{"gateway without signing secret", "bucketgate {\n api b2\n mode gateway\n key k1 s1\n upstream {\n realm https://api.backblazeb2.com\n key_id a\n application_key b\n }\n}",
			"mode gateway is missing signing_secret (such as signing_secret {env.BUCKETGATE_SIGNING_SECRET})", 1},
		{"gateway without keys or upstream key", "bucketgate {\n api b2\n mode gateway\n signing_secret {env.S}\n}", "mode gateway is missing key (or keys_file), upstream realm, upstream key_id, upstream application_key", 1},
		{"Flashback gateway without token", "bucketgate {\n api flashback\n mode gateway\n key k1 s1\n}", "mode gateway is missing upstream token (such as token {env.FLASHBACK_TOKEN})", 1},
		{"realm in clear", b2gw("realm http://api.backblazeb2.com"), "upstream realm http://api.backblazeb2.com would carry the gateway's own application key in clear: write https://, or use http only to a loopback address", 9},
		{"unknown capability", gw("key k1 s1 {\n capabilities listBuckets writeBucket\n }"), `key k1: unknown capability "writeBucket"`, 5},
		{"unknown role", gw("key k1 s1 {\n workspace ws1 write\n }"), `key k1: workspace ws1: unknown role "write" (known: READ, WRITE, ADMIN)`, 5},
		{"expiry not RFC 3339", gw("key k1 s1 {\n expires 2027-01-01\n }"), "key k1: expires '2027-01-01' is not an RFC 3339 time; write one such as 2027-01-31T00:00:00Z", 5},
		{"schema file missing", "bucketgate {\n api b2\n schema /nonexistent/b2.json\n}", "schema /nonexistent/b2.json: no such file or directory", 3},
		{"keys file missing", gw("keys_file /nonexistent/keys.json"), "keys_file /nonexistent/keys.json: no such file or directory", 4},
		{"info key B2 refuses", "bucketgate {\n api b2\n name_info_key b2-name\n}", `name_info_key "b2-name" is not a key B2 accepts in bucketInfo`, 3},
		{"one info key for both", "bucketgate {\n api b2\n name_info_key x\n workspace_info_key x\n}", `name_info_key and workspace_info_key are both "x"`, 4},
		// Operators' policies: compiled and type-checked when they load.
		{"policy with a type error", "bucketgate {\n api b2\n policy public {\n on create\n expression call.op + 1 == 2\n }\n}",
			"policy public: expression does not compile", 5},
		{"policy with an unknown variable", "bucketgate {\n api b2\n policy p {\n expression requests.bucketType == 'allPrivate'\n }\n}",
			"undeclared reference to 'requests'", 4},
		{"policy that gives no bool", "bucketgate {\n api b2\n policy p {\n expression call.op\n }\n}",
			"policy p: expression gives string, not a bool", 4},
		{"policy with a syntax error", "bucketgate {\n api b2\n policy p {\n message why\n expression request.x ==\n }\n}",
			"policy p: expression does not compile", 5},
		{"policy without an expression", "bucketgate {\n api b2\n policy p {\n message why\n }\n}", "policy p: expression is missing", 3},
		{"policy action misspelt", "bucketgate {\n api b2\n policy p {\n expression true\n action warning\n }\n}",
			"policy p: action 'warning' is not known: write deny, warn or audit; did you mean 'warn'?", 5},
		{"policy on something else", "bucketgate {\n api b2\n policy p {\n on create list\n expression true\n }\n}",
			"policy p: on 'list' is not a write: write create, update or delete", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			at := ", at Testfile:" + strconv.Itoa(tc.line)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasSuffix(err.Error(), at) {
				t.Errorf("Caddyfile: got %v, want %q%s", err, tc.want, at)
			}

			// The same settings as JSON: parsed without the checks, then
			// loaded.
			var j Handler
			d := caddyfile.NewTestDispenser(tc.input)
			d.Next()
			if err := block(&parse{d: d, at: map[string]caddyfile.Token{}}, "", handlerSubdirectives, &j); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := testContext(t)
			defer cancel()
			err = j.Provision(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "Testfile") {
				t.Errorf("JSON: got %v, want %q", err, tc.want)
			}
		})
	}
}
