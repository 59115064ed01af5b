package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEProductionExample: the Caddyfile on the README's first screen
// is examples/b2-passthrough.Caddyfile, which TestExamples adapts and loads.
func TestREADMEProductionExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(readme), "```caddyfile\n")
	block, _, _ = strings.Cut(block, "```")
	example, err := os.ReadFile("../examples/b2-passthrough.Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	if block == "" || !strings.HasSuffix(string(example), block) {
		t.Errorf("the README's first Caddyfile is not the end of examples/b2-passthrough.Caddyfile:\n%s", block)
	}
}

var (
	mdLink  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile("(?m)^#{1,6} (.+)$")
	fenced  = regexp.MustCompile("(?s)```.*?```")
)

// anchor is the id GitHub gives a heading.
func anchor(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	var b strings.Builder
	for _, r := range h {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocLinks: every relative link in the README and docs/ names a file
// that exists and, with a #fragment, a heading in it, so that moving text
// between pages cannot leave a link behind.
func TestDocLinks(t *testing.T) {
	pages, _ := filepath.Glob("../docs/*.md")
	pages = append(pages, "../README.md", "../CHANGELOG.md")
	for _, page := range pages {
		src, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text := fenced.ReplaceAllString(string(src), "")
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Errorf("%s: link %s: %v", page, target, err)
				continue
			}
			if frag == "" || info.IsDir() {
				continue
			}
			dst, _ := os.ReadFile(path)
			found := false
			for _, h := range heading.FindAllStringSubmatch(fenced.ReplaceAllString(string(dst), ""), -1) {
				if anchor(strings.ReplaceAll(h[1], "`", "")) == frag {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: link %s: no such heading", page, target)
			}
		}
	}
}
