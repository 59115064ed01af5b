// Package integration runs a real Caddy, in process, with the bucketgate
// modules. Caddy is a singleton (one admin endpoint, on port 2999 here), so
// every test that starts it lives in this one package and none runs in
// parallel.
package integration

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"

	_ "github.com/bucketgate/bucketgate"
	_ "github.com/bucketgate/bucketgate/module/emulator"
)

// globals keeps every configuration on the test admin endpoint and out of
// the system trust store, with fast reloads between tests.
const globals = `{
	skip_install_trust
	admin localhost:2999
	grace_period 1ns
}
`

// withLog makes config write Caddy's logs, as JSON, to file.
func withLog(t *testing.T, config, file string) string {
	t.Helper()
	out := strings.Replace(config, "admin localhost:2999", "admin localhost:2999\n\tlog {\n\t\toutput file "+file+"\n\t\tformat json\n\t\tlevel DEBUG\n\t}", 1)
	if out == config {
		t.Fatal("config has no admin localhost:2999 line to add a log after")
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

// startCaddy loads config into the in-process Caddy. caddytest skips a test
// when Caddy cannot start; a skipped integration test would hide every
// failure, so that is turned into a failure here.
func startCaddy(t *testing.T, config, adapter string) *caddytest.Tester {
	t.Helper()
	t.Cleanup(func() {
		if t.Skipped() && !testing.Short() {
			t.Error("Caddy could not start for this integration test (is port 2999 free?)")
		}
	})
	tester := caddytest.NewTester(t)
	tester.InitServer(config, adapter)
	if t.Failed() {
		t.FailNow()
	}
	return tester
}

// do sends one request and returns the status, headers and body.
func do(t *testing.T, tester *caddytest.Tester, method, url, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
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
