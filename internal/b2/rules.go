package b2

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// maxCORSRuleBytes is B2's documented bound on a CORS rule, which a JSON
// Schema cannot state: a rule's strings together must stay under it.
const maxCORSRuleBytes = 1000

// rules checks what JSON Schema cannot: relations between values. It runs on
// every document, valid or not, so that one answer lists every problem; each
// check therefore reads defensively and skips values of the wrong type,
// which the schema already reports. A null reads as the field's absence,
// as it does at B2. Every rule here is one B2 documents; none is invented.
func rules(doc jsonscan.Value) []dialect.Violation {
	var vs []dialect.Violation
	vs = append(vs, corsRules(doc.Get("corsRules"))...)
	vs = append(vs, lifecycleRules(doc.Get("lifecycleRules"))...)
	vs = append(vs, retention(doc.Get("defaultRetention"))...)
	return vs
}

func corsRules(list jsonscan.Value) []dialect.Violation {
	var vs []dialect.Violation
	var names map[string]int // a single rule has no name to repeat
	if list.Len() > 1 {
		names = make(map[string]int, list.Len())
	}
	for i, rule := range list.Items() {
		if rule.Type() != jsonscan.Object {
			continue
		}
		if name, ok := rule.Get("corsRuleName").Str(); ok && names != nil {
			if first, dup := names[name]; dup {
				vs = append(vs, dialect.Violation{Path: corsPath{i, "corsRuleName"}.String(), Message: fmt.Sprintf("repeats the name of corsRules[%d]; rule names must be unique", first)})
			} else {
				names[name] = i
			}
		}
		if n := corsRuleBytes(rule); n >= maxCORSRuleBytes {
			vs = append(vs, dialect.Violation{Path: corsPath{rule: i}.String(), Message: fmt.Sprintf("is %d bytes of names, origins, headers and operations; a rule must be under %d", n, maxCORSRuleBytes)})
		}
		vs = append(vs, origins(corsPath{i, "allowedOrigins"}, rule.Get("allowedOrigins"))...)
		vs = append(vs, allowedHeaders(corsPath{i, "allowedHeaders"}, rule.Get("allowedHeaders"))...)
		vs = append(vs, exposeHeaders(corsPath{i, "exposeHeaders"}, rule.Get("exposeHeaders"))...)
	}
	return vs
}

// corsPath names a CORS rule, or a field of one, in a violation. It is
// rendered only when there is a violation to report, so a valid rule costs
// no string building.
type corsPath struct {
	rule  int
	field string
}

func (p corsPath) String() string {
	s := "corsRules[" + strconv.Itoa(p.rule) + "]"
	if p.field != "" {
		s += "." + p.field
	}
	return s
}

// allowedHeaders applies B2's rule for request headers a rule allows: "*"
// matches every header and so must be the only entry. Other entries are
// header names, or prefixes ending in "*"; B2 documents no other form.
func allowedHeaders(at corsPath, list jsonscan.Value) []dialect.Violation {
	var vs []dialect.Violation
	for i, item := range list.Items() {
		if h, ok := item.Str(); ok && h == "*" && list.Len() > 1 {
			vs = append(vs, dialect.Violation{Path: fmt.Sprintf("%s[%d]", at, i), Message: `"*" must be the only allowed header when present`})
		}
	}
	return vs
}

// exposeHeaders applies B2's rule for response headers a rule exposes: each
// entry is a complete header name, so a wildcard or a character no header
// name holds is refused.
func exposeHeaders(at corsPath, list jsonscan.Value) []dialect.Violation {
	var vs []dialect.Violation
	for i, item := range list.Items() {
		if h, ok := item.Str(); ok && !isHeaderName(h) {
			vs = append(vs, dialect.Violation{Path: fmt.Sprintf("%s[%d]", at, i), Message: "must be a complete header name, such as x-bz-content-sha1, with no wildcard"})
		}
	}
	return vs
}

// isHeaderName reports whether s is an HTTP field name (RFC 9110 token)
// other than a wildcard.
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c == '*' || !isTokenChar(c) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// corsRuleBytes measures a rule as B2 does: the UTF-8 length of every string
// in its name and lists.
func corsRuleBytes(rule jsonscan.Value) int {
	n := 0
	if s, ok := rule.Get("corsRuleName").Str(); ok {
		n += len(s)
	}
	for _, f := range []string{"allowedOrigins", "allowedHeaders", "allowedOperations", "exposeHeaders"} {
		for _, item := range rule.Get(f).Items() {
			if s, ok := item.Str(); ok {
				n += len(s)
			}
		}
	}
	return n
}

// origins applies B2's origin rules: "*" only alone, at most one "https"
// entry, and at most one wildcard in an origin.
func origins(at corsPath, list jsonscan.Value) []dialect.Violation {
	var vs []dialect.Violation
	https := 0
	for i, item := range list.Items() {
		o, ok := item.Str()
		if !ok {
			continue
		}
		switch {
		case o == "*" && list.Len() > 1:
			vs = append(vs, dialect.Violation{Path: fmt.Sprintf("%s[%d]", at, i), Message: `"*" must be the only origin when present`})
		case o == "https":
			https++
			if https == 2 {
				vs = append(vs, dialect.Violation{Path: fmt.Sprintf("%s[%d]", at, i), Message: `only one "https" origin is allowed`})
			}
		}
		if strings.Count(o, "*") > 1 {
			vs = append(vs, dialect.Violation{Path: fmt.Sprintf("%s[%d]", at, i), Message: "an origin may contain at most one wildcard"})
		}
	}
	return vs
}

var lifecycleActions = []string{"daysFromHidingToDeleting", "daysFromUploadingToHiding", "daysFromStartingToCancelingUnfinishedLargeFiles"}

// lifecycleRules checks that each rule does something and that no two rules
// apply to the same file, which B2 refuses: two prefixes overlap when one
// starts with the other.
func lifecycleRules(list jsonscan.Value) []dialect.Violation {
	var vs []dialect.Violation
	type prefixAt struct {
		prefix string
		index  int
	}
	var prefixes []prefixAt
	for i, rule := range list.Items() {
		if rule.Type() != jsonscan.Object {
			continue
		}
		acts := false
		for _, a := range lifecycleActions {
			if rule.Get(a).Given() {
				acts = true
			}
		}
		if !acts {
			vs = append(vs, dialect.Violation{Path: fmt.Sprintf("lifecycleRules[%d]", i), Message: "must set at least one of " + strings.Join(lifecycleActions, ", ")})
		}
		if p, ok := rule.Get("fileNamePrefix").Str(); ok {
			prefixes = append(prefixes, prefixAt{p, i})
		}
	}
	// Sorted, a covering prefix comes before every prefix it covers; the
	// schema caps the list at 100 rules, so checking all earlier ones is cheap.
	slices.SortStableFunc(prefixes, func(a, b prefixAt) int { return strings.Compare(a.prefix, b.prefix) })
	for i := 1; i < len(prefixes); i++ {
		for j := i - 1; j >= 0; j-- {
			if !strings.HasPrefix(prefixes[i].prefix, prefixes[j].prefix) {
				continue
			}
			a, b := prefixes[j].index, prefixes[i].index
			if a > b {
				a, b = b, a
			}
			vs = append(vs, dialect.Violation{Path: fmt.Sprintf("lifecycleRules[%d].fileNamePrefix", b), Message: fmt.Sprintf("overlaps the prefix of lifecycleRules[%d]; no two rules may apply to the same file", a)})
			break
		}
	}
	return vs
}

// retention checks that a retention mode comes with a period, and that
// turning retention off carries none.
func retention(r jsonscan.Value) []dialect.Violation {
	if r.Type() != jsonscan.Object {
		return nil
	}
	mode, _ := r.Get("mode").Str()
	on := mode == "governance" || mode == "compliance"
	switch {
	case on && !r.Get("period").Given():
		return []dialect.Violation{{Path: "defaultRetention.period", Message: "is required when mode is governance or compliance"}}
	case !on && r.Get("period").Given():
		return []dialect.Violation{{Path: "defaultRetention.period", Message: "must be null or absent when mode is null or none"}}
	}
	return nil
}
