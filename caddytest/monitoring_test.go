package integration

import (
	"regexp"
	"strings"
	"testing"
)

// TestAlertsDocumented: every alert in examples/monitoring has a heading in
// docs/operations.md that its runbook_url names, a row in the docs' table,
// and, in the promtool tests, a case where it fires and one where it does
// not. promtool runs the cases (in .ci/run); this test keeps them from
// being left out.
func TestAlertsDocumented(t *testing.T) {
	rules := repoFile(t, "examples/monitoring/bucketgate.rules.yml")
	tests := repoFile(t, "examples/monitoring/bucketgate.rules.test.yml")
	docs := repoFile(t, "docs/operations.md")

	alerts := regexp.MustCompile(`(?m)^      - alert: (\w+)\n((?:        .*\n)+)`).FindAllStringSubmatch(rules, -1)
	if len(alerts) == 0 {
		t.Fatal("no alerts in examples/monitoring/bucketgate.rules.yml")
	}
	for _, a := range alerts {
		name, body := a[1], a[2]
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(docs, "\n### "+name+"\n") {
				t.Errorf("docs/operations.md has no heading ### %s", name)
			}
			if !strings.Contains(docs, "\n| `"+name+"` |") {
				t.Errorf("the alerts table of docs/operations.md has no row for %s", name)
			}
			want := "runbook_url: \"https://github.com/bucketgate/bucketgate/blob/main/docs/operations.md#" + anchor(name) + "\""
			if !strings.Contains(body, want) {
				t.Errorf("%s has no %s", name, want)
			}
			if !regexp.MustCompile(`severity: (critical|warning)\n`).MatchString(body) {
				t.Errorf("%s has no severity critical or warning", name)
			}
			quiet := regexp.MustCompile(`alertname: ` + name + `\n\s+exp_alerts: \[\]\n`)
			firing := regexp.MustCompile(`alertname: ` + name + `\n\s+exp_alerts:\n\s+- exp_labels:\n`)
			if !quiet.MatchString(tests) {
				t.Errorf("bucketgate.rules.test.yml has no case where %s does not fire", name)
			}
			if !firing.MatchString(tests) {
				t.Errorf("bucketgate.rules.test.yml has no case where %s fires", name)
			}
		})
	}
}
