package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zaptest/observer"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// badUpstream is a storage API on a real loopback socket that answers most
// calls as the API would (through normal) and misbehaves on the calls that
// target picks: it can send informational answers first, reset or cut a body
// short, hang, echo the request's headers, or send garbage. The gateway
// reaches it through a real reverse_proxy, so what the gateway sees is what
// Caddy makes of the misbehaviour.
type badUpstream struct {
	ln     net.Listener
	normal http.Handler
	mu     sync.Mutex
	seen   []seenCall
	// target picks the calls that misbehave, by their order among all calls.
	target func(r *http.Request, n int) bool
	act    misbehaviour
	done   chan struct{}
}

type seenCall struct {
	method, path string
	header       http.Header
	body         string
}

// misbehaviour writes a raw answer (or none) to the call r on conn. It
// returns false when the connection is finished.
type misbehaviour func(conn net.Conn, r *http.Request, normal http.Handler, done <-chan struct{}) bool

func newBadUpstream(t *testing.T, normal http.Handler) *badUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &badUpstream{ln: ln, normal: normal, done: make(chan struct{})}
	t.Cleanup(func() { close(u.done); _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(conn)
		}
	}()
	return u
}

func (u *badUpstream) serve(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	for {
		r, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		u.mu.Lock()
		n := len(u.seen)
		u.seen = append(u.seen, seenCall{r.Method, r.URL.Path, r.Header.Clone(), string(body)})
		bad := u.target != nil && u.target(r, n)
		u.mu.Unlock()
		if bad {
			if !u.act(conn, r, u.normal, u.done) {
				return
			}
			continue
		}
		writeNormal(conn, r, u.normal)
	}
}

// calls counts the calls that reached the upstream and satisfy match.
func (u *badUpstream) calls(match func(seenCall) bool) (n int, all []seenCall) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range u.seen {
		if match(c) {
			n++
		}
	}
	return n, append([]seenCall(nil), u.seen...)
}

func writeNormal(conn net.Conn, r *http.Request, normal http.Handler) {
	rec := httptest.NewRecorder()
	normal.ServeHTTP(rec, r)
	res := rec.Result()
	res.ContentLength = int64(rec.Body.Len())
	_ = res.Write(conn)
}

// The misbehaviours.
var (
	// informational sends 100 Continue and 103 Early Hints, then the
	// normal answer.
	informational misbehaviour = func(conn net.Conn, r *http.Request, normal http.Handler, _ <-chan struct{}) bool {
		_, _ = io.WriteString(conn, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
		writeNormal(conn, r, normal)
		return true
	}
	// resetMidBody begins a 200 answer and resets the connection halfway.
	resetMidBody misbehaviour = func(conn net.Conn, _ *http.Request, _ http.Handler, _ <-chan struct{}) bool {
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"success\":true,\"bucketId\":")
		time.Sleep(20 * time.Millisecond)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		return false
	}
	// truncated promises more body than it sends, then closes.
	truncated misbehaviour = func(conn net.Conn, _ *http.Request, _ http.Handler, _ <-chan struct{}) bool {
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"revision\":")
		return false
	}
	// hang never answers.
	hang misbehaviour = func(_ net.Conn, _ *http.Request, _ http.Handler, done <-chan struct{}) bool {
		<-done
		return false
	}
	// echo refuses the call quoting every request header, as some error
	// pages in front of APIs do.
	echo misbehaviour = func(conn net.Conn, r *http.Request, _ http.Handler, _ <-chan struct{}) bool {
		var b strings.Builder
		for k, vs := range r.Header {
			fmt.Fprintf(&b, "%s=%s;", k, strings.Join(vs, ","))
		}
		msg := strings.ReplaceAll(b.String(), `"`, "'")
		body := `{"status":400,"code":"bad_request","success":false,"message":"` + msg + `"}`
		_, _ = fmt.Fprintf(conn, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-Echo-Authorization: %s\r\nContent-Length: %d\r\n\r\n%s", r.Header.Get("Authorization"), len(body), body)
		return true
	}
	// garbage answers with something that is not HTTP.
	garbage misbehaviour = func(conn net.Conn, _ *http.Request, _ http.Handler, _ <-chan struct{}) bool {
		_, _ = io.WriteString(conn, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
		return false
	}
	// html answers with a proxy's HTML error page.
	html misbehaviour = func(conn net.Conn, _ *http.Request, _ http.Handler, _ <-chan struct{}) bool {
		body := "<html><body><h1>502 Bad Gateway</h1></body></html>"
		_, _ = fmt.Fprintf(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return true
	}
	// repeated answers as normal would, but with the answer's revision (B2)
	// or success flag (Flashback) written twice, the first time otherwise:
	// JSON that parsers read differently.
	repeated misbehaviour = func(conn net.Conn, r *http.Request, normal http.Handler, _ <-chan struct{}) bool {
		rec := httptest.NewRecorder()
		normal.ServeHTTP(rec, r)
		body := rec.Body.String()
		first := `{"revision":99,`
		if strings.Contains(body, `"success"`) {
			first = `{"success":false,`
		}
		body = first + strings.TrimPrefix(body, "{")
		_, _ = fmt.Fprintf(conn, "HTTP/1.1 %d OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", rec.Code, len(body), body)
		return true
	}
	// oversized answers 200 with a body past max_response_size.
	oversized misbehaviour = func(conn net.Conn, _ *http.Request, _ http.Handler, _ <-chan struct{}) bool {
		body := `{"success":true,"revision":1,"pad":"` + strings.Repeat("x", 64<<10) + `"}`
		_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return true
	}
)

// loadCaddy runs an empty configuration (no admin endpoint, no listener) so
// that modules which need a running configuration, such as reverse_proxy,
// can be provisioned in its context.
var loadCaddy = sync.OnceValue(func() error {
	return caddy.Load([]byte(`{"admin":{"disabled":true,"config":{"persist":false}},
		"logging":{"logs":{"default":{"writer":{"output":"discard"}}}}}`), false)
})

// proxyTo is a real reverse_proxy to addr, as the gateway's next handler.
func proxyTo(t *testing.T, addr string) caddyhttp.Handler {
	t.Helper()
	if err := loadCaddy(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.ActiveContext())
	t.Cleanup(cancel)
	rp := &reverseproxy.Handler{Upstreams: reverseproxy.UpstreamPool{{Dial: addr}}}
	if err := rp.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rp.Cleanup() })
	end := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return rp.ServeHTTP(w, r, end) })
}

// adapt serves a caddyhttp.Handler of the unit tests' fakes as http.Handler.
type adapt struct{ h caddyhttp.Handler }

func (a adapt) ServeHTTP(w http.ResponseWriter, r *http.Request) { _ = a.h.ServeHTTP(w, r) }

// normalB2 answers B2's sign-in, list and update calls for bucket b1, whose
// revision goes up by one with each update.
type normalB2 struct {
	mu       sync.Mutex
	revision int
}

func (b *normalB2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	bucket := func() string {
		return fmt.Sprintf(`{"accountId":"acct","bucketId":"b1","bucketName":"demo-bucket","bucketType":"allPrivate","bucketInfo":{"workspaceId":"ws"},"revision":%d}`, b.revision)
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/b2_authorize_account"):
		_, _ = io.WriteString(w, `{"accountId":"acct","authorizationToken":"up-token","apiInfo":{"storageApi":{"apiUrl":"http://b2.test",`+
			`"downloadUrl":"http://b2.test","s3ApiUrl":"https://s3.us-west-004.backblazeb2.com","capabilities":["listBuckets","readBuckets","writeBuckets"]}}}`)
	case strings.HasSuffix(r.URL.Path, "/b2_list_buckets"):
		_, _ = io.WriteString(w, `{"buckets":[`+bucket()+`]}`)
	case strings.HasSuffix(r.URL.Path, "/b2_update_bucket"):
		b.revision++
		_, _ = io.WriteString(w, bucket())
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// mode is one way of running the gateway against badUpstream.
type mode struct {
	name string
	api  string // the client's
	// setup builds the handler and the normal upstream.
	setup func(t *testing.T) (*Handler, http.Handler)
	// request makes the client's update.
	request func(t *testing.T, h *Handler, next caddyhttp.Handler) *http.Request
	// isUpdate tells the upstream's update call.
	isUpdate func(r *http.Request) bool
	// secret is the gateway's own upstream credential, if it has one.
	secret string
}

func isB2Update(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/b2_update_bucket") }
func isFBUpdate(r *http.Request) bool { return r.Method == http.MethodPut }

func prepared(r *http.Request) *http.Request {
	return caddyhttp.PrepareRequest(r, caddy.NewReplacer(), nil, &caddyhttp.Server{})
}

func b2Update(token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(`{"accountId":"acct","bucketId":"b1","bucketInfo":{"team":"ops"}}`))
	r.Header.Set("Authorization", token)
	r.Header.Set("Expect", "100-continue")
	return prepared(r)
}

func fbUpdate(path, token string) *http.Request {
	r := httptest.NewRequest(http.MethodPut, path, strings.NewReader(`{"name":"Nightly"}`))
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Expect", "100-continue")
	return prepared(r)
}

var modes = []mode{
	{
		name: "b2 passthrough", api: "b2",
		setup: func(t *testing.T) (*Handler, http.Handler) {
			return &Handler{API: "b2"}, &normalB2{revision: 7}
		},
		request:  func(*testing.T, *Handler, caddyhttp.Handler) *http.Request { return b2Update("client-token") },
		isUpdate: isB2Update,
	},
	{
		name: "b2 passthrough with realm", api: "b2",
		setup: func(t *testing.T) (*Handler, http.Handler) {
			return &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "https://b2.test"}}, &normalB2{revision: 7}
		},
		request: func(t *testing.T, h *Handler, next caddyhttp.Handler) *http.Request {
			// Sign in through the gateway so that it knows the token.
			r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_authorize_account", nil)
			r.SetBasicAuth("up", "up-application-key")
			w := httptest.NewRecorder()
			if err := h.ServeHTTP(w, prepared(r), next); err != nil || w.Code != http.StatusOK {
				t.Fatalf("sign-in: %v %d %s", err, w.Code, w.Body)
			}
			return b2Update("up-token")
		},
		isUpdate: isB2Update,
	},
	{
		name: "b2 gateway", api: "b2", secret: "up-token",
		setup: func(t *testing.T) (*Handler, http.Handler) {
			return &Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
				Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Capabilities: []string{"writeBuckets", "readBuckets"}}},
				Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-application-key"}}, &normalB2{revision: 7}
		},
		request: func(_ *testing.T, h *Handler, _ caddyhttp.Handler) *http.Request {
			return b2Update(h.signer.Issue("k1", time.Now(), time.Hour))
		},
		isUpdate: isB2Update,
	},
	{
		name: "flashback passthrough", api: "flashback",
		setup: func(t *testing.T) (*Handler, http.Handler) {
			return &Handler{API: "flashback"}, adapt{newFakeFlashback()}
		},
		request: func(*testing.T, *Handler, caddyhttp.Handler) *http.Request {
			return fbUpdate("/bucket/"+fbID, "demo-token")
		},
		isUpdate: isFBUpdate,
	},
	{
		name: "flashback gateway", api: "flashback", secret: "demo-token",
		setup: func(t *testing.T) (*Handler, http.Handler) {
			return &Handler{API: "flashback", Mode: "gateway",
				Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Workspaces: map[string]string{"demo-workspace": "WRITE"}}},
				Upstream: &UpstreamCredentials{Token: "demo-token"}}, adapt{newFakeFlashback()}
		},
		request: func(*testing.T, *Handler, caddyhttp.Handler) *http.Request {
			return fbUpdate("/bucket/"+fbID, "k1-secret")
		},
		isUpdate: isFBUpdate,
	},
	{
		name: "b2 to flashback", api: "b2", secret: "demo-token",
		setup: func(t *testing.T) (*Handler, http.Handler) {
			return &Handler{API: "b2", UpstreamAPI: "flashback", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
				Keys: []auth.Key{{ID: "k1", Secret: "k1-secret", Capabilities: []string{"writeBuckets", "readBuckets"},
					Workspaces: map[string]string{"demo-workspace": "WRITE"}}},
				Upstream: &UpstreamCredentials{Token: "demo-token"}}, adapt{newFakeFlashback()}
		},
		request: func(_ *testing.T, h *Handler, _ caddyhttp.Handler) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(`{"bucketId":"`+fbID+`","bucketInfo":{"name":"Nightly","workspaceId":"demo-workspace"}}`))
			r.Header.Set("Authorization", h.signer.Issue("k1", time.Now(), time.Hour))
			r.Header.Set("Expect", "100-continue")
			return prepared(r)
		},
		isUpdate: isFBUpdate,
	},
	{
		name: "flashback to b2", api: "flashback", secret: "up-token",
		setup: func(t *testing.T) (*Handler, http.Handler) {
			return &Handler{API: "flashback", UpstreamAPI: "b2", Mode: "gateway",
					Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Workspaces: map[string]string{"ws": "WRITE"}}},
					Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-application-key"}},
				&normalB2{revision: 7}
		},
		request: func(*testing.T, *Handler, caddyhttp.Handler) *http.Request {
			return fbUpdate("/bucket/b1", "k1-secret")
		},
		isUpdate: isB2Update,
	},
}

// TestMisbehavingUpstream drives every mode against every misbehaviour of
// the update call, checking the client's answer, how often the update
// reached the upstream, the decision line and the metric.
func TestMisbehavingUpstream(t *testing.T) {
	type want struct {
		status   int
		contains string // in the client's answer
		outcome  string // the decision line's
		refusal  string // the metric's refusal label
	}
	behaviours := []struct {
		name string
		act  misbehaviour
		want func(m mode) want
	}{
		{"1xx then final", informational, func(m mode) want {
			return want{status: http.StatusOK, outcome: "forwarded"}
		}},
		{"reset mid-body", resetMidBody, func(m mode) want {
			return want{status: http.StatusBadGateway, contains: "may or may not have been applied", outcome: "upstream_failed", refusal: "upstream_failed"}
		}},
		{"truncated body", truncated, func(m mode) want {
			return want{status: http.StatusBadGateway, contains: "may or may not have been applied", outcome: "upstream_failed", refusal: "upstream_failed"}
		}},
		{"hang", hang, func(m mode) want {
			return want{status: http.StatusGatewayTimeout, contains: "may or may not have been applied", outcome: "upstream_failed", refusal: "upstream_timeout"}
		}},
		{"garbage", garbage, func(m mode) want {
			return want{status: http.StatusBadGateway, contains: "may or may not have been applied", outcome: "upstream_failed", refusal: "upstream_failed"}
		}},
		{"oversized", oversized, func(m mode) want {
			return want{status: http.StatusBadGateway, contains: "max_response_size", outcome: "upstream_failed", refusal: "upstream_failed"}
		}},
		{"html error page", html, func(m mode) want {
			switch {
			case m.name == "b2 passthrough" || m.name == "b2 passthrough with realm" || m.name == "b2 gateway":
				// B2 answers pass as B2 sent them; B2 clients retry a 502.
				return want{status: http.StatusBadGateway, contains: "Bad Gateway", outcome: "forwarded"}
			case m.api == "flashback" && m.name != "flashback to b2":
				return want{status: http.StatusBadGateway, contains: "not a Flashback response", outcome: "upstream_failed", refusal: "upstream_failed"}
			}
			return want{status: http.StatusBadGateway, outcome: "refused", refusal: "upstream_failed"}
		}},
		{"repeated key", repeated, func(m mode) want {
			switch {
			case m.name == "b2 to flashback" || m.name == "flashback to b2":
				// Success by its status; the bucket is read back from a
				// strict answer.
				return want{status: http.StatusOK, outcome: "forwarded"}
			case m.api == "flashback":
				return want{status: http.StatusBadGateway, contains: "most likely applied", outcome: "upstream_failed", refusal: "upstream_failed"}
			}
			return want{status: http.StatusBadGateway, contains: "not one unambiguous JSON document; it reported success, so the write was most likely applied", outcome: "upstream_failed", refusal: "upstream_failed"}
		}},
		{"header echo", echo, func(m mode) want {
			w := want{status: http.StatusBadRequest, outcome: "forwarded"}
			if m.api == "flashback" && m.name != "flashback to b2" {
				w.status = http.StatusBadRequest
			}
			if m.name == "b2 to flashback" || m.name == "flashback to b2" {
				w.outcome, w.refusal = "refused", "bad_request"
			}
			return w
		}},
	}
	for _, m := range modes {
		for _, b := range behaviours {
			t.Run(m.name+"/"+b.name, func(t *testing.T) {
				h, normal := m.setup(t)
				h.MaxResponseSize = 16 << 10
				h.UpstreamTimeout = caddy.Duration(500 * time.Millisecond)
				h, logs := newHandler(t, h)
				up := newBadUpstream(t, normal)
				next := proxyTo(t, up.ln.Addr().String())
				r := m.request(t, h, next)
				up.mu.Lock()
				up.target, up.act = func(r *http.Request, _ int) bool { return m.isUpdate(r) }, b.act
				up.mu.Unlock()
				want := b.want(m)
				metric := decisionsTotal.WithLabelValues("", m.api, "update", want.outcome, want.refusal)
				before := testutil.ToFloat64(metric)

				w := httptest.NewRecorder()
				start := time.Now()
				if err := h.ServeHTTP(w, r, next); err != nil {
					t.Fatalf("ServeHTTP: %v", err)
				}
				if took := time.Since(start); took > 5*time.Second {
					t.Errorf("answered after %v", took)
				}
				if w.Code != want.status || !strings.Contains(w.Body.String(), want.contains) {
					t.Errorf("client got %d %s, want %d with %q", w.Code, w.Body, want.status, want.contains)
				}
				if want.status == http.StatusOK && w.Header().Get("ETag") == "" {
					t.Errorf("a successful update has no ETag: %v", w.Header())
				}
				updates, all := up.calls(func(c seenCall) bool {
					return c.method == http.MethodPut || strings.HasSuffix(c.path, "/b2_update_bucket")
				})
				if updates != 1 {
					t.Errorf("the update reached the upstream %d times, want once: %+v", updates, all)
				}
				for _, c := range all {
					if c.header.Get("Expect") != "" {
						t.Errorf("Expect reached the upstream with %s %s", c.method, c.path)
					}
				}
				if m.secret != "" {
					answer := fmt.Sprint(w.Header()) + w.Body.String()
					if strings.Contains(answer, m.secret) {
						t.Errorf("the gateway's own upstream credential reached the client: %s", answer)
					}
					for _, e := range logs.All() {
						if strings.Contains(fmt.Sprint(e.Message, e.ContextMap()), m.secret) {
							t.Errorf("the gateway's own upstream credential reached the log: %v", e.ContextMap())
						}
					}
				}
				line := decisionLine(t, logs)
				if line.Message != "update "+want.outcome {
					t.Errorf("decision line %q %v, want update %s", line.Message, line.ContextMap(), want.outcome)
				}
				if want.refusal != "" && line.ContextMap()["reason"] == nil {
					t.Errorf("decision line gives no reason: %v", line.ContextMap())
				}
				if got := testutil.ToFloat64(metric) - before; got != 1 {
					t.Errorf("metric %s/%s counted %v times, want 1", want.outcome, want.refusal, got)
				}
			})
		}
	}
}

func decisionLine(t *testing.T, logs *observer.ObservedLogs) observer.LoggedEntry {
	t.Helper()
	var line observer.LoggedEntry
	for _, e := range logs.All() {
		if strings.HasPrefix(e.Message, "update ") {
			line = e
		}
	}
	return line
}

// TestEchoedCredentialsOnReads: an upstream that echoes request headers in
// its answer to the gateway's own reads (bucket state, lists) hands the
// gateway's upstream credential neither to the client nor to the log.
func TestEchoedCredentialsOnReads(t *testing.T) {
	isRead := func(r *http.Request, _ int) bool {
		return r.Method == http.MethodGet && r.URL.Path == "/bucket" || strings.HasSuffix(r.URL.Path, "/b2_list_buckets")
	}
	for _, m := range modes {
		if m.secret == "" {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			h, normal := m.setup(t)
			h, logs := newHandler(t, h)
			up := newBadUpstream(t, normal)
			next := proxyTo(t, up.ln.Addr().String())
			r := m.request(t, h, next)
			up.mu.Lock()
			up.target, up.act = isRead, echo
			up.mu.Unlock()
			w := httptest.NewRecorder()
			if err := h.ServeHTTP(w, r, next); err != nil {
				t.Fatal(err)
			}
			if reads, _ := up.calls(func(c seenCall) bool {
				return c.method == http.MethodGet && c.path == "/bucket" || strings.HasSuffix(c.path, "/b2_list_buckets")
			}); reads == 0 {
				t.Skip("this mode reads nothing before the update")
			}
			if answer := fmt.Sprint(w.Header()) + w.Body.String(); strings.Contains(answer, m.secret) {
				t.Errorf("the gateway's own upstream credential reached the client: %s", answer)
			}
			for _, e := range logs.All() {
				if strings.Contains(fmt.Sprint(e.Message, e.ContextMap()), m.secret) {
					t.Errorf("the gateway's own upstream credential reached the log: %v", e.ContextMap())
				}
			}
		})
	}
}
