package auth

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestExpand: every placeholder is expanded, and one that is unknown or
// empty is named, with the setting, and the value is never quoted.
func TestExpand(t *testing.T) {
	t.Setenv("BG_TEST_SET", "from-env")
	t.Setenv("BG_TEST_EMPTY", "")
	repl := caddy.NewReplacer()
	for _, tc := range []struct {
		value, want, err string
	}{
		{value: "literal-secret", want: "literal-secret"},
		{value: "{env.BG_TEST_SET}", want: "from-env"},
		{value: "pre-{env.BG_TEST_SET}-post", want: "pre-from-env-post"},
		{value: `\{not-a-placeholder\}`, want: "{not-a-placeholder}"},
		{value: "{env.BG_TEST_UNSET}", err: "token is empty: the environment variable BG_TEST_UNSET, which {env.BG_TEST_UNSET} names, is not set"},
		{value: "{env.BG_TEST_EMPTY}", err: "the environment variable BG_TEST_EMPTY"},
		{value: "s3cret{env.BG_TEST_SET}{nope.x}", err: "token holds the placeholder {nope.x}, which is not known here"},
		{value: "s3cret{unbalanced", want: "s3cret{unbalanced"},
	} {
		got, err := Expand(repl, "token", tc.value)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: got %q, %v; want %q", tc.value, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: got error %v, want %q", tc.value, err, tc.err)
		case err != nil && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("%q: the error quotes the value: %v", tc.value, err)
		}
	}
}
