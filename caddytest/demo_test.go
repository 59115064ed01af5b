package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// loads counts demo loads: Caddy ignores a load identical to the running
// configuration, and every test needs the demo's emulators fresh.
var loads int

// demoConfig is the root Caddyfile, the one the demo command runs, with
// its ports named (see demoNames), so that it runs on ports of the test's
// own and on the test admin endpoint: a demo running on the same machine
// neither answers the tests' requests nor gets them.
func demoConfig(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	loads++
	const admin = "admin localhost:2019"
	cfg := strings.Replace(string(src), admin, fmt.Sprintf("%s\n\tgrace_period %dns", admin, loads), 1)
	if cfg == string(src) {
		t.Fatal("the root Caddyfile no longer sets " + admin + "; update demoConfig")
	}
	return demoNames(cfg)
}

// demoSites names the ports of the demo, as the root Caddyfile and
// docs/demo.md write them.
var demoSites = map[string]string{
	"2019": "admin",
	"8080": "demo-b2-gateway",        // B2 clients, gateway mode, to the B2 emulator
	"8081": "demo-flashback-gateway", // Flashback clients, gateway mode, to the Flashback emulator
	"8082": "demo-flashback-to-b2",   // Flashback clients, gateway mode, to the B2 emulator
	"8083": "demo-b2-to-flashback",   // B2 clients, gateway mode, to the Flashback emulator
	"8084": "demo-b2-passthrough",    // B2 clients, passthrough, to the B2 emulator
	"9100": "demo-b2-emulator",
	"9200": "demo-flashback-emulator",
}

var demoPort = regexp.MustCompile(`:([0-9]+)\b`)

// demoNames writes the demo's ports as the names demoSites gives them, in
// a configuration, a script or an expected output alike, so that the demo
// walkthrough runs unchanged on the test's own ports.
func demoNames(s string) string {
	return demoPort.ReplaceAllStringFunc(s, func(m string) string {
		if name, ok := demoSites[m[1:]]; ok {
			return ":$" + name
		}
		return m
	})
}

var fence = regexp.MustCompile("(?s)```(sh|text|json)\n(.*?)```")

// TestDemoWalkthrough runs the demo walkthrough (docs/demo.md, linked from the
// README), block by block in one shell, against the root Caddyfile, and
// compares every output with the one the page shows, so the documentation
// cannot drift from the code.
func TestDemoWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("../docs/demo.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "<!-- demo:start")
	section, _, ok2 := strings.Cut(section, "<!-- demo:end -->")
	if !ok || !ok2 {
		t.Fatal("docs/demo.md has no demo section")
	}
	type step struct{ script, want string }
	var steps []step
	for _, m := range fence.FindAllStringSubmatch(section, -1) {
		if m[1] == "sh" {
			steps = append(steps, step{script: m[2]})
		} else if len(steps) > 0 {
			steps[len(steps)-1].want = m[2]
		}
	}
	if len(steps) < 5 {
		t.Fatalf("found only %d demo steps", len(steps))
	}

	startCaddy(t, demoConfig(t), "caddyfile")

	const marker = "@@@ step done @@@"
	var script strings.Builder
	script.WriteString("set -u\n")
	for _, s := range steps {
		script.WriteString(ports(t, demoNames(s.script)) + "\necho '" + marker + "'\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("demo script failed: %v\n%s", err, out)
	}
	outputs := strings.Split(string(out), marker+"\n")
	for i, s := range steps {
		if s.want == "" {
			continue
		}
		if got := nonBlank(outputs[i]); got != nonBlank(ports(t, demoNames(s.want))) {
			t.Errorf("step %d:\n%s\ngot:\n%s\ndocs/demo.md shows:\n%s", i+1, s.script, got, s.want)
		}
	}
}

// nonBlank drops blank lines: whether an answer ends in a newline is not
// something the walkthrough documents.
func nonBlank(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// TestDemoRefusesBadCreationsEverywhere: on every gateway site of the demo,
// a creation the contract refuses gets a 400 in the site's API naming the
// field, a creation the caller may not make (a B2 bucket made public without
// allow_public, or by a key without writeBuckets; a Flashback bucket in a
// workspace where the key only reads) is refused as such, and neither
// emulator holds a bucket more afterwards.
func TestDemoRefusesBadCreationsEverywhere(t *testing.T) {
	tester := startCaddy(t, demoConfig(t), "caddyfile")
	b2Emulator := b2SignIn(t, tester, "http://127.0.0.1:$demo-b2-emulator", "demo-key-id", "demo-app-key")
	upstreamBuckets := func() string {
		_, _, b2 := do(t, tester, "POST", b2Emulator.apiURL+"/b2api/v3/b2_list_buckets",
			`{"accountId":"`+b2Emulator.accountID+`"}`, "Authorization", b2Emulator.token)
		_, _, fb := do(t, tester, "GET", "http://127.0.0.1:$demo-flashback-emulator/bucket", "", "Authorization", "Bearer demo-token")
		var names []string
		for _, m := range regexp.MustCompile(`"(?:bucketName|bucket)":"([^"]*)"`).FindAllStringSubmatch(b2+fb, -1) {
			names = append(names, m[1])
		}
		return strings.Join(names, ",")
	}
	before := upstreamBuckets()
	if strings.Count(before, "demo-bucket") != 2 {
		t.Fatalf("the emulators list %q, not the demo's bucket on each", before)
	}

	b2Sites := []struct {
		site, keyID, key, limitedID, limitedKey, limitedWant string
	}{
		{"demo-b2-gateway", "demo-gw-key-id", "demo-gw-app-key", "demo-gw-limited-id", "demo-gw-limited-key", "allow_public"},
		{"demo-b2-to-flashback", "demo-gw-key-id", "demo-gw-app-key", "demo-gw-limited-id", "demo-gw-limited-key", "allow_public"},
		{"demo-b2-passthrough", "demo-key-id", "demo-app-key", "demo-readonly-id", "demo-readonly-key", "writeBuckets"},
	}
	for _, s := range b2Sites {
		base := "http://127.0.0.1:$" + s.site
		good := b2SignIn(t, tester, base, s.keyID, s.key)
		status, _, body := do(t, tester, "POST", base+"/b2api/v3/b2_create_bucket",
			`{"accountId":"`+good.accountID+`","bucketName":"b2-reserved","bucketType":"allPrivate"}`, "Authorization", good.token)
		if status != 400 || !strings.Contains(body, `"code":"bad_request"`) || !strings.Contains(body, "bucketName") {
			t.Errorf("%s: an invalid creation got %d %s", s.site, status, body)
		}
		limited := b2SignIn(t, tester, base, s.limitedID, s.limitedKey)
		status, _, body = do(t, tester, "POST", base+"/b2api/v3/b2_create_bucket",
			`{"accountId":"`+limited.accountID+`","bucketName":"demo-made-public","bucketType":"allPublic"}`, "Authorization", limited.token)
		if status != 401 || !strings.Contains(body, `"code":"unauthorized"`) || !strings.Contains(body, s.limitedWant) {
			t.Errorf("%s: the limited key's public creation got %d %s", s.site, status, body)
		}
	}

	const creation = `{"name":"Made","storageType":"S3","bucket":"demo-made-here","workspaceId":"demo-workspace","key":"AKIAIOSFODNN7EXAMPLE","secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`
	for _, site := range []string{"demo-flashback-gateway", "demo-flashback-to-b2"} {
		url := "http://127.0.0.1:$" + site + "/bucket"
		status, _, body := do(t, tester, "POST", url, strings.Replace(creation, `"S3"`, `"FTP"`, 1),
			"Authorization", "Bearer demo-gw-app-key", "Content-Type", "application/json")
		if status != 400 || !strings.Contains(body, `"success":false`) || !strings.Contains(body, "storageType") {
			t.Errorf("%s: an invalid creation got %d %s", site, status, body)
		}
		status, _, body = do(t, tester, "POST", url, creation,
			"Authorization", "Bearer demo-gw-limited-key", "Content-Type", "application/json")
		if status != 403 || !strings.Contains(body, `"success":false`) || !strings.Contains(body, "WRITE") {
			t.Errorf("%s: a creation by a key that only reads the workspace got %d %s", site, status, body)
		}
	}

	if after := upstreamBuckets(); after != before {
		t.Errorf("the emulators' buckets were %s and are %s", before, after)
	}
}
