package integration

import (
	"os"
	"regexp"
	"strings"
	"testing"
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
