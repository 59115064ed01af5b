package gateway

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// writeTemp writes a file for a test and returns its path.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := t.TempDir() + "/" + name
	writeFile(t, path, content)
	return path
}

// gw is a complete gateway-mode handler for flashback with more from line 4,
// so that only those lines can be wrong.
func gw(more string) string {
	return "bucketgate {\n api flashback\n mode gateway\n" + more + "\n upstream {\n token t\n }\n}"
}

func TestUnmarshalCaddyfile(t *testing.T) {
	schema := writeTemp(t, "b2.json", `{"type":"object"}`)
	keys := writeTemp(t, "keys.json", `[]`)
	cases := []struct {
		input string
		want  Handler
		err   string
	}{
		{input: "bucketgate {\n api b2\n}", want: Handler{API: "b2"}},
		{input: `bucketgate {
			api b2
			schema ` + schema + `
			max_body_size 64KiB
			max_response_size 2MB
			max_depth 6
			require_revision
			upstream_timeout 5s
		}`, want: Handler{API: "b2", Schema: schema, MaxBodySize: 64 << 10, MaxResponseSize: 2_000_000, MaxDepth: 6, RequireRevision: true, UpstreamTimeout: caddy.Duration(5 * time.Second)}},
		{input: "bucketgate {\n api b2\n upstream_timeout soon\n}", err: "upstream_timeout must be a positive duration such as 30s, got 'soon', at Testfile:3"},
		{input: "bucketgate {\n api b2\n upstream_timeout 0s\n}", err: "upstream_timeout must be a positive duration"},
		{input: `bucketgate {
			api b2
			mode gateway
			external_url https://b2.example.com
			signing_secret {env.SIGNING}
			keys_file ` + keys + `
			key k1 {env.K1} {
				name ops
				capabilities listBuckets writeBuckets
				capabilities readBuckets
				buckets b1 b2
				workspace ws1 WRITE
				workspace ws2 READ
				allow_public
				expires 2027-01-01T00:00:00Z
			}
			key k2 s2
			upstream {
				realm https://api.backblazeb2.com
				key_id {env.B2_KEY_ID}
				application_key {env.B2_APP_KEY}
			}
		}`, want: Handler{API: "b2", Mode: "gateway", ExternalURL: "https://b2.example.com", SigningSecret: "{env.SIGNING}", KeysFile: keys,
			Keys: []auth.Key{
				{ID: "k1", Secret: "{env.K1}", Name: "ops", Capabilities: []string{"listBuckets", "writeBuckets", "readBuckets"}, Buckets: []string{"b1", "b2"},
					Workspaces: map[string]string{"ws1": "WRITE", "ws2": "READ"}, AllowPublic: true, Expires: "2027-01-01T00:00:00Z"},
				{ID: "k2", Secret: "s2"},
			},
			Upstream: &UpstreamCredentials{Realm: "https://api.backblazeb2.com", KeyID: "{env.B2_KEY_ID}", ApplicationKey: "{env.B2_APP_KEY}"}}},
		{input: "bucketgate {\n api b2\n upstream {\n realm http://127.0.0.1:9100\n }\n public_key_ids k1 k2\n}",
			want: Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "http://127.0.0.1:9100"}, PublicKeyIDs: []string{"k1", "k2"}}},
		{input: "bucketgate {\n api flashback\n local_state\n}", want: Handler{API: "flashback", LocalState: true}},
		{input: "bucketgate {\n api b2\n mode gateway\n signing_secret {env.S}\n key k1 s1\n upstream {\n key_id a\n application_key b\n realm http://127.0.0.1:9100\n }\n}",
			want: Handler{API: "b2", Mode: "gateway", SigningSecret: "{env.S}", Keys: []auth.Key{{ID: "k1", Secret: "s1"}}, Upstream: &UpstreamCredentials{Realm: "http://127.0.0.1:9100", KeyID: "a", ApplicationKey: "b"}}},
		{input: "bucketgate {\n api b2\n upstream {\n realm http://b2.internal\n }\n}", want: Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "http://b2.internal"}}},
		// The form of each argument, judged by the parser.
		{input: "bucketgate {\n api flashback\n local_state yes\n}", err: "at Testfile:3"},
		{input: "bucketgate {\n api b2\n key k1\n}", err: "at Testfile:3"},
		{input: "bucketgate {\n api b2\n key k1 s1\n key k1 s2\n}", err: "key k1 already specified, at Testfile:4"},
		{input: "bucketgate {\n api b2\n key k1 s1 {\n workspace ws1\n }\n}", err: "at Testfile:4"},
		{input: "bucketgate {\n api b2\n key k1 s1 {\n workspace ws1 READ\n workspace ws1 WRITE\n }\n}", err: "workspace ws1 already specified for key k1, at Testfile:5"},
		{input: "bucketgate {\n api b2\n key k1 s1 {\n secret x\n }\n}", err: "unrecognized key k1 subdirective 'secret', at Testfile:4"},
		{input: "bucketgate {\n api b2\n upstream {\n realm\n }\n}", err: "at Testfile:4"},
		{input: "bucketgate {\n api b2\n upstream {\n bogus x\n }\n}", err: "unrecognized upstream subdirective 'bogus', at Testfile:4"},
		{input: "bucketgate {\n api b2\n upstream {\n }\n upstream {\n }\n}", err: "upstream already specified"},
		{input: "bucketgate {\n api b2\n public_key_ids\n}", err: "at Testfile:3"},
		// Too many arguments: the error never quotes one, which may be a secret.
		{input: "bucketgate {\n api b2\n signing_secret s3cret-part other-part\n}", err: "signing_secret takes exactly one argument, at Testfile:3"},
		{input: "bucketgate {\n api b2\n upstream {\n application_key\n }\n}", err: "application_key takes exactly one argument, at Testfile:4"},
		{input: "bucketgate b2", err: "wrong argument count or unexpected line ending after 'b2', at Testfile:1"},
		{input: "bucketgate {\n api\n}", err: "at Testfile:2"},
		{input: "bucketgate {\n api b2 flashback\n}", err: "at Testfile:2"},
		{input: "bucketgate {\n api b2\n api b2\n}", err: "api already specified, at Testfile:3"},
		{input: "bucketgate {\n api b2\n max_body_size lots\n}", err: "invalid size 'lots'"},
		{input: "bucketgate {\n api b2\n max_depth 0\n}", err: "max_depth must be a positive whole number, got '0', at Testfile:3"},
		{input: "bucketgate {\n api b2\n require_revision yes\n}", err: "at Testfile:3"},
		{input: gw("key k1 s1 {\n name a\n name b\n }"), err: "key k1 name already specified, at Testfile:6"},
		{input: gw("key k1 s1 {\n allow_public\n allow_public\n }"), err: "key k1 allow_public already specified, at Testfile:6"},
		{input: "bucketgate {\n api b2\n upstream {\n realm https://a.example\n realm https://b.example\n }\n}", err: "upstream realm already specified, at Testfile:5"},
		// Names from a fixed list, judged where they are written, with the
		// closest known name for a misspelt one.
		{input: "bucketgate {\n api b2\n bogus 1\n}", err: "unrecognized subdirective 'bogus', at Testfile:3"},
		{input: "bucketgate {\n api b2\n requir_revision\n}", err: "unrecognized subdirective 'requir_revision'; did you mean 'require_revision'?, at Testfile:3"},
		{input: "bucketgate {\n api b2\n upstream {\n relam https://x.example\n }\n}", err: "unrecognized upstream subdirective 'relam'; did you mean 'realm'?, at Testfile:4"},
		{input: gw("key k1 s1 {\n capabilites all\n }"), err: "unrecognized key k1 subdirective 'capabilites'; did you mean 'capabilities'?, at Testfile:5"},
		{input: "bucketgate {\n api s3\n}", err: "api 's3' is not known: write b2 or flashback, at Testfile:2"},
		{input: "bucketgate {\n api b2\n upstream_api azure\n}", err: "upstream_api 'azure' is not known: write b2 or flashback, at Testfile:3"},
		{input: "bucketgate {\n api b2\n mode gatway\n}", err: "mode 'gatway' is not known: write passthrough or gateway; did you mean 'gateway'?, at Testfile:3"},
	}
	for _, tc := range cases {
		var h Handler
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.input, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.input, err)
			continue
		}
		if !reflect.DeepEqual(h, tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.input, h, tc.want)
		}
	}
}
