package schema

import (
	"regexp"
	"testing"
)

// patterns are those of the built-in schemas and shapes near them.
var patterns = []string{
	`^[A-Za-z0-9_-]+$`, `^[A-Za-z0-9-]+$`, `^[A-Za-z0-9]+$`, `^[A-Za-z0-9_-]{1,50}$`, `^[a-zA-Z0-9_-]{1,64}$`,
	`^[bB]2-`, `^[Hh][Tt][Tt][Pp][Ss]?://`, `^[a-z0-9][a-z0-9.-]*[a-z0-9]$`, `^[a-z0-9]+(-[a-z0-9]+)*$`,
	`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`,
	`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`, `^(?i)ab`, `^(?i)sk`, `^x*$`, `^x?y`, `^[^a]+$`, `^é+$`, `^a{2,}$`, `^a{0,3}`, `^a+?$`,
}

func TestPatternMatchesRegexp(t *testing.T) {
	inputs := []string{"", "a", "A", "ab", "AB", "b2-x", "B2-", "b2", "http://", "HTTPS://x", "httpx://", "my.bucket", "my..b", "a-b", "a--b",
		"-a", "0123abcd-0123-abcd-ABCD-0123456789ab", "0123abcd-0123-abcd-ABCD-0123456789abc", "x", "xx", "xy", "y", "é", "éé", "\u212a", "aaaa",
		"sk", "SK", "\u017fk", "A_b-9", "a b", "a\n", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcd"}
	for _, src := range patterns {
		p, ok := compilePattern(src)
		if !ok {
			t.Fatalf("%s does not compile", src)
		}
		re := regexp.MustCompile(src)
		for _, in := range inputs {
			if got, want := p.MatchString(in), re.MatchString(in); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", src, in, got, want)
			}
		}
	}
	for _, src := range []string{`^[A-Za-z0-9_-]+$`, `^[A-Za-z0-9_-]{1,50}$`, `^[bB]2-`, `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`} {
		if p, _ := compilePattern(src); p.items == nil {
			t.Errorf("%s runs the regexp; it has the simple shape", src)
		}
	}
}

func FuzzPattern(f *testing.F) {
	for i := range patterns {
		f.Add(uint8(i), "b2-Abc_9")
	}
	f.Fuzz(func(t *testing.T, which uint8, in string) {
		src := patterns[int(which)%len(patterns)]
		p, _ := compilePattern(src)
		if got, want := p.MatchString(in), regexp.MustCompile(src).MatchString(in); got != want {
			t.Fatalf("%s on %q: %v, regexp says %v", src, in, got, want)
		}
	})
}
