package auth

import (
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// Expand replaces the placeholders in value, a setting's value such as a
// secret, with repl. A placeholder the replacer does not know, or one that
// expands to nothing (an environment variable that is not set), is an error
// naming the setting and the placeholder, never the value: used literally,
// a secret would fail only at its first use, and could be as public as the
// configuration that holds it.
func Expand(repl *caddy.Replacer, setting, value string) (string, error) {
	for _, name := range placeholders(value) {
		p := "{" + name + "}"
		if _, err := repl.ReplaceOrErr(p, false, true); err != nil {
			return "", fmt.Errorf("%s holds the placeholder %s, which is not known here", setting, p)
		}
		if _, err := repl.ReplaceOrErr(p, true, true); err != nil {
			if env, ok := strings.CutPrefix(name, "env."); ok {
				return "", fmt.Errorf("%s is empty: the environment variable %s, which %s names, is not set (or empty) where Caddy runs", setting, env, p)
			}
			return "", fmt.Errorf("%s is empty: the placeholder %s expands to nothing", setting, p)
		}
	}
	// Every placeholder expands on its own, so the whole value does too.
	return repl.ReplaceAll(value, ""), nil
}

// placeholders names the placeholders in s, as Caddy's replacer reads them:
// {name}, with \{ and \} escaping a brace.
func placeholders(s string) []string {
	var names []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return names
			}
			names = append(names, s[i+1:i+1+end])
			i += end + 1
		}
	}
	return names
}
