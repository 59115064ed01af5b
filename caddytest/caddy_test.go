// Package integration runs a real Caddy, in process, with the bucketgate
// modules. Caddy is a singleton (one admin endpoint, on a port the kernel
// gives each run; see ports), so every test that starts it lives in this
// one package and none runs in parallel.
package integration

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"

	_ "github.com/bucketgate/bucketgate"
	_ "github.com/bucketgate/bucketgate/module/emulator"
)

// globals keeps every configuration on the test admin endpoint and out of
// the system trust store, with fast reloads between tests.
const globals = `{
	skip_install_trust
	admin localhost:$admin
	grace_period 1ns
}
`

// withLog makes config write Caddy's logs, as JSON, to file.
func withLog(t *testing.T, config, file string) string {
	t.Helper()
	out := strings.Replace(config, "admin localhost:$admin", "admin localhost:$admin\n\tlog {\n\t\toutput file "+file+"\n\t\tformat json\n\t\tlevel DEBUG\n\t}", 1)
	if out == config {
		t.Fatal("config has no admin localhost:$admin line to add a log after")
	}
	return out
}

// logLines returns the lines of a log file written by withLog.
func logLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// startCaddy loads config, its port names mapped (see ports), into the
// in-process Caddy. caddytest skips a test when Caddy cannot start; a
// skipped integration test would hide every failure, so that is turned into
// a failure here.
func startCaddy(t *testing.T, config, adapter string) *caddytest.Tester {
	t.Helper()
	config = ports(t, config)
	admin := adminPort(t)
	t.Cleanup(func() {
		if t.Skipped() && !testing.Short() {
			t.Errorf("Caddy could not start for this integration test (is port %d free?)", admin)
		}
	})
	listen := listenPorts(t, config, adapter)
	if listen[0] != strconv.Itoa(admin) {
		t.Fatalf("the configuration puts the admin endpoint on port %s: a test's must say admin localhost:$admin (globals does)", listen[0])
	}
	for _, port := range listen {
		// Before the first load, the admin endpoint must be free too: taken,
		// caddytest would load the tests' configuration into whichever Caddy
		// holds it.
		if !held[port] {
			requireFree(t, port)
		}
	}
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: admin})
	tester.InitServer(config, adapter)
	if t.Failed() {
		t.FailNow()
	}
	held = map[string]bool{}
	for _, port := range listen {
		held[port] = true
	}
	return tester
}

// held are the ports the in-process Caddy listens on, for the configuration
// it runs; nil before the first load.
var held map[string]bool

// listenPorts returns the ports config listens on: its admin endpoint's
// first, then its sites'.
func listenPorts(t *testing.T, config, adapter string) []string {
	t.Helper()
	cfg := []byte(config)
	if adapter == "caddyfile" {
		var err error
		if cfg, _, err = caddyconfig.GetAdapter("caddyfile").Adapt(cfg, nil); err != nil {
			t.Fatalf("adapting: %v", err)
		}
	}
	var c struct {
		Admin struct{ Listen string }
		Apps  struct {
			HTTP struct {
				Servers map[string]struct{ Listen []string }
			}
		}
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		t.Fatalf("reading the configuration's listeners: %v", err)
	}
	addrs := []string{cmp.Or(c.Admin.Listen, caddy.DefaultAdminListen)}
	for _, srv := range c.Apps.HTTP.Servers {
		addrs = append(addrs, srv.Listen...)
	}
	var listen []string
	for _, addr := range addrs {
		na, err := caddy.ParseNetworkAddress(addr)
		if err != nil {
			t.Fatalf("listen %q: %v", addr, err)
		}
		for p := na.StartPort; p <= na.EndPort; p++ {
			listen = append(listen, strconv.FormatUint(uint64(p), 10))
		}
	}
	return listen
}

// requireFree fails the test, saying so, when another process listens on
// port: Caddy shares its ports (SO_REUSEPORT), so another test run that the
// kernel gave the same port (a small chance: see freePort) would silently
// take some of the tests' requests. The probe does not share, so it fails
// wherever someone else listens. A
// port this process's Caddy let go of a moment ago may take a moment to be
// released, hence the few tries.
func requireFree(t *testing.T, port string) {
	t.Helper()
	var err error
	for range 20 {
		var l net.Listener
		if l, err = net.Listen("tcp", "127.0.0.1:"+port); err == nil {
			l.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("port %s, which the kernel gave this test, is taken by another process (another test run given it too?): %v", port, err)
}

// do sends one request, to url with its port names mapped (see ports), and
// returns the status, headers and body.
func do(t *testing.T, tester *caddytest.Tester, method, url, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	url = ports(t, url)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := tester.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// recorder is an upstream that records what reached it.
type recorder struct {
	mu       sync.Mutex
	requests []recorded
	status   int
	answer   string
}

type recorded struct {
	method, path, query, body string
	header                    http.Header
	contentLength             int64
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.requests = append(rec.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, string(b), r.Header.Clone(), r.ContentLength})
	status, answer := rec.status, rec.answer
	rec.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.Copy(w, bytes.NewBufferString(answer))
}

func (rec *recorder) reset(status int, answer string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.requests, rec.status, rec.answer = nil, status, answer
}

func (rec *recorder) seen() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.requests...)
}

// onlyWinner returns the index of the one 200 among racers' statuses,
// failing the test unless exactly one won and every other got lost.
func onlyWinner(t *testing.T, statuses []int, lost int) int {
	t.Helper()
	winner := -1
	for i, s := range statuses {
		switch {
		case s == http.StatusOK && winner < 0:
			winner = i
		case s == http.StatusOK:
			t.Errorf("racers %d and %d both won", winner, i)
		case s != lost:
			t.Errorf("racer %d: status %d, want %d", i, s, lost)
		}
	}
	if winner < 0 {
		t.Fatal("no racer won")
	}
	return winner
}
