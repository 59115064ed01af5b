package gateway

import (
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/bucketgate/bucketgate/module/auth"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	cases := []struct {
		input string
		want  Handler
		err   string
	}{
		{input: "bucketgate {\n api b2\n}", want: Handler{API: "b2"}},
		{input: `bucketgate {
			api b2
			schema /etc/bucketgate/b2.json
			max_body_size 64KiB
			max_response_size 2MB
			max_depth 6
			require_revision
		}`, want: Handler{API: "b2", Schema: "/etc/bucketgate/b2.json", MaxBodySize: 64 << 10, MaxResponseSize: 2_000_000, MaxDepth: 6, RequireRevision: true}},
		{input: `bucketgate {
			api b2
			mode gateway
			external_url https://b2.example.com
			signing_secret {env.SIGNING}
			keys_file /etc/bucketgate/keys.json
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
		}`, want: Handler{API: "b2", Mode: "gateway", ExternalURL: "https://b2.example.com", SigningSecret: "{env.SIGNING}", KeysFile: "/etc/bucketgate/keys.json",
			Keys: []auth.Key{
				{ID: "k1", Secret: "{env.K1}", Name: "ops", Capabilities: []string{"listBuckets", "writeBuckets", "readBuckets"}, Buckets: []string{"b1", "b2"},
					Workspaces: map[string]string{"ws1": "WRITE", "ws2": "READ"}, AllowPublic: true, Expires: "2027-01-01T00:00:00Z"},
				{ID: "k2", Secret: "s2"},
			},
			Upstream: &Upstream{Realm: "https://api.backblazeb2.com", KeyID: "{env.B2_KEY_ID}", ApplicationKey: "{env.B2_APP_KEY}"}}},
		{input: "bucketgate {\n api b2\n upstream {\n realm http://127.0.0.1:9100\n }\n public_key_ids k1 k2\n}",
			want: Handler{API: "b2", Upstream: &Upstream{Realm: "http://127.0.0.1:9100"}, PublicKeyIDs: []string{"k1", "k2"}}},
		{input: "bucketgate", err: "missing required subdirective 'api', at Testfile:1"},
		{input: "bucketgate {\n api b2\n key k1\n}", err: "at Testfile:3"},
		{input: "bucketgate {\n api b2\n key k1 s1\n key k1 s2\n}", err: "key k1 already specified, at Testfile:4"},
		{input: "bucketgate {\n api b2\n key k1 s1 {\n workspace ws1\n }\n}", err: "at Testfile:4"},
		{input: "bucketgate {\n api b2\n key k1 s1 {\n workspace ws1 READ\n workspace ws1 WRITE\n }\n}", err: "workspace ws1 already specified for key k1, at Testfile:5"},
		{input: "bucketgate {\n api b2\n key k1 s1 {\n secret x\n }\n}", err: "unrecognized key subdirective 'secret', at Testfile:4"},
		{input: "bucketgate {\n api b2\n upstream {\n realm\n }\n}", err: "at Testfile:4"},
		{input: "bucketgate {\n api b2\n upstream {\n bogus x\n }\n}", err: "unrecognized upstream subdirective 'bogus', at Testfile:4"},
		{input: "bucketgate {\n api b2\n upstream {\n }\n upstream {\n }\n}", err: "upstream already specified"},
		{input: "bucketgate {\n api b2\n public_key_ids\n}", err: "at Testfile:3"},
		{input: "bucketgate b2", err: "wrong argument count or unexpected line ending after 'b2', at Testfile:1"},
		{input: "bucketgate {\n api\n}", err: "at Testfile:2"},
		{input: "bucketgate {\n api b2 flashback\n}", err: "at Testfile:2"},
		{input: "bucketgate {\n api b2\n api b2\n}", err: "api already specified, at Testfile:3"},
		{input: "bucketgate {\n api b2\n bogus 1\n}", err: "unrecognized subdirective 'bogus', at Testfile:3"},
		{input: "bucketgate {\n api b2\n max_body_size lots\n}", err: "invalid size 'lots'"},
		{input: "bucketgate {\n api b2\n max_depth 0\n}", err: "max_depth must be a positive whole number, got '0', at Testfile:3"},
		{input: "bucketgate {\n api b2\n require_revision yes\n}", err: "at Testfile:3"},
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
