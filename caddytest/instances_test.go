package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The multi-process tests run the built binary several times over: one
// process for the upstreams (the two emulators), three gateway processes
// sharing one file-system storage directory. Goroutines in one process would
// share the in-process lock and memory, and hide exactly what is tested.
// The gateways reach the Flashback emulator through flashback-slow, a proxy
// in this test process.
const (
	multiB2Bucket  = "6d756c746970726f63657373"
	multiRaceFB    = "aaaaaaaa-0000-4000-8000-000000000001"
	multiAcrossFB  = "aaaaaaaa-0000-4000-8000-000000000002"
	multiHeldFB    = "aaaaaaaa-0000-4000-8000-000000000003"
	multiRefreshFB = "aaaaaaaa-0000-4000-8000-000000000004"
	multiSignInKey = "multi-gw-key"
	multiSignInApp = "multi-gw-app-key"
)

// fileLockStale is how long certmagic's file-system storage takes to deem a
// crashed holder's lock stale: a live holder refreshes its lock file every 5
// seconds, and a lock not refreshed for twice that is removed. Waiters look
// again every second.
const fileLockStale = 10*time.Second + time.Second

var multiUpstreamConfig = fmt.Sprintf(`{
	admin 127.0.0.1:$upstreams-admin
	persist_config off
	default_bind 127.0.0.1
}
http://127.0.0.1:$b2-emulator {
	b2_emulator {
		api_url http://127.0.0.1:$b2-emulator
		account multi-account {
			key multi-key-id multi-app-key {
				capabilities all
			}
			bucket multi-bucket {
				id %s
				type allPrivate
			}
		}
	}
}
http://127.0.0.1:$flashback-emulator {
	flashback_emulator {
		workspace multi-ws
		user multi-token {
			name multi-writer
			role multi-ws WRITE
		}
%s	}
}
`, multiB2Bucket, fbBuckets(multiRaceFB, multiAcrossFB, multiHeldFB, multiRefreshFB))

func fbBuckets(ids ...string) string {
	var b strings.Builder
	for i, id := range ids {
		fmt.Fprintf(&b, `		bucket "Bucket %d" {
			id %s
			workspace multi-ws
			storage_type S3
			bucket bucket-%d
			region us-east-1
			endpoint https://s3.us-east-1.amazonaws.com
			key AKIAIOSFODNN7EXAMPLE
			secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
		}
`, i, id, i)
	}
	return b.String()
}

// gatewayConfig is instance i's configuration, its port names those of
// instanceAt; extra goes into its B2 passthrough site, so a reload can
// change it, and fbExtra into its Flashback passthrough site.
func gatewayConfig(i int, storage, extra, fbExtra string) string {
	return fmt.Sprintf(`{
	admin 127.0.0.1:$instance%[1]d-admin
	persist_config off
	default_bind 127.0.0.1
	storage file_system %[2]s
}
http://127.0.0.1:$instance%[1]d-b2 {
	bucketgate {
		api b2
		upstream {
			realm http://127.0.0.1:$b2-emulator
		}
		%[3]s
	}
	reverse_proxy {http.bucketgate.upstream}
}
http://127.0.0.1:$instance%[1]d-flashback {
	bucketgate {
		api flashback
		%[6]s
	}
	reverse_proxy 127.0.0.1:$flashback-slow
}
http://127.0.0.1:$instance%[1]d-across {
	bucketgate {
		api b2
		upstream_api flashback
		mode gateway
		signing_secret multi-process-signing-secret-0123456789abcdef
		key %[4]s %[5]s {
			capabilities all
			workspace multi-ws WRITE
		}
		upstream {
			token multi-token
		}
	}
	reverse_proxy 127.0.0.1:$flashback-slow
}
`, i, strconv.Quote(storage), extra, multiSignInKey, multiSignInApp, fbExtra)
}

// instanceAt is the address of a site of instance i: admin, b2 (B2,
// passthrough), flashback (Flashback, passthrough) or across (B2 clients,
// Flashback upstream).
func instanceAt(t *testing.T, i int, site string) string {
	t.Helper()
	return ports(t, fmt.Sprintf("http://127.0.0.1:$instance%d-%s", i, site))
}

// process is one running bucketgate binary.
type process struct {
	name  string
	admin string // its admin endpoint's URL
	cmd   *exec.Cmd
	log   string
}

// buildBinary builds the bucketgate command once for the test.
func buildBinary(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the multi-process tests build the binary with go, which is not on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "bucketgate")
	build := exec.Command(goCmd, "build", "-o", bin, "./cmd/bucketgate")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the binary: %v\n%s", err, out)
	}
	return bin
}

// startProcess runs bin on config, its port names mapped (see ports), with
// a home of its own so that it writes nothing outside the test's
// directories, and waits until its admin endpoint, at the URL admin,
// answers.
func startProcess(t *testing.T, bin, name, admin, config string) *process {
	t.Helper()
	config, admin = ports(t, config), ports(t, admin)
	for _, port := range listenPorts(t, config, "caddyfile") {
		requireFree(t, port)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &process{name: name, admin: admin, log: filepath.Join(dir, "log")}
	logFile, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logFile.Close() })
	p.cmd = exec.Command(bin, "run", "--config", file, "--adapter", "caddyfile")
	p.cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("log of %s:\n%s", p.name, lastLines(string(b), 30))
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get(admin + "/config/")
		if err == nil {
			_ = resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(p.log)
			t.Fatalf("%s did not start: %v\n%s", name, err, lastLines(string(b), 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// reload loads a new configuration into p through its admin endpoint, as
// `caddy reload` does.
func (p *process) reload(t *testing.T, config string) {
	t.Helper()
	status, _, body := multiCall(t, "POST", p.admin+"/load", ports(t, config), "Content-Type", "text/caddyfile")
	if status != http.StatusOK {
		t.Fatalf("reloading %s: %d %s", p.name, status, body)
	}
	// The old configuration's servers close their connections.
	multiClient.CloseIdleConnections()
}

var multiClient = &http.Client{Timeout: time.Minute}

// multiCall sends one request, to url with its port names mapped (see
// ports), and returns the status, headers and body.
func multiCall(t *testing.T, method, url, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	url = ports(t, url)
	status, hdr, got, err := multiSend(method, url, body, headers...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return status, hdr, got
}

// multiSend is multiCall for goroutines, which may not end the test.
func multiSend(method, url, body string, headers ...string) (int, http.Header, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := multiClient.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}

func signInAt(t *testing.T, base, keyID, appKey string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/b2api/v3/b2_authorize_account", nil)
	req.SetBasicAuth(keyID, appKey)
	resp, err := multiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct{ AuthorizationToken string }
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 || a.AuthorizationToken == "" {
		t.Fatalf("sign-in at %s: %d %v", base, resp.StatusCode, err)
	}
	return a.AuthorizationToken
}

// multiRace sends n requests at once, racer i through instance i%3+1, and
// returns their statuses.
func multiRace(t *testing.T, n int, req func(i, instance int) (int, error)) []int {
	t.Helper()
	statuses := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	startLine := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-startLine
			statuses[i], errs[i] = req(i, i%3+1)
		})
	}
	close(startLine)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	return statuses
}

// slowFlashback passes calls to the Flashback emulator a little late, as a
// remote service answers, so that the window between a gateway's revision
// check and its write is wide enough for instances without a shared lock to
// interleave (as measured: 3 winners out of 30). A write that sets the name
// "Hang" it holds until the caller goes away, after closing held(bucket):
// the gateway writing it holds the bucket's lock for as long as the test
// wants.
type slowFlashback struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	holds map[string]chan struct{}
}

// held is closed once a write to bucket is held.
func (s *slowFlashback) held(bucket string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds[bucket] == nil {
		s.holds[bucket] = make(chan struct{})
	}
	return s.holds[bucket]
}

func (s *slowFlashback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(`"name":"Hang"`)) {
			close(s.held(path.Base(r.URL.Path)))
			<-r.Context().Done()
			return
		}
	}
	time.Sleep(20 * time.Millisecond)
	s.proxy.ServeHTTP(w, r)
}

func TestSeveralInstances(t *testing.T) {
	bin := buildBinary(t)
	storage := t.TempDir()

	target, _ := url.Parse(ports(t, "http://127.0.0.1:$flashback-emulator"))
	slow := &slowFlashback{proxy: httputil.NewSingleHostReverseProxy(target), holds: map[string]chan struct{}{}}
	slowListener, err := net.Listen("tcp", ports(t, "127.0.0.1:$flashback-slow"))
	if err != nil {
		t.Fatal(err)
	}
	slowServer := &http.Server{Handler: slow}
	go func() { _ = slowServer.Serve(slowListener) }()
	t.Cleanup(func() { _ = slowServer.Close() })

	startProcess(t, bin, "upstreams", "http://127.0.0.1:$upstreams-admin", multiUpstreamConfig)
	var instances [4]*process
	for i := 1; i <= 3; i++ {
		instances[i] = startProcess(t, bin, "instance "+strconv.Itoa(i), instanceAt(t, i, "admin"), gatewayConfig(i, storage, "", ""))
	}
	b2At := func(i int) string { return instanceAt(t, i, "b2") }
	fbAt := func(i int, bucket string) string { return instanceAt(t, i, "flashback") + "/bucket/" + bucket }
	acrossAt := func(i int) string { return instanceAt(t, i, "across") }
	update := `{"accountId":"multi-account","bucketId":"` + multiB2Bucket + `","bucketType":"allPublic"}`

	var token string
	t.Run("a token signed in at one instance works at the others", func(t *testing.T) {
		token = signInAt(t, b2At(1), "multi-key-id", "multi-app-key")
		for i := 1; i <= 3; i++ {
			status, _, body := multiCall(t, "POST", b2At(i)+"/b2api/v3/b2_update_bucket", update, "Authorization", token)
			if status != 200 {
				t.Errorf("instance %d: %d %s", i, status, body)
			}
		}
		status, _, body := multiCall(t, "POST", b2At(2)+"/b2api/v3/b2_update_bucket", update, "Authorization", token+"x")
		if status != 401 || !strings.Contains(body, "bad_auth_token") {
			t.Errorf("a token no instance signed in: %d %s", status, body)
		}
		// Storage holds a digest of the token and what the gateway knows,
		// never the token.
		err := filepath.WalkDir(storage, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err == nil && (bytes.Contains(b, []byte(token)) || strings.Contains(p, token)) {
				t.Errorf("%s holds the token", p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a reload with a changed configuration keeps tokens", func(t *testing.T) {
		mine := signInAt(t, b2At(2), "multi-key-id", "multi-app-key")
		instances[2].reload(t, gatewayConfig(2, storage, "max_depth 12", ""))
		instances[3].reload(t, gatewayConfig(3, storage, "require_revision", ""))
		for _, tok := range []string{token, mine} {
			status, _, body := multiCall(t, "POST", b2At(2)+"/b2api/v3/b2_update_bucket", update, "Authorization", tok)
			if status != 200 {
				t.Errorf("after the reload: %d %s", status, body)
			}
			// The new configuration is in force: it requires a revision.
			status, _, body = multiCall(t, "POST", b2At(3)+"/b2api/v3/b2_update_bucket", update, "Authorization", tok)
			if status != 428 {
				t.Errorf("instance 3 after its reload: %d %s, want the new configuration's 428", status, body)
			}
		}
	})

	t.Run("30 racers on one ETag over three instances: one wins", func(t *testing.T) {
		fb := []string{"Authorization", "Bearer multi-token", "Content-Type", "application/json"}
		status, hdr, body := multiCall(t, "PUT", fbAt(1, multiRaceFB), `{"name":"Start"}`, fb...)
		etag := hdr.Get("ETag")
		if status != 200 || etag == "" {
			t.Fatalf("first update: %d %s, ETag %q", status, body, etag)
		}
		statuses := multiRace(t, 30, func(i, instance int) (int, error) {
			status, _, _, err := multiSend("PUT", fbAt(instance, multiRaceFB), `{"name":"racer-`+strconv.Itoa(i)+`"}`, append(fb, "If-Match", etag)...)
			return status, err
		})
		winner := onlyWinner(t, statuses, http.StatusPreconditionFailed)
		_, _, list := multiCall(t, "GET", "http://127.0.0.1:$flashback-emulator/bucket", "", fb...)
		if !strings.Contains(list, `"name":"racer-`+strconv.Itoa(winner)+`"`) {
			t.Errorf("Flashback does not hold the winner's name %d: %s", winner, list)
		}
	})

	t.Run("30 racers on one ifRevisionIs, B2 clients of Flashback: one wins", func(t *testing.T) {
		tok := signInAt(t, acrossAt(1), multiSignInKey, multiSignInApp)
		auth := []string{"Authorization", tok}
		_, _, body := multiCall(t, "POST", acrossAt(2)+"/b2api/v3/b2_list_buckets", `{"accountId":"flashback","bucketId":"`+multiAcrossFB+`"}`, auth...)
		var l struct{ Buckets []struct{ Revision int64 } }
		if err := json.Unmarshal([]byte(body), &l); err != nil || len(l.Buckets) != 1 {
			t.Fatalf("list: %s", body)
		}
		rev := l.Buckets[0].Revision
		statuses := multiRace(t, 30, func(i, instance int) (int, error) {
			body := fmt.Sprintf(`{"accountId":"flashback","bucketId":%q,"bucketInfo":{"name":"racer-%d","workspaceId":"multi-ws"},"ifRevisionIs":%d}`, multiAcrossFB, i, rev)
			status, _, _, err := multiSend("POST", acrossAt(instance)+"/b2api/v3/b2_update_bucket", body, auth...)
			return status, err
		})
		winner := onlyWinner(t, statuses, http.StatusConflict)
		_, _, list := multiCall(t, "GET", "http://127.0.0.1:$flashback-emulator/bucket", "", "Authorization", "Bearer multi-token")
		if !strings.Contains(list, `"name":"racer-`+strconv.Itoa(winner)+`"`) {
			t.Errorf("Flashback does not hold the winner's name %d: %s", winner, list)
		}
	})

	t.Run("a holder killed with the lock blocks the others no longer than the stale-lock timeout", func(t *testing.T) {
		fb := []string{"Authorization", "Bearer multi-token", "Content-Type", "application/json"}
		// Instance 1 takes the bucket's lock and writes through an upstream
		// that never answers.
		go func() {
			_, _, _, _ = multiSend("PUT", fbAt(1, multiHeldFB), `{"name":"Hang"}`, fb...)
		}()
		select {
		case <-slow.held(multiHeldFB):
		case <-time.After(10 * time.Second):
			t.Fatal("instance 1's write never reached the upstream")
		}
		type result struct {
			status int
			body   string
			err    error
			at     time.Time
		}
		done := make(chan result, 1)
		go func() {
			status, _, body, err := multiSend("PUT", fbAt(2, multiHeldFB), `{"name":"After the crash"}`, fb...)
			done <- result{status, body, err, time.Now()}
		}()
		select {
		case r := <-done:
			t.Fatalf("instance 2 did not wait for instance 1's lock: %d %s %v", r.status, r.body, r.err)
		case <-time.After(1500 * time.Millisecond):
		}
		if err := instances[1].cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
			t.Fatal(err)
		}
		killed := time.Now()
		select {
		case r := <-done:
			if r.err != nil || r.status != 200 {
				t.Fatalf("after the holder died: %d %s %v", r.status, r.body, r.err)
			}
			if waited := r.at.Sub(killed); waited > fileLockStale+3*time.Second {
				t.Errorf("instance 2 waited %v after the kill; the stale-lock timeout is %v", waited, fileLockStale)
			}
		case <-time.After(fileLockStale + 10*time.Second):
			t.Fatal("instance 2 is still waiting, long past the stale-lock timeout")
		}
		_, _, list := multiCall(t, "GET", "http://127.0.0.1:$flashback-emulator/bucket", "", fb...)
		if !strings.Contains(list, `"name":"After the crash"`) || strings.Contains(list, `"name":"Hang"`) {
			t.Errorf("Flashback: %s", list)
		}
	})

	// certmagic's file-system lock keeps a lock file fresh from a goroutine
	// of the process that took it, which rewrites the file by name every 5
	// seconds until it finds it gone. Instance A takes and releases the
	// bucket's lock; B takes it within those 5 seconds and dies holding it;
	// A's goroutine goes on refreshing B's file, which never goes stale.
	// C's update must still succeed within B's deadline plus the grace the
	// gateway gives a holder (10 seconds) plus a poll (2 seconds).
	t.Run("a lock another instance keeps fresh frees itself once its dead holder's deadline passes", func(t *testing.T) {
		const holderTimeout = 6 * time.Second
		instances[3].reload(t, gatewayConfig(3, storage, "", "upstream_timeout 6s"))
		c := startProcess(t, bin, "instance 4", instanceAt(t, 4, "admin"), gatewayConfig(4, storage, "", ""))
		defer func() { _ = c.cmd.Process.Kill() }()
		fb := []string{"Authorization", "Bearer multi-token", "Content-Type", "application/json"}
		if status, _, body := multiCall(t, "PUT", fbAt(2, multiRefreshFB), `{"name":"By A"}`, fb...); status != 200 {
			t.Fatalf("A's update: %d %s", status, body)
		}
		bArrived := time.Now()
		go func() {
			_, _, _, _ = multiSend("PUT", fbAt(3, multiRefreshFB), `{"name":"Hang"}`, fb...)
		}()
		select {
		case <-slow.held(multiRefreshFB):
		case <-time.After(5 * time.Second):
			t.Fatal("B's write never reached the upstream")
		}
		locks, _ := filepath.Glob(filepath.Join(storage, "locks", "*.lock"))
		if len(locks) != 1 {
			t.Fatalf("want B's one lock file in storage, found %v", locks)
		}
		// Past A's goroutine's first refresh, and B is killed.
		time.Sleep(time.Until(bArrived.Add(5500 * time.Millisecond)))
		if err := instances[3].cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		before, err := os.Stat(locks[0])
		if err != nil {
			t.Fatal(err)
		}
		status, _, body := multiCall(t, "PUT", instanceAt(t, 4, "flashback")+"/bucket/"+multiRefreshFB, `{"name":"By C"}`, fb...)
		recovered := time.Now()
		if status != 200 {
			t.Fatalf("C's update: %d %s", status, body)
		}
		if bound := holderTimeout + 10*time.Second + 2*time.Second + 2*time.Second; recovered.Sub(bArrived) > bound {
			t.Errorf("C recovered %v after B took the lock, past the bound %v", recovered.Sub(bArrived), bound)
		}
		// The scenario is the one described: the dead holder's lock file was
		// kept fresh after its death, so only the gateway's own break freed it.
		if after, err := os.Stat(locks[0]); err == nil && !after.ModTime().After(before.ModTime()) && recovered.Sub(killed) > 5*time.Second {
			t.Logf("the lock file was not refreshed after B died (%v, %v): certmagic's stale timeout could have freed it", before.ModTime(), after.ModTime())
		}
		_, _, list := multiCall(t, "GET", "http://127.0.0.1:$flashback-emulator/bucket", "", fb...)
		if !strings.Contains(list, `"name":"By C"`) || strings.Contains(list, `"name":"Hang"`) {
			t.Errorf("Flashback: %s", list)
		}
	})
}
