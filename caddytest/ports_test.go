package integration

import (
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ports returns s with each :$name in it replaced by a colon and the port
// of that name. No test here listens on or dials a fixed port: two runs of
// the tests at once, or a demo running beside them, would take each other's
// requests. Every port is the kernel's choice instead, and tests write it
// by name.
//
// How a test gets its ports: write each one as :$name, with a name of the
// test's choosing (lower-case letters, digits and hyphens, starting with a
// letter), in its configuration and its URLs alike, so that a reader sees
// which site talks to which:
//
//	:$b2-emulator {
//		b2_emulator {
//			api_url http://127.0.0.1:$b2-emulator
//	...
//	:$b2-gateway {
//		bucketgate {
//			upstream {
//				realm http://127.0.0.1:$b2-emulator
//	...
//	do(t, tester, "GET", "http://127.0.0.1:$b2-gateway/b2api/v3/b2_authorize_account", "")
//
// startCaddy, startProcess, reload, do and multiCall map what they are
// given. Map anything else that holds an address yourself with ports(t, s):
// a client library's base URL, a listener of the test's own, an apiUrl the
// test expects, a script. Mapping twice changes nothing; an address left
// unmapped is not one, and fails where it is used.
//
// A name is one port within a top-level test and its subtests; the next
// test gets new ones. Each is asked of the kernel when the name is first
// mapped, for a site when its configuration is loaded, so that it is still
// free when its server listens a moment later. The name admin is the
// in-process Caddy's admin endpoint, one port for the whole run: every
// configuration loaded into it says admin localhost:$admin (globals does;
// startCaddy refuses one that does not).
func ports(t testing.TB, s string) string {
	t.Helper()
	test, _, _ := strings.Cut(t.Name(), "/")
	named.Lock()
	defer named.Unlock()
	if named.test != test {
		named.test, named.ports = test, map[string]int{}
	}
	return portName.ReplaceAllStringFunc(s, func(m string) string {
		name := m[len(":$"):]
		if name == "admin" {
			return ":" + strconv.Itoa(adminPort(t))
		}
		port, ok := named.ports[name]
		if !ok {
			port = newPort(t, name)
			named.ports[name] = port
		}
		return ":" + strconv.Itoa(port)
	})
}

var portName = regexp.MustCompile(`:\$([a-z][a-z0-9-]*)`)

// named holds the ports of the top-level test that runs (they run one at a
// time, but their goroutines may map names too).
var named struct {
	sync.Mutex
	test  string
	ports map[string]int
}

// newPort asks the kernel for a port for name, one that none of the test's
// other names has: a port closed a moment ago may come back at once.
func newPort(t testing.TB, name string) int {
	t.Helper()
	for {
		port, err := freePort()
		if err != nil {
			t.Fatalf("a port for %s: %v", name, err)
		}
		if port != adminPort(t) && !slices.Contains(slices.Collect(maps.Values(named.ports)), port) {
			return port
		}
	}
}

// adminPort is the in-process Caddy's admin port for this run, asked of the
// kernel when a test first needs it.
func adminPort(t testing.TB) int {
	t.Helper()
	port, err := runAdminPort()
	if err != nil {
		t.Fatalf("a port for the admin endpoint: %v", err)
	}
	return port
}

var runAdminPort = sync.OnceValues(freePort)

// freePort is a port no one listens on, as the kernel gives it: listen on
// port 0, read the port, close. Between that and the server listening,
// another process may be given it too; requireFree checks for that.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
