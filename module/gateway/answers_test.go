package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// TestAmbiguousAnswersAreRefused: an upstream answer the gateway reads or
// filters that repeats a key is read by nothing: the client gets a 502 in
// its API's shape, and nothing of the answer, since a key repeated is read
// as one value by one parser and as another by the next. Each case repeats
// the field the gateway decides on.
func TestAmbiguousAnswersAreRefused(t *testing.T) {
	const b2SignIn = `{"accountId":"acct","authorizationToken":"up-token","apiInfo":{"storageApi":{"apiUrl":"http://b2.test","downloadUrl":"http://f.test","capabilities":["listBuckets","readBuckets","writeBuckets"]}}}`
	b2Gateway := func() *Handler {
		return &Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
			Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Capabilities: []string{"listBuckets", "readBuckets", "writeBuckets"}, Buckets: []string{"b1"}}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-application-key"}}
	}
	fbGateway := func() *Handler {
		return &Handler{API: "flashback", Mode: "gateway",
			Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret-value", Workspaces: map[string]string{"ws-a": "WRITE"}}},
			Upstream: &UpstreamCredentials{Token: "demo-token"}}
	}
	for _, tc := range []struct {
		name    string
		h       *Handler
		answers map[string]string // by the upstream path's last segment
		request func(h *Handler) *http.Request
		want    string // in the 502's body
	}{
		{
			name: "Flashback list, workspace repeated", h: fbGateway(),
			answers: map[string]string{"bucket": `{"success":true,"buckets":[{"id":"b1","name":"n","workspaceId":"ws-a","workspaceId":"ws-b"}]}`},
			request: func(*Handler) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/bucket", nil)
				r.Header.Set("Authorization", "Bearer k1-secret-value")
				return r
			},
			want: `"success":false`,
		},
		{
			name: "Flashback bucket read, id repeated", h: fbGateway(),
			answers: map[string]string{"bucket": `{"success":true,"buckets":[{"id":"b2","workspaceId":"ws-a","id":"b1"}]}`},
			request: func(*Handler) *http.Request {
				r := httptest.NewRequest(http.MethodPut, "/bucket/b1", strings.NewReader(`{"name":"n"}`))
				r.Header.Set("Authorization", "Bearer k1-secret-value")
				return r
			},
			want: `"success":false`,
		},
		{
			name: "B2 list, bucket id repeated", h: b2Gateway(),
			answers: map[string]string{"b2_authorize_account": b2SignIn, "b2_list_buckets": `{"buckets":[{"bucketId":"b2","bucketName":"two","bucketId":"b1"}]}`},
			request: func(h *Handler) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_list_buckets", strings.NewReader(`{"accountId":"acct"}`))
				r.Header.Set("Authorization", h.signer.Issue("k1", time.Now(), time.Hour))
				return r
			},
			want: `"code":"bad_gateway"`,
		},
		{
			name: "B2 list, buckets repeated", h: b2Gateway(),
			answers: map[string]string{"b2_authorize_account": b2SignIn, "b2_list_buckets": `{"buckets":[{"bucketId":"b1"}],"buckets":[{"bucketId":"b2"}]}`},
			request: func(h *Handler) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_list_buckets", strings.NewReader(`{"accountId":"acct"}`))
				r.Header.Set("Authorization", h.signer.Issue("k1", time.Now(), time.Hour))
				return r
			},
			want: `"code":"bad_gateway"`,
		},
		{
			name: "B2 gateway's own sign-in, token repeated", h: b2Gateway(),
			answers: map[string]string{"b2_authorize_account": strings.Replace(b2SignIn, `"authorizationToken":"up-token"`, `"authorizationToken":"a","authorizationToken":"b"`, 1)},
			request: func(*Handler) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_authorize_account", nil)
				r.SetBasicAuth("k1", "k1-secret")
				return r
			},
			want: `"code":"bad_gateway"`,
		},
		{
			name:    "B2 passthrough sign-in, apiUrl repeated",
			h:       &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://b2.test"}},
			answers: map[string]string{"b2_authorize_account": strings.Replace(b2SignIn, `"apiUrl":"http://b2.test"`, `"apiUrl":"http://b2.test","apiUrl":"http://elsewhere.test"`, 1)},
			request: func(*Handler) *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_authorize_account", nil)
				r.SetBasicAuth("up", "up-application-key")
				return r
			},
			want: `"code":"bad_gateway"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, tc.h)
			up := upstreamFunc(func(w http.ResponseWriter, r *http.Request) error {
				parts := strings.Split(r.URL.Path, "/")
				answer, ok := tc.answers[parts[len(parts)-1]]
				if !ok {
					w.WriteHeader(http.StatusNotFound)
					return nil
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, answer)
				return nil
			})
			r := tc.request(h)
			caddyhttp.NewTestReplacer(r)
			w := serveNext(t, h, up, r)
			if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("got %d %s, want 502 with %s", w.Code, w.Body, tc.want)
			}
			for _, leak := range []string{"ws-b", "elsewhere", "two", "up-token"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("the answer shows %q from the ambiguous answer: %s", leak, w.Body)
				}
			}
		})
	}
}
