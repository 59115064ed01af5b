package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/internal/auth"
	"github.com/bucketgate/bucketgate/internal/dialect"
)

// fakeB2 is a B2 upstream for translation tests: sign-in, list by bucket id,
// and update with ifRevisionIs. interfere runs before each update is judged,
// as another writer would.
type fakeB2 struct {
	mu        sync.Mutex
	info      map[string]any
	revision  int64
	updates   int
	interfere func(f *fakeB2)
	// judge, when set, sees every update body that reaches the upstream.
	judge func(body []byte)
}

func (f *fakeB2) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	if f.judge != nil && strings.HasSuffix(r.URL.Path, "b2_update_bucket") {
		f.judge(raw)
	}
	bucket := func() map[string]any {
		return map[string]any{"accountId": "acct", "bucketId": "b1", "bucketName": "demo-bucket", "bucketType": "allPrivate",
			"bucketInfo": f.info, "revision": f.revision}
	}
	switch r.URL.Path {
	case "/b2api/v4/b2_authorize_account":
		_, _ = io.WriteString(w, `{"accountId":"acct","authorizationToken":"up-token","apiInfo":{"storageApi":{"apiUrl":"https://b2.test","s3ApiUrl":"https://s3.us-west-004.backblazeb2.com","allowed":{"buckets":null,"capabilities":["all"]}}}}`)
	case "/b2api/v3/b2_list_buckets":
		_ = json.NewEncoder(w).Encode(map[string]any{"buckets": []any{bucket()}})
	case "/b2api/v3/b2_update_bucket":
		f.updates++
		if f.interfere != nil {
			f.interfere(f)
		}
		if rev, _ := doc["ifRevisionIs"].(float64); int64(rev) != f.revision {
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"status":409,"code":"conflict","message":"simultaneous updates to bucket"}`)
			return nil
		}
		if info, ok := doc["bucketInfo"].(map[string]any); ok {
			f.info = info
		}
		f.revision++
		_ = json.NewEncoder(w).Encode(bucket())
	default:
		w.WriteHeader(http.StatusNotFound)
	}
	return nil
}

func newTranslatingHandler(t *testing.T) *Handler {
	t.Setenv("BG_TEST_UP_KEY", "up-application-key")
	h, _ := newHandler(t, &Handler{API: "flashback", UpstreamAPI: "b2", Mode: "gateway",
		Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Workspaces: map[string]string{"ws": "WRITE"}}},
		Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "{env.BG_TEST_UP_KEY}"}})
	return h
}

func putName(name string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPut, "/bucket/b1", strings.NewReader(`{"name":"`+name+`"}`))
	r.Header.Set("Authorization", "Bearer k1-secret")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	caddyhttp.NewTestReplacer(r)
	return r
}

func TestTranslatedUpdateMergesAgainAfterAConflict(t *testing.T) {
	h := newTranslatingHandler(t)
	up := &fakeB2{info: map[string]any{"workspaceId": "ws", "owner": "a"}, revision: 7}
	interfered := false
	up.interfere = func(f *fakeB2) {
		if !interfered { // another writer gets in once, between read and write
			interfered = true
			f.info = map[string]any{"workspaceId": "ws", "owner": "b"}
			f.revision++
		}
	}
	w := serveFB(t, h, up, putName("Backups"))
	if w.Code != 200 || w.Header().Get("ETag") != `"9"` || w.Body.String() != `{"success":true,"bucketId":"b1"}` {
		t.Fatalf("got %d %s ETag %q", w.Code, w.Body, w.Header().Get("ETag"))
	}
	if up.updates != 2 || up.info["name"] != "Backups" || up.info["owner"] != "b" || up.info["workspaceId"] != "ws" {
		t.Errorf("after %d writes the bucket info is %v; want the name merged onto the other writer's owner", up.updates, up.info)
	}
}

func TestTranslatedUpdateGivesUpAfterBoundedAttempts(t *testing.T) {
	h := newTranslatingHandler(t)
	up := &fakeB2{info: map[string]any{"workspaceId": "ws"}, revision: 1}
	up.interfere = func(f *fakeB2) { f.revision++ } // someone always gets in first
	w := serveFB(t, h, up, putName("Backups"))
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "B2 refused the write") || up.updates != maxMergeAttempts {
		t.Errorf("got %d %s after %d writes", w.Code, w.Body, up.updates)
	}
}

func TestTranslatedIfMatchIsNotRetried(t *testing.T) {
	h := newTranslatingHandler(t)
	up := &fakeB2{info: map[string]any{"workspaceId": "ws"}, revision: 4}
	up.interfere = func(f *fakeB2) { f.revision++ }
	w := serveFB(t, h, up, putName("Backups", "If-Match", `"4"`))
	if w.Code != http.StatusPreconditionFailed || up.updates != 1 {
		t.Errorf("got %d %s after %d writes; a client's precondition must not be merged past", w.Code, w.Body, up.updates)
	}
	w = serveFB(t, h, up, putName("Backups", "If-Match", `"4"`))
	if w.Code != http.StatusPreconditionFailed || up.updates != 1 {
		t.Errorf("stale If-Match: got %d after %d writes; it must be refused before writing", w.Code, up.updates)
	}
}

// pipeline is a translating gateway in each direction, in front of fake
// upstreams that judge every update reaching them with the upstream
// dialect's own schema and rules.
type pipeline struct {
	toB2, toFlashback *Handler
	token             string // a B2 client's gateway token
	fb, b2            dialect.Dialect
}

func newPipeline(tb testing.TB) *pipeline {
	fb, bb := translators(tb)
	p := &pipeline{fb: fb, b2: bb}
	p.toB2 = provisioned(tb, &Handler{API: "flashback", UpstreamAPI: "b2", Mode: "gateway",
		Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Workspaces: map[string]string{"ws": "ADMIN", "ws2": "ADMIN"}}},
		Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-application-key"}})
	p.toFlashback = provisioned(tb, &Handler{API: "b2", UpstreamAPI: "flashback", Mode: "gateway",
		SigningSecret: "a-signing-secret-of-at-least-32-bytes!",
		Keys: []auth.Key{{ID: "k1", Secret: "k1-secret", Capabilities: []string{"all"}, AllowPublic: true,
			Workspaces: map[string]string{"demo-workspace": "ADMIN", "ws2": "ADMIN"}}},
		Upstream: &UpstreamCredentials{Token: "demo-token"}})
	p.token = p.toFlashback.signer.Issue("k1", time.Now(), time.Hour)
	return p
}

// judge decodes and validates an update body as the upstream dialect to.
func judge(to dialect.Dialect, method, path string, body []byte) *dialect.Error {
	r := httptest.NewRequest(method, path, nil)
	call, _ := to.Match(r)
	u, derr := to.Decode(r, call, func() ([]byte, *dialect.Error) { return body, nil })
	if derr == nil {
		derr = to.Validate(u)
	}
	return derr
}

// run sends body through the gateway for its direction, failing t if what
// reached the upstream is invalid there or the gateway failed; it reports
// whether anything reached the upstream.
func (p *pipeline) run(t *testing.T, fromFlashback bool, body string) (reached bool) {
	var refused *dialect.Error
	var r *http.Request
	var next caddyhttp.Handler
	h := p.toB2
	if fromFlashback {
		up := &fakeB2{info: map[string]any{"workspaceId": "ws", "name": "Demo"}, revision: 3}
		up.judge = func(b []byte) { reached, refused = true, judge(p.b2, http.MethodPost, "/b2api/v3/b2_update_bucket", b) }
		next = up
		r = httptest.NewRequest(http.MethodPut, "/bucket/b1", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer k1-secret")
	} else {
		h = p.toFlashback
		up := newFakeFlashback()
		up.judge = func(b []byte) { reached, refused = true, judge(p.fb, http.MethodPut, "/bucket/"+fbID, b) }
		next = up
		r = httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(body))
		r.Header.Set("Authorization", p.token)
	}
	caddyhttp.NewTestReplacer(r)
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, next); err != nil {
		t.Fatal(err)
	}
	if refused != nil {
		t.Fatalf("the upstream's own schema refuses what reached it: %s", refused.Message)
	}
	if w.Code >= 500 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	return reached
}

// TestTranslatedPipelineReachesUpstream keeps FuzzTranslatedPipeline honest:
// valid updates do get through to the judging upstreams.
func TestTranslatedPipelineReachesUpstream(t *testing.T) {
	p := newPipeline(t)
	if !p.run(t, true, `{"name":"Backups","workspaceId":"ws2"}`) {
		t.Error("a valid Flashback update never reached the B2 upstream")
	}
	if !p.run(t, false, `{"bucketId":"`+fbID+`","bucketInfo":{"name":"Backups"},"lifecycleRules":[]}`) {
		t.Error("a valid B2 update never reached the Flashback upstream")
	}
}

// FuzzTranslatedPipeline runs arbitrary update bodies through the whole
// translating gateway, both ways: nothing the upstream's own schema would
// refuse may reach it, and the gateway may not fail.
func FuzzTranslatedPipeline(f *testing.F) {
	for _, row := range mapping {
		for _, ex := range row.fromFlashback {
			f.Add(true, ex.body)
		}
		for _, ex := range row.fromB2 {
			f.Add(false, strings.ReplaceAll(ex.body, `"b1"`, `"`+fbID+`"`))
		}
	}
	p := newPipeline(f)
	f.Fuzz(func(t *testing.T, fromFlashback bool, body string) {
		p.run(t, fromFlashback, body)
	})
}

// provisioned returns h provisioned and validated, for fuzz targets.
func provisioned(tb testing.TB, h *Handler) *Handler {
	tb.Helper()
	ctx, cancel := testContext(tb)
	tb.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Cleanup() })
	h.logger = zap.NewNop()
	return h
}
