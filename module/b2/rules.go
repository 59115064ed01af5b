package b2

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bucketgate/bucketgate/module/dialect"
)

// Limits B2 enforces that a JSON Schema cannot state.
const (
	maxCORSRuleBytes   = 1000 // a rule's strings together must stay under this
	maxBucketInfoBytes = 2048 // one bucketInfo value
)

// rules checks what JSON Schema cannot: relations between values. It runs on
// every document, valid or not, so that one answer lists every problem; each
// check therefore reads defensively and skips values of the wrong type,
// which the schema already reports.
func rules(doc map[string]any) []dialect.Violation {
	var vs []dialect.Violation
	vs = append(vs, corsRules(doc["corsRules"])...)
	vs = append(vs, lifecycleRules(doc["lifecycleRules"])...)
	vs = append(vs, retention(doc["defaultRetention"])...)
	vs = append(vs, bucketInfo(doc["bucketInfo"])...)
	return vs
}

func corsRules(v any) []dialect.Violation {
	list, _ := v.([]any)
	var vs []dialect.Violation
	names := make(map[string]int)
	for i, item := range list {
		rule, ok := item.(map[string]any)
		if !ok {
			continue
		}
		at := fmt.Sprintf("corsRules[%d]", i)
		if name, ok := rule["corsRuleName"].(string); ok {
			if first, dup := names[name]; dup {
				vs = append(vs, dialect.Violation{Path: at + ".corsRuleName", Message: fmt.Sprintf("repeats the name of corsRules[%d]; rule names must be unique", first)})
			} else {
				names[name] = i
			}
		}
		if n := corsRuleBytes(rule); n >= maxCORSRuleBytes {
			vs = append(vs, dialect.Violation{Path: at, Message: fmt.Sprintf("is %d bytes of names, origins, headers and operations; a rule must be under %d", n, maxCORSRuleBytes)})
		}
		vs = append(vs, origins(at+".allowedOrigins", rule["allowedOrigins"])...)
	}
	return vs
}

// corsRuleBytes measures a rule as B2 does: the UTF-8 length of every string
// in its name and lists.
func corsRuleBytes(rule map[string]any) int {
	n := 0
	if s, ok := rule["corsRuleName"].(string); ok {
		n += len(s)
	}
	for _, f := range []string{"allowedOrigins", "allowedHeaders", "allowedOperations", "exposeHeaders"} {
		list, _ := rule[f].([]any)
		for _, item := range list {
			if s, ok := item.(string); ok {
				n += len(s)
			}
		}
	}
	return n
}

// origins applies B2's origin rules: "*" only alone, at most one "https"
// entry, and at most one wildcard in an origin.
func origins(at string, v any) []dialect.Violation {
	list, _ := v.([]any)
	var vs []dialect.Violation
	https := 0
	for i, item := range list {
		o, ok := item.(string)
		if !ok {
			continue
		}
		switch {
		case o == "*" && len(list) > 1:
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
func lifecycleRules(v any) []dialect.Violation {
	list, _ := v.([]any)
	var vs []dialect.Violation
	type prefixAt struct {
		prefix string
		index  int
	}
	var prefixes []prefixAt
	for i, item := range list {
		rule, ok := item.(map[string]any)
		if !ok {
			continue
		}
		acts := false
		for _, a := range lifecycleActions {
			if rule[a] != nil {
				acts = true
			}
		}
		if !acts {
			vs = append(vs, dialect.Violation{Path: fmt.Sprintf("lifecycleRules[%d]", i), Message: "must set at least one of " + strings.Join(lifecycleActions, ", ")})
		}
		if p, ok := rule["fileNamePrefix"].(string); ok {
			prefixes = append(prefixes, prefixAt{p, i})
		}
	}
	// Sorted, a covering prefix comes before every prefix it covers; the
	// schema caps the list at 100 rules, so checking all earlier ones is cheap.
	sort.SliceStable(prefixes, func(a, b int) bool { return prefixes[a].prefix < prefixes[b].prefix })
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
func retention(v any) []dialect.Violation {
	r, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	mode, _ := r["mode"].(string)
	on := mode == "governance" || mode == "compliance"
	switch {
	case on && r["period"] == nil:
		return []dialect.Violation{{Path: "defaultRetention.period", Message: "is required when mode is governance or compliance"}}
	case !on && r["period"] != nil:
		return []dialect.Violation{{Path: "defaultRetention.period", Message: "must be null or absent when mode is null or none"}}
	}
	return nil
}

func bucketInfo(v any) []dialect.Violation {
	info, _ := v.(map[string]any)
	var vs []dialect.Violation
	for k, val := range info {
		if s, ok := val.(string); ok && len(s) > maxBucketInfoBytes {
			vs = append(vs, dialect.Violation{Path: "bucketInfo." + k, Message: fmt.Sprintf("must be at most %d bytes", maxBucketInfoBytes)})
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Path < vs[j].Path })
	return vs
}
