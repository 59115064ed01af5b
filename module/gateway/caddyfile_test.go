package gateway

import (
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
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
		{input: "bucketgate", err: "missing required subdirective 'api', at Testfile:1"},
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
