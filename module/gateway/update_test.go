package gateway

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// upstream plays the storage API behind the gateway and records what reached it.
type upstream struct {
	calls  int
	method string
	path   string
	query  string
	body   string
	header http.Header
	status int
	answer string
	err    error
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	u.calls++
	u.method, u.path, u.query, u.header = r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone()
	b, _ := io.ReadAll(r.Body)
	u.body = string(b)
	if int64(len(b)) != r.ContentLength {
		return errors.New("Content-Length does not match the body")
	}
	if u.err != nil {
		return u.err
	}
	status := u.status
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, u.answer)
	return nil
}

func newHandler(t testing.TB, h *Handler) (*Handler, *observer.ObservedLogs) {
	t.Helper()
	ctx, cancel := testContext(t)
	t.Cleanup(cancel)
	if h.API == "" {
		h.API = "b2"
	}
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	core, logs := observer.New(zap.DebugLevel)
	h.logger = zap.New(core)
	return h, logs
}

const bucketAnswer = `{"accountId":"acct1","bucketId":"b1","bucketName":"demo-bucket","bucketType":"allPublic","revision":7}`

func serve(t *testing.T, h *Handler, up *upstream, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	caddyhttp.NewTestReplacer(r)
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, up); err != nil {
		t.Fatalf("ServeHTTP: %v", err)
	}
	return w
}

func post(body string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(body))
	r.Header.Set("Authorization", "4_token")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func TestValidUpdateIsForwardedByteForByte(t *testing.T) {
	h, logs := newHandler(t, &Handler{})
	// Odd spacing and key order must survive: the validated bytes are the sent bytes.
	body := `{ "bucketType":"allPublic",  "bucketId":"b1","accountId":"acct1" }`
	up := &upstream{answer: bucketAnswer}
	r := post(body, "Accept-Encoding", "gzip")
	r.Header.Del("Content-Type") // blazer sends none
	w := serve(t, h, up, r)

	if w.Code != http.StatusOK || w.Body.String() != bucketAnswer {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	if up.body != body {
		t.Errorf("upstream got %q, want %q", up.body, body)
	}
	if got := w.Header().Get("ETag"); got != `"7"` {
		t.Errorf("ETag = %q, want \"7\"", got)
	}
	if up.header.Get("Accept-Encoding") != "" {
		t.Error("Accept-Encoding reached the upstream: its answer could not be read")
	}
	entries := logs.FilterMessage("update forwarded").All()
	if len(entries) != 1 {
		t.Fatalf("log lines: %v", logs.All())
	}
	ctx := entries[0].ContextMap()
	if ctx["bucket_id"] != "b1" || ctx["upstream_status"] != int64(200) {
		t.Errorf("log fields %v", ctx)
	}
	if fields, _ := ctx["fields"].([]any); len(fields) != 3 {
		t.Errorf("logged fields %v, want the three field names", ctx["fields"])
	}
}

func TestOtherCallsPassUntouched(t *testing.T) {
	h, logs := newHandler(t, &Handler{})
	for _, path := range []string{"/b2api/v3/b2_list_buckets", "/b2api/v2/b2_get_upload_url", "/anything"} {
		up := &upstream{answer: `{"buckets":[]}`}
		body := `{"not":"validated",}`
		r := httptest.NewRequest(http.MethodPost, path+"?x=1", strings.NewReader(body))
		w := serve(t, h, up, r)
		if up.calls != 1 || up.body != body || up.path != path || up.query != "x=1" || w.Code != 200 {
			t.Errorf("%s: upstream saw %d calls, %q %s?%s; client got %d", path, up.calls, up.body, up.path, up.query, w.Code)
		}
	}
	if n := len(logs.All()); n != 0 {
		t.Errorf("%d log lines for calls the gateway does not gate", n)
	}
}

func TestRefusalsNeverReachTheUpstream(t *testing.T) {
	big := `{"bucketId":"b1","bucketInfo":{"a":"` + strings.Repeat("x", 600<<10) + `"}}`
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"no Authorization", func() *http.Request {
			r := post(`{"bucketId":"b1"}`)
			r.Header.Del("Authorization")
			return r
		}, 401, "bad_auth_token"},
		{"empty body", func() *http.Request { return post(``) }, 400, "bad_json"},
		{"not JSON", func() *http.Request { return post(`bucketId=b1`) }, 400, "bad_json"},
		{"schema failure", func() *http.Request { return post(`{"bucketId":"b1","bucketType":"snapshot"}`) }, 400, "bad_request"},
		{"duplicate key", func() *http.Request { return post(`{"bucketId":"b1","bucketId":"b2"}`) }, 400, "bad_request"},
		{"declared too large", func() *http.Request { return post(big) }, 413, "request_too_large"},
		{"chunked too large", func() *http.Request {
			r := post(big)
			r.ContentLength = -1
			return r
		}, 413, "request_too_large"},
		{"wrong method", func() *http.Request {
			r := post(`{"bucketId":"b1"}`)
			r.Method = http.MethodPut
			return r
		}, 405, "method_not_allowed"},
		{"bad If-Match", func() *http.Request { return post(`{"bucketId":"b1"}`, "If-Match", `W/"3"`) }, 400, "bad_request"},
		{"If-Match list", func() *http.Request { return post(`{"bucketId":"b1"}`, "If-Match", `"3", "4"`) }, 400, "bad_request"},
		{"If-Match disagrees", func() *http.Request { return post(`{"bucketId":"b1","ifRevisionIs":4}`, "If-Match", `"3"`) }, 400, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := newHandler(t, &Handler{})
			up := &upstream{}
			w := serve(t, h, up, tc.req())
			if up.calls != 0 {
				t.Fatal("refused update reached the upstream")
			}
			if w.Code != tc.status || !strings.Contains(w.Body.String(), `"code":"`+tc.code+`"`) {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.code)
			}
			if w.Header().Get("Retry-After") != "" {
				t.Error("Retry-After on a refusal")
			}
			if len(logs.FilterMessage("update refused").All()) != 1 {
				t.Errorf("want one refusal log line, got %v", logs.All())
			}
		})
	}
}

func TestRevisionHeaders(t *testing.T) {
	t.Run("If-Match becomes ifRevisionIs", func(t *testing.T) {
		h, _ := newHandler(t, &Handler{})
		up := &upstream{answer: bucketAnswer}
		w := serve(t, h, up, post(`{"bucketId":"b1","bucketType":"allPrivate"}`, "If-Match", `"6"`))
		if up.body != `{"bucketId":"b1","bucketType":"allPrivate","ifRevisionIs":6}` {
			t.Errorf("upstream body %s", up.body)
		}
		if up.header.Get("If-Match") != "" {
			t.Error("If-Match forwarded as well as ifRevisionIs")
		}
		if w.Code != 200 || w.Header().Get("ETag") != `"7"` {
			t.Errorf("got %d ETag %q", w.Code, w.Header().Get("ETag"))
		}
	})
	t.Run("same revision in both is fine", func(t *testing.T) {
		h, _ := newHandler(t, &Handler{})
		up := &upstream{answer: bucketAnswer}
		body := `{"bucketId":"b1","ifRevisionIs":6}`
		serve(t, h, up, post(body, "If-Match", `"6"`))
		if up.body != body {
			t.Errorf("upstream body %s, want it unchanged", up.body)
		}
	})
	conflict := `{"code":"conflict","message":"simultaneous updates to bucket","status":409}`
	t.Run("409 after If-Match is 412", func(t *testing.T) {
		h, logs := newHandler(t, &Handler{})
		up := &upstream{status: 409, answer: conflict}
		w := serve(t, h, up, post(`{"bucketId":"b1"}`, "If-Match", `"6"`))
		if w.Code != 412 || !strings.Contains(w.Body.String(), `"status":412`) {
			t.Errorf("got %d %s", w.Code, w.Body)
		}
		if len(logs.FilterMessage("update precondition_failed").All()) != 1 {
			t.Errorf("log: %v", logs.All())
		}
	})
	t.Run(`If-Match "0" is a failed test, not a bad request`, func(t *testing.T) {
		h, _ := newHandler(t, &Handler{})
		up := &upstream{status: 409, answer: conflict}
		w := serve(t, h, up, post(`{"bucketId":"b1"}`, "If-Match", `"0"`))
		if w.Code != 412 || !strings.Contains(up.body, `"ifRevisionIs":0`) {
			t.Errorf("got %d %s; upstream body %s", w.Code, w.Body, up.body)
		}
	})
	t.Run("409 after ifRevisionIs passes unchanged", func(t *testing.T) {
		h, _ := newHandler(t, &Handler{})
		up := &upstream{status: 409, answer: conflict}
		w := serve(t, h, up, post(`{"bucketId":"b1","ifRevisionIs":6}`))
		if w.Code != 409 || w.Body.String() != conflict || w.Header().Get("ETag") != "" {
			t.Errorf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("require_revision", func(t *testing.T) {
		h, _ := newHandler(t, &Handler{RequireRevision: true})
		for _, tc := range []struct {
			req    *http.Request
			status int
		}{
			{post(`{"bucketId":"b1"}`), 428},
			{post(`{"bucketId":"b1"}`, "If-Match", "*"), 428},
			{post(`{"bucketId":"b1"}`, "If-Match", `"2"`), 200},
			{post(`{"bucketId":"b1","ifRevisionIs":2}`), 200},
		} {
			up := &upstream{answer: bucketAnswer}
			w := serve(t, h, up, tc.req)
			if w.Code != tc.status {
				t.Errorf("%v: got %d %s, want %d", tc.req.Header, w.Code, w.Body, tc.status)
			}
			if (up.calls == 1) != (tc.status == 200) {
				t.Errorf("%v: upstream calls %d", tc.req.Header, up.calls)
			}
		}
	})
}

func TestGetWithQueryIsSentAsPost(t *testing.T) {
	h, _ := newHandler(t, &Handler{})
	up := &upstream{answer: bucketAnswer}
	r := httptest.NewRequest(http.MethodGet, "/b2api/v1/b2_update_bucket?bucketId=b1&bucketType=allPrivate&ifRevisionIs=6", nil)
	r.Header.Set("Authorization", "4_token")
	w := serve(t, h, up, r)
	if w.Code != 200 {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	if up.method != http.MethodPost || up.query != "" || up.path != "/b2api/v1/b2_update_bucket" {
		t.Errorf("upstream saw %s %s?%s", up.method, up.path, up.query)
	}
	if up.body != `{"bucketId":"b1","bucketType":"allPrivate","ifRevisionIs":6}` || up.header.Get("Content-Type") != "application/json" {
		t.Errorf("upstream body %s (%s)", up.body, up.header.Get("Content-Type"))
	}
}

func TestUpstreamFailureIsAnsweredInB2Shape(t *testing.T) {
	h, logs := newHandler(t, &Handler{})
	up := &upstream{err: caddyhttp.Error(http.StatusBadGateway, errors.New("dial tcp: connection refused"))}
	w := serve(t, h, up, post(`{"bucketId":"b1"}`))
	if w.Code != 502 || !strings.Contains(w.Body.String(), `"code":"bad_gateway"`) {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "dial tcp") {
		t.Error("internal error detail leaked to the client")
	}
	entries := logs.FilterMessage("update upstream_failed").All()
	if len(entries) != 1 {
		t.Fatalf("log: %v", logs.All())
	}
	// The operator learns the cause the client is not told.
	if ctx := entries[0].ContextMap(); !strings.Contains(toString(ctx["cause"]), "dial tcp: connection refused") || !strings.HasPrefix(toString(ctx["reason"]), "the upstream did not answer (Bad Gateway); the write may or may not have been applied") {
		t.Errorf("decision line without the cause: %v", ctx)
	}
}

func TestUpstreamErrorsPassThrough(t *testing.T) {
	h, _ := newHandler(t, &Handler{})
	answer := `{"code":"bad_bucket_id","message":"Bucket b1 does not exist","status":400}`
	up := &upstream{status: 400, answer: answer}
	w := serve(t, h, up, post(`{"bucketId":"b1"}`))
	if w.Code != 400 || w.Body.String() != answer || w.Header().Get("ETag") != "" {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	h, logs := newHandler(t, &Handler{})
	const token = "4_SECRET_TOKEN_VALUE"
	for _, body := range []string{
		`{"bucketId":"b1","bucketInfo":{"k":"SECRET_TOKEN_VALUE"}}`,
		`{"bucketId":"b1","bucketType":"SECRET_TOKEN_VALUE"}`,
		`{"bucketId":"b1","accountId":"SECRET_TOKEN_VALUE!"}`,
	} {
		r := post(body)
		r.Header.Set("Authorization", token)
		serve(t, h, &upstream{answer: bucketAnswer}, r)
	}
	for _, e := range logs.All() {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += " " + k + "=" + strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(toString(v), "\n", " "), "\t", " "))
		}
		if strings.Contains(line, "SECRET_TOKEN_VALUE") {
			t.Errorf("log line holds a secret: %s", line)
		}
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, i := range x {
			b.WriteString(toString(i) + ",")
		}
		return b.String()
	default:
		return ""
	}
}

func TestProvisionErrors(t *testing.T) {
	ctx, cancel := testContext(t)
	defer cancel()
	for _, tc := range []struct {
		h    Handler
		want string
	}{
		{Handler{API: "s3"}, "api 's3' is not known: write b2 or flashback"},
		{Handler{API: "b2", Schema: "/nonexistent/schema.json"}, "schema /nonexistent/schema.json: no such file or directory"},
	} {
		err := tc.h.Provision(ctx)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func TestCustomSchema(t *testing.T) {
	dir := t.TempDir()
	good := dir + "/good.json"
	bad := dir + "/bad.json"
	writeFile(t, good, `{"type":"object","required":["bucketId","accountId"],"properties":{"bucketId":{"type":"string"},"accountId":{"type":"string"}}}`)
	writeFile(t, bad, `{"type":"object","properties":{"x":{"type":"nonsense"}}}`)

	h, _ := newHandler(t, &Handler{Schema: good})
	up := &upstream{answer: bucketAnswer}
	w := serve(t, h, up, post(`{"bucketId":"b1"}`))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "accountId: is required") {
		t.Errorf("custom schema not applied: %d %s", w.Code, w.Body)
	}

	ctx, cancel := testContext(t)
	defer cancel()
	err := (&Handler{API: "b2", Schema: bad}).Provision(ctx)
	if err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "does not compile") {
		t.Errorf("bad schema: %v", err)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSignInWithoutRealmRefused: without a realm, B2's sign-in answer would
// point the client at B2's own apiUrl, so the gateway does not pass it on.
func TestSignInWithoutRealmRefused(t *testing.T) {
	h, logs := newHandler(t, &Handler{})
	for _, path := range []string{"/b2api/v2/b2_authorize_account", "/b2api/v4/b2_authorize_account"} {
		up := &upstream{answer: `{"apiInfo":{"storageApi":{"apiUrl":"https://api005.backblazeb2.com"}}}`}
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.SetBasicAuth("0014f8c3a5d2e9b0000000003", "K004secret")
		w := serve(t, h, up, r)
		if up.calls != 0 || w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "upstream realm") || strings.Contains(w.Body.String(), "api005") {
			t.Errorf("%s: upstream saw %d calls; client got %d %s", path, up.calls, w.Code, w.Body)
		}
	}
	if n := len(logs.FilterMessage("sign-in refused").All()); n != 2 {
		t.Errorf("%d sign-in refusals logged, want 2", n)
	}
}

// An update's captured answer is reused once it has been written to the
// client. What an earlier client got, its header values included (which the
// client's header shares with the capture), must not change when later
// updates reuse the capture.
func TestReusedAnswerLeavesEarlierAnswersAlone(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "b2"})
	answering := func(n int) caddyhttp.Handler {
		return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("X-Answer", strconv.Itoa(n))
			w.Header().Add("X-Answer", "also-"+strconv.Itoa(n))
			_, _ = io.WriteString(w, strings.Replace(bucketAnswer, "demo-bucket", "bucket-"+strconv.Itoa(n), 1))
			return nil
		})
	}
	var got []*httptest.ResponseRecorder
	for n := range 20 {
		r := post(`{"bucketId":"b1"}`)
		caddyhttp.NewTestReplacer(r)
		w := httptest.NewRecorder()
		if err := h.ServeHTTP(w, r, answering(n)); err != nil || w.Code != http.StatusOK {
			t.Fatalf("update %d: %d %v %s", n, w.Code, err, w.Body)
		}
		got = append(got, w)
	}
	for n, w := range got {
		want := []string{strconv.Itoa(n), "also-" + strconv.Itoa(n)}
		if v := w.Header().Values("X-Answer"); !slices.Equal(v, want) {
			t.Errorf("update %d: X-Answer is now %q, was sent as %q", n, v, want)
		}
		if !strings.Contains(w.Body.String(), `"bucket-`+strconv.Itoa(n)+`"`) {
			t.Errorf("update %d: body is now %s", n, w.Body)
		}
		if w.Header().Get("ETag") == "" {
			t.Errorf("update %d: no ETag", n)
		}
	}
}
