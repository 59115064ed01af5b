package b2emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap/zaptest"
)

// Accounts used throughout the tests.
const (
	acctOne = "acct-one"
	acctTwo = "acct-two"
)

func testAccounts() []Account {
	return []Account{
		{
			ID: acctOne,
			Keys: []Key{
				{ID: "master-id", Secret: "master-secret", Capabilities: []string{"all"}},
				{ID: "writer-id", Secret: "writer-secret", Capabilities: []string{"listBuckets", "writeBuckets", "deleteBuckets"}},
				{ID: "reader-id", Secret: "reader-secret", Capabilities: []string{"listBuckets", "readBuckets", "writeBuckets"}, Bucket: "alpha-bucket", NamePrefix: "photos/"},
				{ID: "nolist-id", Secret: "nolist-secret", Capabilities: []string{"readFiles", "futureCapability"}},
				{ID: "remover-id", Secret: "remover-secret", Capabilities: []string{"listBuckets", "deleteBuckets"}, Bucket: "alpha-bucket"},
				{ID: "files-id", Secret: "files-secret", Capabilities: []string{"listFiles", "readFiles", "writeFiles", "deleteFiles", "shareFiles"}, Bucket: "alpha-bucket", NamePrefix: "photos/"},
				{ID: "lister-id", Secret: "lister-secret", Capabilities: []string{"listFiles"}},
			},
			Buckets: []SeedBucket{
				{Name: "alpha-bucket", Info: map[string]string{"owner": "demo"}},
				{Name: "beta-bucket", Type: "allPublic", ID: "4a48fe8875c6214145260818"},
				{Name: "locked-bucket", FileLock: true},
				{Name: "snap-bucket", Type: "snapshot"},
				{Name: "hidden-bucket", Type: "restricted"},
			},
		},
		{
			ID:      acctTwo,
			Keys:    []Key{{ID: "other-id", Secret: "other-secret", Capabilities: []string{"all"}}},
			Buckets: []SeedBucket{{Name: "gamma-bucket"}},
		},
	}
}

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// withClock makes an emulator read the time from a testClock.
func withClock(c *testClock) func(*Emulator) {
	c.now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func(h *Emulator) { h.now = c.read }
}

func (c *testClock) read() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func provision(t *testing.T, h *Emulator) error {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		return err
	}
	h.logger = zaptest.NewLogger(t)
	return h.Validate()
}

func newEmulator(t *testing.T, configure ...func(*Emulator)) *Emulator {
	t.Helper()
	h := &Emulator{Accounts: testAccounts()}
	for _, c := range configure {
		c(h)
	}
	if err := provision(t, h); err != nil {
		t.Fatalf("provision: %v", err)
	}
	return h
}

var failNext = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
	panic("the emulator must never call the next handler")
})

func serve(h *Emulator, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	if err := h.ServeHTTP(rec, r, failNext); err != nil {
		panic(err)
	}
	return rec
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// login authorizes a key on v4 and returns its token.
func login(t *testing.T, h *Emulator, id, secret string) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/b2api/v4/b2_authorize_account", nil)
	r.Header.Set("Authorization", basic(id, secret))
	rec := serve(h, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("authorize %s: %d %s", id, rec.Code, rec.Body)
	}
	return decode(t, rec)["authorizationToken"].(string)
}

// post makes a bucket call as POST with a JSON body.
func post(h *Emulator, token, path, body string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Authorization", token)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return serve(h, r)
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, rec.Body)
	}
	return m
}

// wantOK fails unless the call succeeded, and returns its decoded body.
func wantOK(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != contentType {
		t.Errorf("Content-Type %q, want %q", ct, contentType)
	}
	return decode(t, rec)
}

// wantError checks B2's error shape: status, code, and a message containing
// msg.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, msg string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	m := decode(t, rec)
	if len(m) != 3 {
		t.Errorf("error body has fields %v, want exactly status, code, message", m)
	}
	if m["status"] != float64(status) || m["code"] != code {
		t.Errorf("error body %s, want status %d code %s", rec.Body, status, code)
	}
	if got, _ := m["message"].(string); !strings.Contains(got, msg) {
		t.Errorf("message %q does not contain %q", got, msg)
	}
	if ct := rec.Header().Get("Content-Type"); ct != contentType {
		t.Errorf("Content-Type %q, want %q", ct, contentType)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "" {
		t.Errorf("Retry-After %q on a %d", ra, status)
	}
}

func bucketID(t *testing.T, h *Emulator, name string) string {
	t.Helper()
	for _, a := range h.Accounts {
		if sb, ok := a.seedBucket(name); ok {
			return sb.id(a.ID)
		}
	}
	t.Fatalf("no seeded bucket %s", name)
	return ""
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := newEmulator(t)
	for _, path := range []string{
		"/",
		"/b2api/v3",
		"/b2api/v3/",
		"/b2api/v5/b2_list_buckets",
		"/b2api/v0/b2_list_buckets",
		"/b2api/v03/b2_list_buckets",
		"/b2api/vx/b2_list_buckets",
		"/b2api/v3/b2_get_bucket",
		"/b2api/v3/b2_list_buckets/extra",
		"/b2api/v3/b2_upload_file",
		"/b2api/v3/b2_upload_file/4a48fe8875c6214145260818",
		"/b2api/v3/b2_upload_file/4a48fe8875c6214145260818/",
		"/b2api/v3/b2_upload_file/4a48fe8875c6214145260818/a/b",
		"/b2api/v5/b2_upload_file/4a48fe8875c6214145260818/a",
		"/b2api/v3/b2_start_large_file",
		"/files/demo-bucket/x",
	} {
		t.Run(path, func(t *testing.T) {
			wantError(t, serve(h, httptest.NewRequest(http.MethodPost, path, nil)), http.StatusNotFound, "not_found", "")
		})
	}
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodHead, "/b2api/v3/b2_list_buckets", "GET, POST"},
		{http.MethodGet, "/b2api/v3/b2_upload_file/4a48fe8875c6214145260818/abc", "POST"},
		{http.MethodPut, "/b2api/v3/b2_download_file_by_id", "GET, HEAD, POST"},
		{http.MethodDelete, "/file/demo-bucket/x", "GET, HEAD"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := serve(h, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != tc.allow {
				t.Errorf("%d, Allow %q; want 405, %q", rec.Code, rec.Header().Get("Allow"), tc.allow)
			}
		})
	}
	t.Run("PUT", func(t *testing.T) {
		rec := serve(h, httptest.NewRequest(http.MethodPut, "/b2api/v3/b2_list_buckets", nil))
		wantError(t, rec, http.StatusMethodNotAllowed, "method_not_allowed", "")
		if rec.Header().Get("Allow") != "GET, POST" {
			t.Errorf("Allow %q", rec.Header().Get("Allow"))
		}
	})
}

// Over a real connection, as clients see it: b2sdk needs the Date header.
func TestResponseHeadersOverHTTP(t *testing.T) {
	h := newEmulator(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = h.ServeHTTP(w, r, failNext) }))
	defer srv.Close()
	for _, tc := range []struct {
		auth   string
		status int
	}{{basic("master-id", "master-secret"), 200}, {basic("master-id", "nope"), 401}} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/b2api/v2/b2_authorize_account", nil)
		req.Header.Set("Authorization", tc.auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
		}
		if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
			t.Errorf("Date header %q: %v", resp.Header.Get("Date"), err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != contentType {
			t.Errorf("Content-Type %q", ct)
		}
		if tc.status == 200 && !strings.Contains(string(body), `"apiUrl":"`+srv.URL+`"`) {
			t.Errorf("apiUrl does not point back at the server %s: %s", srv.URL, body)
		}
	}
}
