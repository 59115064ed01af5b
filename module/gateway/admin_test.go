package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// statusOf asks the admin endpoint, as the admin API would.
func statusOf(t *testing.T) []handlerStatus {
	t.Helper()
	w := httptest.NewRecorder()
	if err := (adminAPI{}).handleStatus(w, httptest.NewRequest(http.MethodGet, "/bucketgate/status", nil)); err != nil {
		t.Fatal(err)
	}
	var got struct{ Handlers []handlerStatus }
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	if strings.Contains(w.Body.String(), "SECRET") {
		t.Errorf("status holds a secret: %s", w.Body)
	}
	return got.Handlers
}

// TestStatusReportsUpstreamSession: /bucketgate/status follows the
// gateway's own sign-in, its failure with the cause, and its recovery; the
// gauge follows too; neither shows a secret.
func TestStatusReportsUpstreamSession(t *testing.T) {
	t.Setenv("BG_TEST_SIGNING", "SECRET-signing-secret-of-at-least-32-bytes")
	h, _ := newHandler(t, &Handler{API: "b2", Mode: "gateway", SigningSecret: "{env.BG_TEST_SIGNING}",
		Keys:     []auth.Key{{ID: "k1", Secret: "SECRET-key-one", Capabilities: []string{"all"}}},
		Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "SECRET-app-key"}})
	mine := func() handlerStatus {
		t.Helper()
		for _, st := range statusOf(t) {
			if st.Realm == "https://b2.test" && st.Mode == "gateway" {
				return st
			}
		}
		t.Fatal("handler not in /bucketgate/status")
		return handlerStatus{}
	}
	st := mine()
	if st.API != "b2" || st.UpstreamAPI != "b2" || st.Keys != 1 || st.UpstreamSession == nil || st.UpstreamSession.SignedIn || st.RememberedTokens != nil {
		t.Fatalf("before any call: %+v", st)
	}
	gauge := func(state string) float64 {
		reg := prometheus.NewRegistry()
		reg.MustRegister(upstreamSessions)
		n, err := testutil.GatherAndCount(reg)
		if err != nil || n == 0 {
			return 0
		}
		families, _ := reg.Gather()
		var v float64
		for _, m := range families[0].GetMetric() {
			var api, s string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "upstream_api":
					api = l.GetValue()
				case "state":
					s = l.GetValue()
				}
			}
			if api == "b2" && s == state {
				v += m.GetGauge().GetValue()
			}
		}
		return v
	}
	notYet := gauge("not_yet")
	if notYet < 1 {
		t.Errorf("not_yet gauge %v", notYet)
	}

	// The realm is down: the update fails, and the status says why.
	down := &upstream{err: caddyhttp.Error(http.StatusBadGateway, errors.New("dial tcp 10.0.0.1:443: connect: connection refused"))}
	r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(`{"bucketId":"b1"}`))
	token := h.signer.Issue("k1", time.Now(), 3600e9)
	r.Header.Set("Authorization", token)
	if w := serveNext(t, h, down, r); w.Code != http.StatusBadGateway {
		t.Fatalf("update with the realm down: %d %s", w.Code, w.Body)
	}
	st = mine()
	if s := st.UpstreamSession; s.SignedIn || !strings.Contains(s.LastError, "connection refused") || s.LastErrorAt.IsZero() {
		t.Errorf("after a failed sign-in: %+v", s)
	}
	if gauge("failing") < 1 || gauge("not_yet") != notYet-1 {
		t.Errorf("gauge: failing %v, not_yet %v", gauge("failing"), gauge("not_yet"))
	}

	// The realm is back.
	f := &fakeB2{}
	r = httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(`{"bucketId":"b1"}`))
	r.Header.Set("Authorization", token)
	serveNext(t, h, upstreamFunc(f.ServeHTTP), r)
	st = mine()
	if s := st.UpstreamSession; !s.SignedIn || s.AccountID != "acct" || s.Expires.Sub(s.SignedInAt) != b2TokenLifetime {
		t.Errorf("after signing in: %+v", s)
	}
	if gauge("signed_in") < 1 || st.UpstreamSession.State != "signed_in" {
		t.Errorf("signed_in gauge %v, state %q", gauge("signed_in"), st.UpstreamSession.State)
	}

	// The gateway's key is revoked: B2 refuses its token, and the sign-in
	// that follows fails too. From that moment the session is failing,
	// though the token it held has not expired.
	revoked := upstreamFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		code := "bad_auth_token"
		if strings.HasSuffix(r.URL.Path, "/b2_authorize_account") {
			code = "unauthorized"
		}
		_, _ = io.WriteString(w, `{"status":401,"code":"`+code+`","message":"revoked"}`)
		return nil
	})
	r = httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(`{"bucketId":"b1"}`))
	r.Header.Set("Authorization", token)
	serveNext(t, h, revoked, r)
	st = mine()
	if s := st.UpstreamSession; s.SignedIn || s.State != "failing" || s.LastError == "" {
		t.Errorf("after the upstream refused the token and the sign-in failed: %+v", s)
	}
	if gauge("failing") < 1 || gauge("signed_in") != 0 {
		t.Errorf("gauge after revocation: failing %v, signed_in %v", gauge("failing"), gauge("signed_in"))
	}

	// Signing in works again.
	r = httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(`{"bucketId":"b1"}`))
	r.Header.Set("Authorization", token)
	serveNext(t, h, upstreamFunc(f.ServeHTTP), r)
	if s := mine().UpstreamSession; !s.SignedIn || s.State != "signed_in" {
		t.Errorf("after signing in again: %+v", s)
	}

	// Cleaned up with its configuration, it is no longer reported.
	_ = h.Cleanup()
	for _, st := range statusOf(t) {
		if st.Realm == "https://b2.test" && st.Mode == "gateway" {
			t.Errorf("handler still reported after Cleanup: %+v", st)
		}
	}
}

// TestStatusCountsRememberedTokens: passthrough with a realm reports how
// many upstream tokens it remembers.
func TestStatusCountsRememberedTokens(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://remembering.test"}})
	r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_authorize_account", nil)
	r.SetBasicAuth("up", "SECRET")
	serve(t, h, &upstream{answer: `{"accountId":"acct","authorizationToken":"SECRET-token","apiInfo":{"storageApi":{"apiUrl":"https://b2.test"}}}`}, r)
	for _, st := range statusOf(t) {
		if st.Realm == "https://remembering.test" {
			if st.RememberedTokens == nil || *st.RememberedTokens != 1 || st.RememberedTokensMax != maxRememberedTokens || st.UpstreamSession != nil {
				t.Errorf("%+v", st)
			}
			return
		}
	}
	t.Error("handler not in /bucketgate/status")
}

func TestStatusRefusesOtherMethods(t *testing.T) {
	err := (adminAPI{}).handleStatus(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/bucketgate/status", nil))
	if ae, ok := errors.AsType[caddy.APIError](err); !ok || ae.HTTPStatus != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v", err)
	}
}

// TestVerifiedCallerIsCaddysUser: every call the gateway answers for a
// verified key makes its id Caddy's {http.auth.user.id}, the access log's
// user_id: sign-ins, lists, creations, updates and deletions, in both APIs
// and both modes, and calls routed for a remembered token. An unverified
// caller sets none.
func TestVerifiedCallerIsCaddysUser(t *testing.T) {
	b2Gateway := func() *Handler {
		return &Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
			Keys:     []auth.Key{{ID: "ci-deployer", Secret: "SECRET-deployer", Capabilities: []string{"all"}}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}}
	}
	fbGateway := func() *Handler {
		return &Handler{API: "flashback", Mode: "gateway",
			Keys:     []auth.Key{{ID: "ci-deployer", Secret: "SECRET-deployer", Workspaces: map[string]string{"ws": "WRITE"}}},
			Upstream: &UpstreamCredentials{Token: "fb-token"}}
	}
	token := func(h *Handler) string { return h.signer.Issue("ci-deployer", time.Now(), time.Hour) }
	bearer := func(*Handler) string { return "Bearer SECRET-deployer" }
	for _, tc := range []struct {
		name           string
		h              func() *Handler
		method, target string
		body           string
		auth           func(*Handler) string
		want           string
	}{
		{"b2 sign-in", b2Gateway, "GET", "/b2api/v3/b2_authorize_account", "", nil, "ci-deployer"},
		{"b2 list", b2Gateway, "POST", "/b2api/v3/b2_list_buckets", `{"accountId":"acct"}`, token, "ci-deployer"},
		{"b2 create", b2Gateway, "POST", "/b2api/v3/b2_create_bucket", `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPrivate"}`, token, "ci-deployer"},
		{"b2 update", b2Gateway, "POST", "/b2api/v3/b2_update_bucket", `{"accountId":"acct","bucketId":"b1","bucketInfo":{}}`, token, "ci-deployer"},
		{"b2 delete", b2Gateway, "POST", "/b2api/v3/b2_delete_bucket", `{"accountId":"acct","bucketId":"b1"}`, token, "ci-deployer"},
		{"b2 refused key", b2Gateway, "POST", "/b2api/v3/b2_update_bucket", `{"bucketId":"b1"}`, func(*Handler) string { return "not-a-token" }, ""},
		{"flashback list", fbGateway, "GET", "/bucket", "", bearer, "ci-deployer"},
		{"flashback create", fbGateway, "POST", "/bucket", `{"name":"n","storageType":"S3","bucket":"media-bucket","workspaceId":"ws","key":"k","secret":"s"}`, bearer, "ci-deployer"},
		{"flashback update", fbGateway, "PUT", "/bucket/" + fbID, `{"name":"n"}`, bearer, "ci-deployer"},
		{"flashback delete", fbGateway, "DELETE", "/bucket/" + fbID, "", bearer, "ci-deployer"},
		{"flashback wrong secret", fbGateway, "PUT", "/bucket/" + fbID, `{"name":"n"}`, func(*Handler) string { return "Bearer wrong-secret" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, tc.h())
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.auth == nil {
				r.SetBasicAuth("ci-deployer", "SECRET-deployer")
			} else {
				r.Header.Set("Authorization", tc.auth(h))
			}
			repl := caddyhttp.NewTestReplacer(r)
			w := serveNext(t, h, newStorage(), r)
			if got, _ := repl.GetString("http.auth.user.id"); got != tc.want {
				t.Errorf("user id %q, want %q (answer %d %s)", got, tc.want, w.Code, w.Body)
			}
		})
	}

	// Passthrough with a realm: the key id behind a token, once its sign-in
	// showed it, for the calls the gateway judges and those it routes.
	h, _ := newHandler(t, &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://b2.test"}})
	r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_authorize_account", nil)
	r.SetBasicAuth("upstream-key-id", "upstream-secret")
	repl := caddyhttp.NewTestReplacer(r)
	serveNext(t, h, newStorage(), r)
	if got, _ := repl.GetString("http.auth.user.id"); got != "upstream-key-id" {
		t.Errorf("passthrough sign-in: user id %q", got)
	}
	for _, target := range []string{"/b2api/v3/b2_update_bucket", "/b2api/v3/b2_get_upload_url"} {
		r = httptest.NewRequest(http.MethodPost, target, strings.NewReader(`{"accountId":"acct","bucketId":"b1"}`))
		r.Header.Set("Authorization", "up-token")
		repl = caddyhttp.NewTestReplacer(r)
		serveNext(t, h, newStorage(), r)
		if got, _ := repl.GetString("http.auth.user.id"); got != "upstream-key-id" {
			t.Errorf("passthrough %s: user id %q", target, got)
		}
	}
}

// TestOneLinePerDecision: under a Caddy server that writes an access log
// for the call, the decision rides on the access line (ExtraLogFields,
// under bucketgate) and writes no line of its own; where no access line is
// written (no access log, a skipped host, log_skip), the decision is a line
// of its own. Either way it is recorded once, and no request id is made.
func TestOneLinePerDecision(t *testing.T) {
	for _, tc := range []struct {
		name   string
		logs   *caddyhttp.ServerLogConfig
		skip   bool
		riding bool
	}{
		{"no access log", nil, false, false},
		{"access log", &caddyhttp.ServerLogConfig{}, false, true},
		{"host skipped", &caddyhttp.ServerLogConfig{SkipHosts: []string{"example.com"}}, false, false},
		{"host mapped", &caddyhttp.ServerLogConfig{LoggerNames: map[string]caddyhttp.StringArray{"example.com": {"gw"}}, SkipUnmappedHosts: true}, false, true},
		{"unmapped host skipped", &caddyhttp.ServerLogConfig{SkipUnmappedHosts: true}, false, false},
		{"log_skip", &caddyhttp.ServerLogConfig{}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := newHandler(t, &Handler{})
			r := post(`{"bucketId":"b1"}`)
			vars := map[string]any{}
			if tc.skip {
				vars[caddyhttp.LogSkipVar] = true
			}
			ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, vars)
			ctx = context.WithValue(ctx, caddyhttp.ServerCtxKey, &caddyhttp.Server{Logs: tc.logs})
			extra := new(caddyhttp.ExtraLogFields)
			ctx = context.WithValue(ctx, caddyhttp.ExtraLogFieldsCtxKey, extra)
			r = r.WithContext(ctx)
			serveNext(t, h, &upstream{answer: bucketAnswer}, r)

			// The access line's content is checked with a real Caddy, in
			// caddytest (TestOperatorsView).
			if lines := logs.FilterMessage("update forwarded").All(); len(lines) != map[bool]int{true: 0, false: 1}[tc.riding] {
				t.Errorf("decision lines of its own: %v", lines)
			}
			if caddyhttp.GetVar(ctx, "uuid") != nil {
				t.Error("a request id was made")
			}
		})
	}
}

// upstreamFunc adapts a function to caddyhttp.Handler.
type upstreamFunc func(http.ResponseWriter, *http.Request) error

func (f upstreamFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) error { return f(w, r) }

// serveNext is serve for any next handler, keeping the request's replacer
// when it has one.
func serveNext(t *testing.T, h *Handler, next caddyhttp.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	if _, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); !ok {
		caddyhttp.NewTestReplacer(r)
	}
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, next); err != nil {
		t.Fatalf("ServeHTTP: %v", err)
	}
	return w
}
