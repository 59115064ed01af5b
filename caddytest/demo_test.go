package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loads counts demo loads: Caddy ignores a load identical to the running
// configuration, and every test needs the demo's emulators fresh.
var loads int

// demoConfig is the root Caddyfile, the one the demo command runs,
// moved onto the test admin endpoint and the tests' own ports, so that a
// demo running on the same machine neither answers the tests' requests nor
// gets them.
func demoConfig(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	loads++
	cfg := strings.Replace(string(src), "admin localhost:2019", fmt.Sprintf("admin localhost:2999\n\tgrace_period %dns", loads), 1)
	if cfg == string(src) {
		t.Fatal("the root Caddyfile no longer sets admin localhost:2019; update demoConfig")
	}
	return shiftDemoPorts(cfg)
}

// demoPortShift moves the demo's ports (8080 to 8084, 9100, 9200) to the
// tests' own (18080 to 18084, 19100, 19200).
const demoPortShift = 10000

var demoPorts = regexp.MustCompile(`:(808[0-4]|9100|9200)\b`)

// shiftDemoPorts rewrites the demo's ports in a configuration, a script or
// an expected output alike, so the demo walkthrough runs unchanged on
// the tests' ports.
func shiftDemoPorts(s string) string {
	return demoPorts.ReplaceAllStringFunc(s, func(m string) string {
		port, _ := strconv.Atoi(m[1:])
		return ":" + strconv.Itoa(port+demoPortShift)
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
		script.WriteString(shiftDemoPorts(s.script) + "\necho '" + marker + "'\n")
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
		if got := nonBlank(outputs[i]); got != nonBlank(shiftDemoPorts(s.want)) {
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
