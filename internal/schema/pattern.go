package schema

import (
	"regexp"
	"regexp/syntax"
)

// pattern is a schema's "pattern" keyword: the compiled regexp, as
// gojsonschema compiles it, and for the common shape of bucket API patterns
// (anchored runs of ASCII character classes, such as ^[A-Za-z0-9_-]{1,50}$)
// a table-driven matcher that gives the same answer without running the
// regexp machine.
type pattern struct {
	re    *regexp.Regexp
	items []classRun // nil when the regexp must run
	toEnd bool       // anchored at the end of the text too
}

// classRun is count characters of one ASCII class: exactly min of them, or,
// for the last run only, between min and max (max < 0: no limit).
type classRun struct {
	set      [2]uint64
	min, max int
}

func (r *classRun) has(c byte) bool { return c < 128 && r.set[c>>6]&(1<<(c&63)) != 0 }

func compilePattern(src string) (*pattern, bool) {
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, false
	}
	p := &pattern{re: re}
	if tree, err := syntax.Parse(src, syntax.Perl); err == nil {
		p.items, p.toEnd = simpleRuns(tree)
	}
	return p, true
}

// simpleRuns reads ^ run run ... run [$] where every run but the last has a
// fixed count: such a pattern matches greedily without backtracking. Any
// other shape returns nil.
func simpleRuns(re *syntax.Regexp) ([]classRun, bool) {
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return nil, false
	}
	subs := re.Sub[1:]
	toEnd := false
	if last := subs[len(subs)-1]; last.Op == syntax.OpEndText {
		toEnd, subs = true, subs[:len(subs)-1]
	}
	var runs []classRun
	for _, s := range subs {
		min, max, body := 1, 1, s
		switch s.Op {
		case syntax.OpPlus:
			min, max, body = 1, -1, s.Sub[0]
		case syntax.OpStar:
			min, max, body = 0, -1, s.Sub[0]
		case syntax.OpQuest:
			min, max, body = 0, 1, s.Sub[0]
		case syntax.OpRepeat:
			min, max, body = s.Min, s.Max, s.Sub[0]
		}
		if s.Op != body.Op && (s.Flags&syntax.NonGreedy != 0) {
			return nil, false
		}
		var sets []classRun
		switch body.Op {
		case syntax.OpCharClass:
			var r classRun
			for i := 0; i < len(body.Rune); i += 2 {
				lo, hi := body.Rune[i], body.Rune[i+1]
				if hi >= 128 {
					return nil, false
				}
				for c := lo; c <= hi; c++ {
					r.set[c>>6] |= 1 << (c & 63)
				}
			}
			sets = []classRun{r}
		case syntax.OpLiteral:
			fold := body.Flags&syntax.FoldCase != 0
			for _, c := range body.Rune {
				if c >= 128 || fold && (c|0x20 == 'k' || c|0x20 == 's') {
					// K and S also fold to non-ASCII runes (Kelvin, long s).
					return nil, false
				}
				var r classRun
				r.set[c>>6] |= 1 << (c & 63)
				if fold && (c|0x20) >= 'a' && (c|0x20) <= 'z' {
					for _, f := range []rune{c | 0x20, c &^ 0x20} {
						r.set[f>>6] |= 1 << (f & 63)
					}
				}
				sets = append(sets, r)
			}
		default:
			return nil, false
		}
		if len(sets) > 1 && (min != 1 || max != 1) {
			return nil, false // a repeated multi-character literal
		}
		for _, r := range sets {
			if len(runs) > 0 && runs[len(runs)-1].min != runs[len(runs)-1].max {
				return nil, false // only the last run may vary
			}
			r.min, r.max = min, max
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return nil, false
	}
	return runs, toEnd
}

// MatchString reports whether s matches, as the regexp does.
func (p *pattern) MatchString(s string) bool {
	if p.items == nil {
		return p.re.MatchString(s)
	}
	i := 0
	for _, r := range p.items {
		n := 0
		for i < len(s) && (r.max < 0 || n < r.max) && r.has(s[i]) {
			i++
			n++
		}
		if n < r.min {
			return false
		}
	}
	return !p.toEnd || i == len(s)
}
