package integration

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// TestDockerfileCaddyVersion: the image is built and run with the Caddy
// minor version go.mod requires, so the binary in the image is the one the
// tests ran.
func TestDockerfileCaddyVersion(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github\.com/caddyserver/caddy/v2 v(\d+\.\d+)\.\d+`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod requires no Caddy version")
	}
	docker, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FROM caddy:" + string(m[1]) + "-builder AS builder\n", "FROM caddy:" + string(m[1]) + "\n"} {
		if !strings.Contains(string(docker), want) {
			t.Errorf("Dockerfile lacks %q (go.mod requires Caddy %s)", strings.TrimSpace(want), m[1])
		}
	}
}

// TestProductionCaddyfile keeps deploy/Caddyfile, the Dockerfile and
// docs/deployment.md in step: every variable the file reads is listed in the
// docs' table, passed by the docs' and the Dockerfile's `docker run`, and in
// the docs' systemd environment file, and none of them lists one it does not
// read; the image is built with the script CI builds with and holds the
// file; and with only the listed variables set, the file loads.
func TestProductionCaddyfile(t *testing.T) {
	caddyfile, docs, docker := repoFile(t, "deploy/Caddyfile"), repoFile(t, "docs/deployment.md"), repoFile(t, "Dockerfile")

	// What the Caddyfile reads, its comments left out.
	code := regexp.MustCompile(`(?m)(^|\s)#.*$`).ReplaceAllString(caddyfile, "")
	uses := names(regexp.MustCompile(`\{(?:env\.|\$)([A-Za-z0-9_]+)`), code)
	if len(uses) == 0 {
		t.Fatal("deploy/Caddyfile reads no variable")
	}
	_, section, ok := strings.Cut(docs, "\n## The production Caddyfile\n")
	section, _, _ = strings.Cut(section, "\n## ")
	_, dockerRun, ok2 := strings.Cut(docs, "docker run ")
	dockerRun, _, _ = strings.Cut(dockerRun, "```")
	_, envFile, ok3 := strings.Cut(docs, "# /etc/caddy/bucketgate.env")
	envFile, _, _ = strings.Cut(envFile, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal(`docs/deployment.md lacks the section "The production Caddyfile", a docker run command or the systemd environment file`)
	}
	dashE := regexp.MustCompile(`-e ([A-Z0-9_]+)`)
	for _, list := range []struct {
		where string
		names []string
	}{
		{"the variables table of docs/deployment.md", names(regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\|"), section)},
		{"the docker run of docs/deployment.md", names(dashE, dockerRun)},
		{"the systemd environment file of docs/deployment.md", names(regexp.MustCompile(`(?m)^([A-Z0-9_]+)=`), envFile)},
		{"the docker run in the Dockerfile's comment", names(dashE, docker)},
	} {
		if !slices.Equal(list.names, uses) {
			t.Errorf("%s lists %v; deploy/Caddyfile reads %v", list.where, list.names, uses)
		}
	}

	for _, line := range []string{
		"RUN /src/bucketgate/deploy/xcaddy-build /src/bucketgate /usr/bin/caddy\n",
		"COPY deploy/Caddyfile /etc/caddy/Caddyfile\n",
		`-v "$PWD/deploy/Caddyfile:/etc/caddy/Caddyfile:ro"`,
	} {
		if !strings.Contains(docker, line) {
			t.Errorf("the Dockerfile lacks %q", strings.TrimSpace(line))
		}
	}
	if !strings.Contains(dockerRun, `-v "$PWD/deploy/Caddyfile:/etc/caddy/Caddyfile:ro"`) {
		t.Error("the docker run of docs/deployment.md does not mount deploy/Caddyfile")
	}
	if !strings.Contains(repoFile(t, ".ci/run"), "deploy/xcaddy-build ") {
		t.Error(".ci/run does not build with deploy/xcaddy-build, which the Dockerfile runs")
	}

	// Values shaped to fit every use: a domain, a secret of 32 bytes or
	// more, a key id.
	for _, name := range uses {
		t.Setenv(name, strings.ToLower(strings.ReplaceAll(name, "_", "-"))+"-0123456789abcdef0123456789abcdef.example.com")
	}
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "deploy/Caddyfile"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("adapting warns: %v", warnings)
	}
	var c caddy.Config
	if err := json.Unmarshal(cfg, &c); err != nil {
		t.Fatal(err)
	}
	if err := caddy.Validate(&c); err != nil {
		t.Fatalf("deploy/Caddyfile does not load with the listed variables set: %v", err)
	}
}

// names returns the first submatches of re in s, sorted, each once.
func names(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// repoFile is the content of a file of the repository, named from its root.
func repoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
