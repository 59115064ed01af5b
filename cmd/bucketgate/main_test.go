package main

import (
	"os"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/bucketgate/bucketgate"
)

// TestVersion: the binary reports bucketgate's version before Caddy's, and
// the changelog has an entry for that version.
func TestVersion(t *testing.T) {
	if _, full := caddy.Version(); !strings.HasPrefix(full, "bucketgate v"+bucketgate.Version+" on Caddy ") {
		t.Errorf("bucketgate version would print %q", full)
	}
	changelog, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(changelog), "\n## ["+bucketgate.Version+"]") {
		t.Errorf("CHANGELOG.md has no entry for %s", bucketgate.Version)
	}
}
