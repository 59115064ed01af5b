package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// TestCallsNotAnsweredAreRefused: in gateway mode, and in passthrough mode
// with a realm, a call the gateway does not answer is refused in B2's shape
// rather than passed to an upstream only the gateway's own calls are routed
// to: downloads with a gateway token in Authorization or in ?Authorization=,
// downloads with none, any other path. The credential goes nowhere. In
// plain passthrough, where reverse_proxy names its upstream itself, the
// same calls pass untouched.
func TestCallsNotAnsweredAreRefused(t *testing.T) {
	gatewayB2 := func(upstreamAPI string) *Handler {
		h := &Handler{API: "b2", UpstreamAPI: upstreamAPI, Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
			Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Capabilities: []string{"all"}}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}}
		if upstreamAPI == "flashback" {
			h.Upstream = &UpstreamCredentials{Token: "fb-token"}
		}
		return h
	}
	for _, tc := range []struct {
		name    string
		h       *Handler
		method  string
		target  string
		token   string // "gateway": a token this gateway issued
		inQuery bool
		passes  bool
	}{
		{name: "gateway, download, token in header", h: gatewayB2("b2"), method: "GET", target: "/file/demo-bucket/x", token: "gateway"},
		{name: "gateway, download, token in query", h: gatewayB2("b2"), method: "GET", target: "/file/demo-bucket/x", token: "gateway", inQuery: true},
		{name: "gateway, HEAD download", h: gatewayB2("b2"), method: "HEAD", target: "/file/demo-bucket/x", token: "gateway"},
		{name: "gateway, download without credential", h: gatewayB2("b2"), method: "GET", target: "/file/demo-bucket/x"},
		{name: "gateway, download by id", h: gatewayB2("b2"), method: "GET", target: "/b2api/v3/b2_download_file_by_id?fileId=4_z", token: "gateway"},
		{name: "gateway, another path", h: gatewayB2("b2"), method: "GET", target: "/", token: "gateway"},
		{name: "gateway, file call", h: gatewayB2("b2"), method: "POST", target: "/b2api/v3/b2_get_upload_url", token: "gateway"},
		{name: "translated, download", h: gatewayB2("flashback"), method: "GET", target: "/file/demo-bucket/x", token: "gateway"},
		{name: "passthrough with realm, download", h: &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://b2.test"}},
			method: "GET", target: "/file/demo-bucket/x", token: "4_upstream-token"},
		{name: "passthrough with realm, download without credential", h: &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://b2.test"}},
			method: "GET", target: "/file/demo-bucket/x"},
		{name: "passthrough with realm, unknown token on another path", h: &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://b2.test"}},
			method: "GET", target: "/", token: "4_upstream-token"},
		{name: "plain passthrough, download", h: &Handler{API: "b2"}, method: "GET", target: "/file/demo-bucket/x", token: "4_upstream-token", passes: true},
		{name: "plain passthrough, another path", h: &Handler{API: "b2"}, method: "GET", target: "/", passes: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, tc.h)
			token := tc.token
			if token == "gateway" {
				token = h.signer.Issue("k1", time.Now(), time.Hour)
			}
			r := httptest.NewRequest(tc.method, tc.target, nil)
			switch {
			case token == "":
			case tc.inQuery:
				q := r.URL.Query()
				q.Set("Authorization", token)
				r.URL.RawQuery = q.Encode()
			default:
				r.Header.Set("Authorization", token)
			}
			up := &upstream{answer: "file content"}
			w := serve(t, h, up, r)
			if tc.passes {
				if up.calls != 1 || w.Code != http.StatusOK {
					t.Errorf("got %d %s, upstream calls %d: want it passed untouched", w.Code, w.Body, up.calls)
				}
				return
			}
			if up.calls != 0 || w.Code != http.StatusUnauthorized {
				t.Fatalf("got %d %s, upstream calls %d: want 401 and none", w.Code, w.Body, up.calls)
			}
			if tc.method == "HEAD" {
				return
			}
			var e struct {
				Status  int
				Code    string
				Message string
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Status != 401 || e.Code == "" || e.Message == "" {
				t.Errorf("not a B2 error: %s", w.Body)
			}
			if token != "" && strings.Contains(w.Body.String(), token) {
				t.Errorf("the refusal quotes the token: %s", w.Body)
			}
		})
	}
}

// TestSignInHandsOutTheStoragesDownloadURL: a gateway-mode sign-in points
// downloads at the upstream's own download URL, where public files need no
// token, and at the gateway itself only when the upstream has none (a
// Flashback upstream), which refuses them.
func TestSignInHandsOutTheStoragesDownloadURL(t *testing.T) {
	for _, tc := range []struct {
		upstreamAPI, want string
	}{
		{"b2", "http://f.test"},
		{"flashback", "http://example.com"},
	} {
		h := &Handler{API: "b2", UpstreamAPI: tc.upstreamAPI, Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
			Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Capabilities: []string{"all"}}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}}
		if tc.upstreamAPI == "flashback" {
			h.Upstream = &UpstreamCredentials{Token: "fb-token"}
		}
		h, _ = newHandler(t, h)
		r := httptest.NewRequest(http.MethodGet, "/b2api/v2/b2_authorize_account", nil)
		r.SetBasicAuth("k1", "k1-secret")
		up := &upstream{answer: `{"accountId":"acct","authorizationToken":"up-token","apiUrl":"http://b2.test","downloadUrl":"http://f.test"}`}
		w := serve(t, h, up, r)
		var g struct{ APIURL, DownloadURL string }
		if err := json.Unmarshal(w.Body.Bytes(), &g); err != nil || w.Code != 200 || g.DownloadURL != tc.want || g.APIURL != "http://example.com" {
			t.Errorf("upstream %s: got %d %s, want downloadUrl %s", tc.upstreamAPI, w.Code, w.Body, tc.want)
		}
	}
}
