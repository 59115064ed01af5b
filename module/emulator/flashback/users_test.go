package flashbackemulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAuthentication(t *testing.T) {
	e := start(t, testConfig())
	for _, tc := range []struct {
		name, header string
		status       int
	}{
		{"missing", "", http.StatusUnauthorized},
		{"basic scheme", "Basic dG9rLXdyaXRlcjp4", http.StatusUnauthorized},
		{"known token, other scheme", "Token tok-writer", http.StatusUnauthorized},
		{"token without scheme", "tok-writer", http.StatusUnauthorized},
		{"scheme without token", "Bearer ", http.StatusUnauthorized},
		{"unknown token", "Bearer tok-forged", http.StatusUnauthorized},
		{"prefix of a token", "Bearer tok-write", http.StatusUnauthorized},
		{"known token", "Bearer tok-writer", http.StatusOK},
		{"scheme in lower case", "bearer tok-writer", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/bucket", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			a := send(t, e, req)
			if a.status != tc.status {
				t.Fatalf("got %d %s, want %d", a.status, a.raw, tc.status)
			}
			if tc.status != http.StatusUnauthorized {
				return
			}
			if !strings.HasPrefix(a.Message, "Authorization:") {
				t.Errorf("message %q does not name the Authorization header", a.Message)
			}
			if a.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if strings.Contains(a.raw, "tok-") {
				t.Errorf("reply quotes the token: %s", a.raw)
			}
		})
	}
}

// Every call authenticates, not only the list.
func TestAuthenticationOnEveryCall(t *testing.T) {
	e := start(t, testConfig())
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/bucket", `{"name":"n"}`},
		{http.MethodPut, "/bucket/" + bucketA, `{"name":"n"}`},
		{http.MethodDelete, "/bucket/" + bucketA, ""},
	} {
		if a := call(t, e, c.method, c.path, "tok-forged", c.body); a.status != http.StatusUnauthorized {
			t.Errorf("%s %s with an unknown token: %d, want 401", c.method, c.path, a.status)
		}
	}
	if bucketAs(t, e, bucketA)["name"] != "Backups" {
		t.Error("an unauthenticated call changed the bucket")
	}
}
