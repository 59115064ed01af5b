package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// Revisions are read exactly as the schema validated them.
func TestRevisionsReadAsValidated(t *testing.T) {
	t.Run("an integral float is forwarded as the integer", func(t *testing.T) {
		for _, lit := range []string{"6.0", "6e0", "0.6e1", "600e-2"} {
			h, _ := newHandler(t, &Handler{})
			up := &upstream{answer: bucketAnswer}
			w := serve(t, h, up, post(`{"bucketId":"b1","ifRevisionIs":`+lit+`}`))
			if w.Code != 200 || up.body != `{"bucketId":"b1","ifRevisionIs":6}` {
				t.Errorf("%s: got %d, upstream body %s", lit, w.Code, up.body)
			}
		}
	})
	t.Run("If-Match that disagrees with 11.0 is refused", func(t *testing.T) {
		h, _ := newHandler(t, &Handler{})
		up := &upstream{answer: bucketAnswer}
		w := serve(t, h, up, post(`{"bucketId":"b1","ifRevisionIs":11.0}`, "If-Match", `"12"`))
		if w.Code != 400 || up.calls != 0 || !strings.Contains(w.Body.String(), "If-Match and ifRevisionIs") {
			t.Errorf("got %d %s; upstream calls %d", w.Code, w.Body, up.calls)
		}
	})
	t.Run("require_revision takes 1e0", func(t *testing.T) {
		h, _ := newHandler(t, &Handler{RequireRevision: true})
		up := &upstream{answer: bucketAnswer}
		w := serve(t, h, up, post(`{"bucketId":"b1","ifRevisionIs":1e0}`))
		if w.Code != 200 || up.body != `{"bucketId":"b1","ifRevisionIs":1}` {
			t.Errorf("got %d %s; upstream body %s", w.Code, w.Body, up.body)
		}
	})
	t.Run("a revision no integer is refused, never dropped", func(t *testing.T) {
		// A schema that lets any number through: the gateway still will not
		// take 6.5 as "no precondition".
		dir := t.TempDir()
		schema := dir + "/loose.json"
		writeFile(t, schema, `{"type":"object","properties":{"bucketId":{"type":"string"},"ifRevisionIs":{"type":"number"}}}`)
		h, _ := newHandler(t, &Handler{Schema: schema})
		up := &upstream{answer: bucketAnswer}
		w := serve(t, h, up, post(`{"bucketId":"b1","ifRevisionIs":6.5}`))
		if w.Code != 400 || up.calls != 0 || !strings.Contains(w.Body.String(), "ifRevisionIs") {
			t.Errorf("got %d %s; upstream calls %d", w.Code, w.Body, up.calls)
		}
	})
	t.Run("b2 to flashback: racers sending <rev>.0 cannot all win", func(t *testing.T) {
		h, _ := newHandler(t, &Handler{API: "b2", UpstreamAPI: "flashback", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
			Keys: []auth.Key{{ID: "k1", Secret: "k1-secret", Capabilities: []string{"writeBuckets"},
				Workspaces: map[string]string{"demo-workspace": "WRITE"}}},
			Upstream: &UpstreamCredentials{Token: "demo-token"}})
		up := newFakeFlashback()
		token := h.signer.Issue("k1", time.Now(), time.Hour)
		update := func(name, rev string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(
				`{"bucketId":"`+fbID+`","bucketInfo":{"name":"`+name+`","workspaceId":"demo-workspace"}`+rev+`}`))
			r.Header.Set("Authorization", token)
			caddyhttp.NewTestReplacer(r)
			w := httptest.NewRecorder()
			_ = h.ServeHTTP(w, r, up)
			return w
		}
		var current struct{ Revision int64 }
		if w := update("Start", ""); w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &current) != nil {
			t.Fatalf("first update: %d %s", w.Code, w.Body)
		}
		const n = 8
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if update("racer-"+string(rune('a'+i)), `,"ifRevisionIs":`+itoa(current.Revision)+`.0`).Code == 200 {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Errorf("%d racers won with the same revision, want 1", won.Load())
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Recognition leaves no spelling that reaches the upstream unjudged.
func TestRecognitionLeavesNoBypass(t *testing.T) {
	cases := []struct {
		api, method, path string
		header            string // a header to send, "Name: value"
		status            int
	}{
		{"b2", "POST", "/B2API/v2/b2_update_bucket", "", 400}, // judged: the body is not valid
		{"b2", "POST", "/b2api/v2/b2_update_bucket;jsessionid=1", "", 400},
		{"b2", "POST", "/b2api;x=1/v2/b2_update_bucket", "", 400},
		{"b2", "POST", "/b2api/v2;x=1/b2_update_bucket", "", 400},
		{"b2", "POST", "/b2api/v2/b2_list_buckets", "X-HTTP-Method-Override: PUT", 400},
		{"b2", "GET", "/b2api/v2/b2_get_upload_url", "X-Method-Override: POST", 400},
		{"flashback", "PATCH", "/bucket/" + fbID, "", 405},
		{"flashback", "POST", "/bucket/" + fbID, "", 405},
		{"flashback", "POST", "/bucket/" + fbID, "X-HTTP-Method-Override: PUT", 405},
		{"flashback", "POST", "/bucket", "X-HTTP-Method-Override: PUT", 400},
		{"flashback", "GET", "/bucket", "X-HTTP-Method: PUT", 400},
		{"flashback", "PUT", "/bucket;a=b/" + fbID, "", 400},
		{"flashback", "PUT", "/bucket/" + fbID + ";a=b", "", 400},
		{"flashback", "GET", "/BUCKET;x/" + fbID + "/status", "", 400},
	}
	for _, tc := range cases {
		for _, mode := range []string{"passthrough", "gateway"} {
			h := &Handler{API: tc.api, Mode: mode}
			token := "Bearer demo-token"
			if tc.api == "b2" {
				token = "4_token"
			}
			if mode == "gateway" {
				h.Keys = []auth.Key{{ID: "k1", Secret: "k1-secret"}}
				if tc.api == "b2" {
					h.SigningSecret = strings.Repeat("s", 32)
					h.Upstream = &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}
				} else {
					h.Upstream = &UpstreamCredentials{Token: "demo-token"}
					token = "Bearer k1-secret"
				}
			}
			h, _ = newHandler(t, h)
			r := httptest.NewRequest(tc.method, "/", strings.NewReader(`{"not":"valid"}`))
			r.URL.Path = tc.path
			r.Header.Set("Authorization", token)
			if name, value, ok := strings.Cut(tc.header, ": "); ok {
				r.Header.Set(name, value)
			}
			if mode == "gateway" && tc.api == "b2" {
				r.Header.Set("Authorization", h.signer.Issue("k1", time.Now(), time.Hour))
			}
			up := &upstream{answer: bucketAnswer}
			w := serve(t, h, up, r)
			if w.Code != tc.status || up.calls != 0 {
				t.Errorf("%s %s %s %q: got %d %s, upstream calls %d; want %d and none", mode, tc.method, tc.path, tc.header, w.Code, w.Body, up.calls, tc.status)
			}
		}
	}
	// What Flashback defines still passes.
	h, _ := newHandler(t, &Handler{API: "flashback"})
	for _, m := range []string{"GET", "DELETE", "OPTIONS"} {
		up := &upstream{answer: `{"success":true}`}
		r := httptest.NewRequest(m, "/bucket/"+fbID, nil)
		r.Header.Set("Authorization", "Bearer demo-token")
		if w := serve(t, h, up, r); up.calls != 1 || w.Code != 200 {
			t.Errorf("%s /bucket/{id}: got %d, upstream calls %d", m, w.Code, up.calls)
		}
	}
}

// public_key_ids applies to b2_create_bucket too.
func TestCreateBucketHonoursPublicKeyIDs(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "b2", PublicKeyIDs: []string{"publisher"}, Upstream: &UpstreamCredentials{Realm: "https://b2.test"}})
	signIn := func(keyID, token string) {
		r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_authorize_account", nil)
		r.SetBasicAuth(keyID, "secret")
		grant := `{"accountId":"acct","authorizationToken":"` + token + `","apiInfo":{"storageApi":{"apiUrl":"http://b2.test","capabilities":["writeBuckets"]}}}`
		if w := serve(t, h, &upstream{answer: grant}, r); w.Code != 200 {
			t.Fatalf("sign-in: %d %s", w.Code, w.Body)
		}
	}
	signIn("publisher", "tok-publisher")
	signIn("other", "tok-other")
	create := func(token, body string, query string) (*httptest.ResponseRecorder, *upstream) {
		method := http.MethodPost
		if query != "" {
			method = http.MethodGet
		}
		r := httptest.NewRequest(method, "/b2api/v3/b2_create_bucket"+query, strings.NewReader(body))
		r.Header.Set("Authorization", token)
		up := &upstream{answer: bucketAnswer}
		return serve(t, h, up, r), up
	}
	public := `{"accountId":"acct","bucketName":"public-bucket","bucketType":"allPublic"}`
	if w, up := create("tok-other", public, ""); w.Code != 401 || up.calls != 0 || !strings.Contains(w.Body.String(), "public_key_ids") {
		t.Errorf("allPublic by another key: %d %s, upstream calls %d", w.Code, w.Body, up.calls)
	}
	if w, up := create("tok-other", "", "?accountId=acct&bucketName=public-bucket&bucketType=allPublic"); w.Code != 401 || up.calls != 0 {
		t.Errorf("allPublic by query: %d %s, upstream calls %d", w.Code, w.Body, up.calls)
	}
	if w, up := create("tok-publisher", public, ""); w.Code != 200 || up.calls != 1 || up.body != public {
		t.Errorf("allPublic by a listed key: %d %s, upstream got %q", w.Code, w.Body, up.body)
	}
	private := `{"accountId":"acct","bucketName":"private-bucket","bucketType":"allPrivate"}`
	if w, up := create("tok-other", private, ""); w.Code != 200 || up.body != private {
		t.Errorf("allPrivate: %d %s, upstream got %q", w.Code, w.Body, up.body)
	}
}

// countingBody records whether anything read it.
type countingBody struct {
	io.Reader
	read atomic.Bool
}

func (c *countingBody) Read(p []byte) (int, error) { c.read.Store(true); return c.Reader.Read(p) }
func (c *countingBody) Close() error               { return nil }

// Credentials are judged before the body is read.
func TestCredentialsBeforeBody(t *testing.T) {
	big := `{"bucketId":"` + strings.Repeat("x", 300<<10) + `"}`
	type tc struct {
		name string
		h    *Handler
		path string
		auth string
	}
	cases := []tc{
		{"b2 passthrough, none", &Handler{API: "b2"}, "/b2api/v3/b2_update_bucket", ""},
		{"b2 realm, unknown token", &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://b2.test"}}, "/b2api/v3/b2_update_bucket", "4_unknown"},
		{"b2 gateway, forged token", &Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32), Keys: []auth.Key{{ID: "k1", Secret: "k1-secret"}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}}, "/b2api/v3/b2_update_bucket", "forged"},
		{"b2 gateway list, forged token", &Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32), Keys: []auth.Key{{ID: "k1", Secret: "k1-secret"}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}}, "/b2api/v3/b2_list_buckets", "forged"},
		{"flashback passthrough, malformed", &Handler{API: "flashback"}, "/bucket/" + fbID, "Basic abc"},
		{"flashback gateway, unknown key", &Handler{API: "flashback", Mode: "gateway", Keys: []auth.Key{{ID: "k1", Secret: "k1-secret"}},
			Upstream: &UpstreamCredentials{Token: "demo-token"}}, "/bucket/" + fbID, "Bearer nope"},
	}
	for _, c := range cases {
		h, logs := newHandler(t, c.h)
		method := http.MethodPost
		if c.h.API == "flashback" {
			method = http.MethodPut
		}
		body := &countingBody{Reader: strings.NewReader(big)}
		r := httptest.NewRequest(method, c.path, body)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		up := &upstream{}
		w := serve(t, h, up, r)
		if w.Code != 401 || up.calls != 0 || body.read.Load() {
			t.Errorf("%s: got %d %s, upstream calls %d, body read %v", c.name, w.Code, w.Body, up.calls, body.read.Load())
		}
		for _, e := range logs.All() {
			if line := strings.Join(fieldsOf(e.ContextMap()), " "); strings.Contains(line, "xxxx") {
				t.Errorf("%s: a value from the unauthenticated body reached the log: %.300s", c.name, line)
			}
		}
	}
}

func fieldsOf(m map[string]any) []string {
	var out []string
	for k, v := range m {
		b, _ := json.Marshal(v)
		out = append(out, k+"="+string(b))
	}
	return out
}

// Logs carry only verified key ids and capped client values.
func TestLogsCapClientValues(t *testing.T) {
	t.Run("a swapped key id and secret is not logged", func(t *testing.T) {
		h, logs := newHandler(t, &Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
			Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret-value"}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}})
		r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_authorize_account", nil)
		r.SetBasicAuth("k1-secret-value", "k1")
		w := serve(t, h, &upstream{}, r)
		if w.Code != 401 {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		for _, e := range logs.All() {
			if s := strings.Join(fieldsOf(e.ContextMap()), " "); strings.Contains(s, "k1-secret-value") || !strings.Contains(s, "unverified:") {
				t.Errorf("log line %q: %s", e.Message, s)
			}
		}
	})
	t.Run("passthrough sign-in refused upstream logs no key id", func(t *testing.T) {
		h, logs := newHandler(t, &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://b2.test"}})
		r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_authorize_account", nil)
		r.SetBasicAuth("K005-the-secret-itself", "keyid")
		serve(t, h, &upstream{status: 401, answer: `{"status":401,"code":"unauthorized","message":""}`}, r)
		for _, e := range logs.All() {
			if s := strings.Join(fieldsOf(e.ContextMap()), " "); strings.Contains(s, "K005-the-secret-itself") {
				t.Errorf("log line %q: %s", e.Message, s)
			}
		}
	})
	t.Run("long and many client values are capped", func(t *testing.T) {
		h, logs := newHandler(t, &Handler{API: "b2"})
		var b strings.Builder
		b.WriteString(`{"bucketId":"` + strings.Repeat("b", 100<<10) + `"`)
		for i := range 200 {
			b.WriteString(`,"` + strings.Repeat("f", 1000) + itoa(int64(i)) + `":1`)
		}
		b.WriteString("}")
		h.MaxBodySize = 1 << 20
		serve(t, h, &upstream{answer: bucketAnswer}, post(b.String()))
		size := 0
		for _, e := range logs.All() {
			size += len(strings.Join(fieldsOf(e.ContextMap()), " "))
		}
		if size > 16<<10 {
			t.Errorf("one request added %d bytes of log", size)
		}
	})
}

// The upstream sign-in is shared by concurrent requests and bounded by
// their deadlines; a hung one holds nothing else up.
func TestHungSignInIsSharedAndBounded(t *testing.T) {
	h, normal := (&Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
		Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Capabilities: []string{"writeBuckets"}}},
		Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}}), &normalB2{revision: 1}
	h.UpstreamTimeout = caddy.Duration(300 * time.Millisecond)
	h, _ = newHandler(t, h)
	up := newBadUpstream(t, normal)
	up.target = func(r *http.Request, _ int) bool { return strings.HasSuffix(r.URL.Path, "/b2_authorize_account") }
	up.act = hang
	next := proxyTo(t, up.ln.Addr().String())
	token := h.signer.Issue("k1", time.Now(), time.Hour)

	const n = 6
	codes := make(chan int, n)
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			w := httptest.NewRecorder()
			_ = h.ServeHTTP(w, b2Update(token), next)
			codes <- w.Code
		})
	}
	wg.Wait()
	close(codes)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("answers took %v with a 300ms deadline", took)
	}
	for c := range codes {
		if c != http.StatusGatewayTimeout {
			t.Errorf("got %d, want 504", c)
		}
	}
	if signIns, all := up.calls(func(c seenCall) bool { return strings.HasSuffix(c.path, "/b2_authorize_account") }); signIns != 1 {
		t.Errorf("%d sign-ins reached the upstream, want 1 shared: %v", signIns, all)
	}
	// Once the upstream answers again, the next request signs in afresh.
	up.mu.Lock()
	up.target = nil
	up.mu.Unlock()
	w := httptest.NewRecorder()
	_ = h.ServeHTTP(w, b2Update(token), next)
	if w.Code != 200 {
		t.Errorf("after the hang: %d %s", w.Code, w.Body)
	}
}

// A hung Flashback write holds the bucket's lock no longer than its
// deadline: an update of the bucket that would wait past its own deadline
// gets 504 in time, and one after the first gave up goes through.
func TestBucketLockEndsWithTheDeadline(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback", UpstreamTimeout: caddy.Duration(400 * time.Millisecond)})
	// A second configuration (a reload) shares the bucket locks.
	impatient, _ := newHandler(t, &Handler{API: "flashback", UpstreamTimeout: caddy.Duration(100 * time.Millisecond)})
	up := newBadUpstream(t, adapt{newFakeFlashback()})
	var first atomic.Bool
	up.target = func(r *http.Request, _ int) bool {
		return r.Method == http.MethodPut && first.CompareAndSwap(false, true)
	}
	up.act = hang
	next := proxyTo(t, up.ln.Addr().String())

	hung := make(chan *httptest.ResponseRecorder)
	start := time.Now()
	go func() {
		w := httptest.NewRecorder()
		_ = h.ServeHTTP(w, fbUpdate("/bucket/"+fbID, "demo-token"), next)
		hung <- w
	}()
	time.Sleep(100 * time.Millisecond)
	w := httptest.NewRecorder()
	_ = impatient.ServeHTTP(w, fbUpdate("/bucket/"+fbID, "demo-token"), next)
	if w.Code != http.StatusGatewayTimeout || !strings.Contains(w.Body.String(), "still under way") {
		t.Errorf("waiting for the lock: %d %s", w.Code, w.Body)
	}
	w = <-hung
	if took := time.Since(start); w.Code != http.StatusGatewayTimeout || !strings.Contains(w.Body.String(), "may or may not have been applied") || took > 2*time.Second {
		t.Errorf("the hung update: %d %s after %v", w.Code, w.Body, took)
	}
	w = httptest.NewRecorder()
	_ = h.ServeHTTP(w, fbUpdate("/bucket/"+fbID, "demo-token"), next)
	if w.Code != 200 {
		t.Errorf("after the deadline: %d %s", w.Code, w.Body)
	}
}

// Informational answers before a sign-in answer do not break it.
func TestInformationalBeforeSignIn(t *testing.T) {
	isSignIn := func(r *http.Request, _ int) bool { return strings.HasSuffix(r.URL.Path, "/b2_authorize_account") }
	t.Run("passthrough with realm points clients at the gateway", func(t *testing.T) {
		h, _ := newHandler(t, &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://b2.test"}})
		up := newBadUpstream(t, &normalB2{})
		up.target, up.act = isSignIn, informational
		r := httptest.NewRequest(http.MethodGet, "http://gw.example/b2api/v3/b2_authorize_account", nil)
		r.SetBasicAuth("up", "up-key")
		w := httptest.NewRecorder()
		_ = h.ServeHTTP(w, prepared(r), proxyTo(t, up.ln.Addr().String()))
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"apiUrl":"http://gw.example"`) {
			t.Errorf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("gateway signs in", func(t *testing.T) {
		h, _ := newHandler(t, &Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
			Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Capabilities: []string{"writeBuckets"}}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}})
		up := newBadUpstream(t, &normalB2{})
		up.target, up.act = isSignIn, informational
		w := httptest.NewRecorder()
		_ = h.ServeHTTP(w, b2Update(h.signer.Issue("k1", time.Now(), time.Hour)), proxyTo(t, up.ln.Addr().String()))
		if w.Code != 200 {
			t.Errorf("got %d %s", w.Code, w.Body)
		}
	})
}

// When the write was applied and only the read-back broke, the client is
// told the update succeeded, without an ETag.
func TestBrokenReadBackAfterAppliedWrite(t *testing.T) {
	for _, act := range []misbehaviour{resetMidBody, truncated, garbage} {
		h, _ := newHandler(t, &Handler{API: "flashback"})
		up := newBadUpstream(t, adapt{newFakeFlashback()})
		var wrote atomic.Bool
		up.target = func(r *http.Request, _ int) bool {
			if r.Method == http.MethodPut {
				wrote.Store(true)
				return false
			}
			return wrote.Load()
		}
		up.act = act
		w := httptest.NewRecorder()
		_ = h.ServeHTTP(w, fbUpdate("/bucket/"+fbID, "demo-token"), proxyTo(t, up.ln.Addr().String()))
		puts, _ := up.calls(func(c seenCall) bool { return c.method == http.MethodPut })
		if w.Code != 200 || w.Header().Get("ETag") != "" || puts != 1 || !strings.Contains(w.Body.String(), `"success":true`) {
			t.Errorf("got %d %s ETag %q; puts %d", w.Code, w.Body, w.Header().Get("ETag"), puts)
		}
	}
}

func TestUpstreamTimeoutSetting(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "b2"})
	if time.Duration(h.UpstreamTimeout) != DefaultUpstreamTimeout {
		t.Errorf("default upstream_timeout %v", time.Duration(h.UpstreamTimeout))
	}
}

// cappedList logs short names as they are and caps every long one, wherever
// it comes in the list, keeping at most maxLoggedFields.
func TestCappedList(t *testing.T) {
	long := strings.Repeat("x", maxLoggedValue+1)
	many := make([]string, maxLoggedFields+5)
	for i := range many {
		many[i] = "f" + itoa(int64(i))
	}
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, []string{}},
		{"short", []string{"a", "b"}, []string{"a", "b"}},
		{"long after short", []string{"a", long, "b", long}, []string{"a", capped(long), "b", capped(long)}},
		{"long first", []string{long, "a"}, []string{capped(long), "a"}},
		{"many", many, many[:maxLoggedFields]},
	} {
		in := slices.Clone(tc.in)
		got := cappedList(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
		if !slices.Equal(tc.in, in) {
			t.Errorf("%s: the decision's own list changed to %q", tc.name, tc.in)
		}
	}
}
