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

	"github.com/bucketgate/bucketgate/internal/auth"
)

const fbID = "11111111-2222-3333-4444-555555555555"

// fakeFlashback is a minimal Flashback upstream: one bucket, GET /bucket and
// PUT /bucket/{id} with partial updates. Each PUT is slow, so concurrent
// updates would interleave if the gateway did not serialise them.
type fakeFlashback struct {
	mu     sync.Mutex
	bucket map[string]any
	puts   int
	reads  int
	answer string // when set, PUT answers this instead
	// judge, when set, sees every update body that reaches the upstream.
	judge func(body []byte)
}

func newFakeFlashback() *fakeFlashback {
	return &fakeFlashback{bucket: map[string]any{"id": fbID, "name": "Backups", "bucket": "demo-bucket", "storageType": "S3",
		"workspaceId": "demo-workspace", "secret": map[string]any{}, "status": "ONLINE"}}
}

func (f *fakeFlashback) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer demo-token" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"success":false,"message":"Unauthorized"}`)
		return nil
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/bucket":
		f.mu.Lock()
		f.reads++
		// status changes on its own; it must not change the ETag.
		f.bucket["lastStatusAt"] = time.Now().Format(time.RFC3339Nano)
		b, _ := json.Marshal(map[string]any{"success": true, "buckets": []any{f.bucket}})
		f.mu.Unlock()
		_, _ = w.Write(b)
	case r.Method == http.MethodPut && r.URL.Path == "/bucket/"+fbID:
		raw, _ := io.ReadAll(r.Body)
		if f.judge != nil {
			f.judge(raw)
		}
		var patch map[string]any
		_ = json.Unmarshal(raw, &patch)
		time.Sleep(20 * time.Millisecond)
		f.mu.Lock()
		f.puts++
		if f.answer != "" {
			f.mu.Unlock()
			_, _ = io.WriteString(w, f.answer)
			return nil
		}
		for k, v := range patch {
			f.bucket[k] = v
		}
		f.mu.Unlock()
		_, _ = io.WriteString(w, `{"success":true,"bucketId":"`+fbID+`"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"success":false,"message":"Not found"}`)
	}
	return nil
}

func put(body string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPut, "/bucket/"+fbID, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer demo-token")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	caddyhttp.NewTestReplacer(r)
	return r
}

func serveFB(t *testing.T, h *Handler, up caddyhttp.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, up); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestFlashbackETagRoundTrip(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback"})
	up := newFakeFlashback()

	w := serveFB(t, h, up, put(`{"name":"First"}`))
	first := w.Header().Get("ETag")
	if w.Code != 200 || first == "" || w.Body.String() != `{"success":true,"bucketId":"`+fbID+`"}` {
		t.Fatalf("got %d %s ETag %q", w.Code, w.Body, first)
	}

	w = serveFB(t, h, up, put(`{"region":"us-east-1"}`, "If-Match", first))
	second := w.Header().Get("ETag")
	if w.Code != 200 || second == "" || second == first {
		t.Fatalf("If-Match with the current ETag: %d %s ETag %q", w.Code, w.Body, second)
	}

	puts := up.puts
	w = serveFB(t, h, up, put(`{"name":"Lost update"}`, "If-Match", first))
	if w.Code != 412 || !strings.Contains(w.Body.String(), `"success":false`) {
		t.Errorf("stale If-Match: %d %s", w.Code, w.Body)
	}
	if up.puts != puts || up.bucket["name"] != "First" {
		t.Error("a stale update reached the upstream")
	}
}

func TestFlashbackRequireRevision(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback", RequireRevision: true})
	up := newFakeFlashback()
	w := serveFB(t, h, up, put(`{"name":"x"}`))
	if w.Code != 428 || up.puts != 0 || up.reads != 0 {
		t.Errorf("got %d %s; upstream puts %d reads %d", w.Code, w.Body, up.puts, up.reads)
	}
}

func TestFlashbackConcurrentIfMatch(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback"})
	up := newFakeFlashback()
	etag := serveFB(t, h, up, put(`{"name":"Start"}`)).Header().Get("ETag")

	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := httptest.NewRecorder()
			_ = h.ServeHTTP(w, put(`{"name":"writer-`+string(rune('a'+i))+`"}`, "If-Match", etag), up)
			codes <- w.Code
		})
	}
	wg.Wait()
	close(codes)
	won := 0
	for c := range codes {
		switch c {
		case 200:
			won++
		case 412:
		default:
			t.Errorf("unexpected status %d", c)
		}
	}
	if won != 1 || up.puts != 2 {
		t.Errorf("%d updates won and %d reached the upstream; want exactly 1 (after the first)", won, up.puts-1)
	}
}

func TestFlashbackRefusals(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback"})
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		want   string
	}{
		{"no token", func() *http.Request { r := put(`{"name":"x"}`); r.Header.Del("Authorization"); return r }(), 401, "missing Authorization"},
		{"not Bearer", put(`{"name":"x"}`, "Authorization", "Token abc"), 401, "malformed Authorization"},
		{"bad body", put(`{"storageType":"FTP"}`), 400, "storageType: must be one of S3, GCS, BLOB"},
		{"bad If-Match", put(`{"name":"x"}`, "If-Match", "abc"), 400, "If-Match must be one strong entity tag"},
		{"unknown bucket", func() *http.Request {
			r := put(`{"name":"x"}`, "If-Match", `"1"`)
			r.URL.Path = "/bucket/22222222-2222-3333-4444-555555555555"
			return r
		}(), 404, "bucket not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeFlashback()
			w := serveFB(t, h, up, tc.req)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) || !strings.HasPrefix(w.Body.String(), `{"success":false,"message":`) {
				t.Errorf("got %d %s, want %d %q", w.Code, w.Body, tc.status, tc.want)
			}
			if up.puts != 0 {
				t.Error("refused update reached the upstream")
			}
		})
	}
}

func TestFlashbackUpstreamAnswers(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback"})

	up := newFakeFlashback()
	w := serveFB(t, h, up, put(`{"name":"x"}`, "Authorization", "Bearer other-token"))
	if w.Code != 401 || w.Body.String() != `{"success":false,"message":"Unauthorized"}` {
		t.Errorf("upstream 401 not passed on: %d %s", w.Code, w.Body)
	}

	up = newFakeFlashback()
	up.answer = `<html>oops</html>`
	w = serveFB(t, h, up, put(`{"name":"x"}`))
	if w.Code != 502 || !strings.Contains(w.Body.String(), "not a Flashback response") {
		t.Errorf("non-Flashback answer: %d %s", w.Code, w.Body)
	}
}

func TestFlashbackLogsAndErrorsHoldNoSecrets(t *testing.T) {
	h, logs := newHandler(t, &Handler{API: "flashback"})
	up := newFakeFlashback()
	const key, secret = "AKIASECRETKEYID", "wJalrSECRETvalue/K7MDENG"
	var bodies []string
	for _, r := range []*http.Request{
		put(`{"key":"` + key + `","secret":"` + secret + `"}`),
		put(`{"key":"` + key + `","secret":"` + secret + `","endpoint":"http://` + secret + `.example"}`),
		put(`{"key":"` + key + `","secret":"` + secret + `","storageType":"` + secret + `"}`),
		put(`{"key":"` + key + `","secret":"` + secret + `","key":"` + key + `"}`),
		put(`{"secret":"`+secret+`"}`, "If-Match", `"1"`),
		put(`{"secret":"`+secret+`"}`, "Authorization", "Bearer "+secret),
	} {
		bodies = append(bodies, serveFB(t, h, up, r).Body.String())
	}
	for _, e := range logs.All() {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += " " + k + "=" + toString(v)
		}
		bodies = append(bodies, line)
	}
	for _, s := range bodies {
		for _, leak := range []string{key, secret, "SECRET"} {
			if strings.Contains(s, leak) {
				t.Errorf("%q leaks %q", s, leak)
			}
		}
	}
	if len(logs.All()) < 6 {
		t.Errorf("want a decision line per update, got %d", len(logs.All()))
	}
}

// TestFlashbackGatewayKeysGoNowhereElse: in gateway mode a Flashback
// client's Bearer is a gateway key's secret, so no call but the lists and
// updates the gateway answers may carry it upstream.
func TestFlashbackGatewayKeysGoNowhereElse(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback", Mode: "gateway",
		Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret-value", Workspaces: map[string]string{"demo-workspace": "WRITE"}}},
		Upstream: &UpstreamCredentials{Token: "demo-token"}})
	up := newFakeFlashback()
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/bucket/available", nil),
		httptest.NewRequest(http.MethodPost, "/bucket/"+fbID+"/validate", nil),
		httptest.NewRequest(http.MethodGet, "/repo", nil),
	} {
		r.Header.Set("Authorization", "Bearer k1-secret-value")
		caddyhttp.NewTestReplacer(r)
		w := serveFB(t, h, up, r)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "gateway keys are good for bucket lists, and creating, updating and deleting buckets only") {
			t.Errorf("%s %s: %d %s", r.Method, r.URL.Path, w.Code, w.Body)
		}
	}
	if up.reads != 0 || up.puts != 0 {
		t.Errorf("a gateway key's call reached the upstream (%d reads, %d writes)", up.reads, up.puts)
	}
	w := serveFB(t, h, up, put(`{"name":"Renamed"}`, "Authorization", "Bearer k1-secret-value"))
	if w.Code != http.StatusOK || up.bucket["name"] != "Renamed" {
		t.Errorf("the update itself: %d %s", w.Code, w.Body)
	}
}

// TestFlashbackGatewayKeysList: GET /bucket for a gateway key is the
// upstream's list read with the gateway's token, kept to the workspaces
// where the key has READ or more and to the filters, with no credential in
// it; the literal "undefined" Flashback's TypeScript client sends for a
// filter it was not given is no filter.
func TestFlashbackGatewayKeysList(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback", Mode: "gateway",
		Keys: []auth.Key{
			{ID: "reader", Secret: "reader-secret-value", Workspaces: map[string]string{"demo-workspace": "READ"}},
			{ID: "elsewhere", Secret: "elsewhere-secret-value", Workspaces: map[string]string{"other-workspace": "ADMIN"}},
		},
		Upstream: &UpstreamCredentials{Token: "demo-token"}})
	up := newFakeFlashback()
	up.bucket["key"] = "AKIAIOSFODNN7EXAMPLE"
	up.bucket["walletAddress"] = "GWALLET"
	for _, tc := range []struct {
		key, query string
		want       int // buckets listed
	}{
		{"reader", "", 1},
		{"reader", "?workspaceId=undefined&walletAddress=undefined", 1},
		{"reader", "?workspaceId=demo-workspace", 1},
		{"reader", "?workspaceId=other-workspace", 0},
		{"reader", "?walletAddress=GWALLET", 1},
		{"reader", "?walletAddress=GOTHER", 0},
		{"elsewhere", "", 0},
	} {
		r := httptest.NewRequest(http.MethodGet, "/bucket"+tc.query, nil)
		r.Header.Set("Authorization", "Bearer "+tc.key+"-secret-value")
		caddyhttp.NewTestReplacer(r)
		w := serveFB(t, h, up, r)
		var got struct {
			Success bool
			Buckets []map[string]any
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK || !got.Success || len(got.Buckets) != tc.want {
			t.Errorf("%s %s: %d %s", tc.key, tc.query, w.Code, w.Body)
			continue
		}
		for _, b := range got.Buckets {
			if _, ok := b["key"]; ok || b["secret"] != nil || b["id"] != fbID || b["status"] != "ONLINE" {
				t.Errorf("%s: listed %v", tc.key, b)
			}
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/bucket", nil)
	r.Header.Set("Authorization", "Bearer not-a-key")
	caddyhttp.NewTestReplacer(r)
	if w := serveFB(t, h, up, r); w.Code != http.StatusUnauthorized {
		t.Errorf("unknown key: %d %s", w.Code, w.Body)
	}
}
