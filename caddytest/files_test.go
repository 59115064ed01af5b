package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Backblaze/blazer/b2"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// The file calls a B2 client makes on its apiUrl. In passthrough mode with a
// realm, the gateway routes each one to the account's apiUrl untouched;
// uploads and downloads go to the upload and download URLs, which are the
// B2 emulator's own.
var fileAPICalls = []string{
	"b2_get_upload_url", "b2_list_file_names", "b2_list_file_versions", "b2_get_file_info",
	"b2_hide_file", "b2_delete_file_version", "b2_get_download_authorization",
}

// exchange is one request as a client sent it or as it reached the
// emulator: what the gateway must not change.
type exchange struct {
	host, method, path, query, body, auth string
	forwarded                             bool // it came through a proxy
}

func (e exchange) call() string { return path.Base(e.path) }

// same compares what the gateway must pass on untouched.
func (e exchange) same(o exchange) bool {
	return e.method == o.method && e.path == o.path && e.query == o.query && e.body == o.body && e.auth == o.auth
}

func (e exchange) String() string {
	return fmt.Sprintf("%s %s?%s Authorization=%q body=%q", e.method, e.path, e.query, e.auth, e.body)
}

type exchangeLog struct {
	mu  sync.Mutex
	all []exchange
}

func (l *exchangeLog) add(r *http.Request) error {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, exchange{
		host: r.Host, method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery, body: string(body),
		auth: r.Header.Get("Authorization"), forwarded: r.Header.Get("X-Forwarded-For") != "",
	})
	return nil
}

func (l *exchangeLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = nil
}

func (l *exchangeLog) list() []exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.all)
}

// arrivals is what reached the B2 emulator's site, recorded by the
// record_arrivals handler in front of it.
var arrivals = &exchangeLog{}

func init() {
	caddy.RegisterModule(arrivalRecorder{})
	httpcaddyfile.RegisterHandlerDirective("record_arrivals", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		r := new(arrivalRecorder)
		return r, r.UnmarshalCaddyfile(h.Dispenser)
	})
}

// arrivalRecorder is a test-only handler that records every request in
// arrivals, body included, and passes it on unchanged.
type arrivalRecorder struct{}

func (arrivalRecorder) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.record_arrivals", New: func() caddy.Module { return new(arrivalRecorder) }}
}

func (*arrivalRecorder) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

func (arrivalRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if err := arrivals.add(r); err != nil {
		return err
	}
	return next.ServeHTTP(w, r)
}

// sentLog records what a client sends, as a transport.
type sentLog struct{ exchangeLog }

func (l *sentLog) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	if err := l.add(out); err != nil {
		return nil, err
	}
	return http.DefaultTransport.RoundTrip(out)
}

// filesConfig is a B2 emulator with the recorder in front of it, and a
// passthrough gateway with a realm before that, like the demo's :8084.
const filesConfig = globals + `
:$files-emulator {
	route {
		record_arrivals
		b2_emulator {
			api_url http://127.0.0.1:$files-emulator
			account files-account {
				key files-key-id files-app-key {
					capabilities all
				}
				bucket files-bucket
			}
		}
	}
}

:$files-gateway {
	bucketgate {
		api b2
		upstream {
			realm http://127.0.0.1:$files-emulator
		}
	}
	reverse_proxy {http.bucketgate.upstream}
}
`

// TestFilesThroughPassthroughGateway has blazer upload, list, read, hide
// and delete files through a passthrough gateway with a realm, like the
// demo's :8084, and checks that every file API call the gateway routed
// reached the emulator exactly as blazer sent it, while uploads and
// downloads went to the emulator directly.
func TestFilesThroughPassthroughGateway(t *testing.T) {
	startCaddy(t, filesConfig, "caddyfile")
	gateway, emulator := ports(t, "127.0.0.1:$files-gateway"), ports(t, "127.0.0.1:$files-emulator")
	arrivals.reset()
	ctx := context.Background()
	sent := &sentLog{}
	client, err := b2.NewClient(ctx, "files-key-id", "files-app-key", b2.APIBase("http://"+gateway), b2.Transport(sent))
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	bucket, err := client.Bucket(ctx, "files-bucket")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"docs/hello world.txt": "hello, world\n", "docs/a+b.txt": "plus"}
	for name, content := range files {
		w := bucket.Object(name).NewWriter(ctx, b2.WithAttrsOption(&b2.Attrs{ContentType: "text/plain", Info: map[string]string{"owner": "ada lovelace"}}))
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}

	if got, want := listNames(t, ctx, bucket), []string{"docs/a+b.txt", "docs/hello world.txt"}; !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q", got, want)
	}
	for name, content := range files {
		o := bucket.Object(name)
		if got, err := readAll(ctx, o); err != nil || got != content {
			t.Errorf("read %s: %q %v", name, got, err)
		}
		if attrs, err := o.Attrs(ctx); err != nil || attrs.Size != int64(len(content)) || attrs.Info["owner"] != "ada lovelace" {
			t.Errorf("attrs of %s: %+v %v", name, attrs, err)
		}
	}
	signed, err := bucket.Object("docs/hello world.txt").AuthURL(ctx, time.Minute, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(signed.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != files["docs/hello world.txt"] || signed.Host != emulator {
		t.Errorf("signed URL %s: %d %q", signed, resp.StatusCode, body)
	}

	if err := bucket.Object("docs/a+b.txt").Hide(ctx); err != nil {
		t.Fatalf("hide: %v", err)
	}
	if _, err := readAll(ctx, bucket.Object("docs/a+b.txt")); !b2.IsNotExist(err) {
		t.Errorf("read of the hidden file: %v, want not found", err)
	}
	if got, want := listNames(t, ctx, bucket), []string{"docs/hello world.txt"}; !slices.Equal(got, want) {
		t.Errorf("listed %q after hiding, want %q", got, want)
	}
	it := bucket.List(ctx, b2.ListHidden())
	deleted := 0
	for it.Next() {
		if err := it.Object().Delete(ctx); err != nil {
			t.Errorf("delete %s: %v", it.Object().Name(), err)
		}
		deleted++
	}
	if err := it.Err(); err != nil || deleted != 3 {
		t.Errorf("deleted %d versions (%v), want 3: two uploads and a hide marker", deleted, err)
	}
	if got := listNames(t, ctx, bucket, b2.ListHidden()); len(got) != 0 {
		t.Errorf("left after deleting every version: %q", got)
	}

	checkRoutedUntouched(t, sent.list(), arrivals.list(), gateway, emulator)
}

// checkRoutedUntouched matches every file API call sent to the gateway
// with one that reached the emulator through it, field for field, and
// checks that uploads and downloads went to the emulator directly.
func checkRoutedUntouched(t *testing.T, sent, arrived []exchange, gateway, emulator string) {
	t.Helper()
	var proxied []exchange
	for _, a := range arrived {
		if a.forwarded {
			proxied = append(proxied, a)
		}
	}
	routed := make(map[string]int)
	for _, s := range sent {
		switch {
		case strings.Contains(s.path, "/b2_upload_file/") || strings.HasPrefix(s.path, "/file/"):
			if s.host != emulator {
				t.Errorf("%s went to %s, not straight to the emulator (%s)", s, s.host, emulator)
			}
			continue
		case !slices.Contains(fileAPICalls, s.call()):
			continue
		case s.host != gateway:
			t.Errorf("%s went to %s, not through the gateway (%s)", s, s.host, gateway)
			continue
		}
		routed[s.call()]++
		i := slices.IndexFunc(proxied, s.same)
		if i < 0 {
			t.Errorf("the gateway did not pass on untouched:\n sent    %s\n arrived %s", s, nearest(proxied, s))
			continue
		}
		proxied = slices.Delete(proxied, i, i+1)
	}
	for _, call := range fileAPICalls {
		if routed[call] == 0 {
			t.Errorf("blazer made no %s through the gateway; the test checks nothing about it: %v", call, routed)
		}
	}
	for _, p := range proxied {
		if slices.Contains(fileAPICalls, p.call()) {
			t.Errorf("the emulator got a file call through the gateway that blazer did not send: %s", p)
		}
	}
}

// nearest is the arrival of the same call, to show what the gateway
// changed.
func nearest(arrived []exchange, s exchange) string {
	for _, a := range arrived {
		if a.call() == s.call() {
			return a.String()
		}
	}
	return "none"
}

func listNames(t *testing.T, ctx context.Context, bucket *b2.Bucket, opts ...b2.ListOption) []string {
	t.Helper()
	var names []string
	it := bucket.List(ctx, opts...)
	for it.Next() {
		names = append(names, it.Object().Name())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("list: %v", err)
	}
	return names
}

func readAll(ctx context.Context, o *b2.Object) (string, error) {
	r := o.NewReader(ctx)
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}
