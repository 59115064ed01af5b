package schema

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// The fast path validates a document against a built-in schema without
// gojsonschema's per-value costs (a context allocated per step, errors built
// with templates only to be thrown away under "not" and "if", and enum and
// uniqueItems comparisons that marshal, unmarshal and marshal again every
// value). It is compiled from the schema document itself, so it follows the
// schema as it changes, and it mirrors gojsonschema's draft-07 validation
// step for step: the same checks in the same order, the same error types
// and details, the same anyOf/oneOf scoring. A schema that uses a keyword
// the fast path does not implement gets no fast path; a document holding a
// value gojsonschema treats specially is handed to gojsonschema. The fuzz
// test FuzzFastSchema holds both to the same results.

// node is one compiled subschema. Its fields are laid out by how often a
// valid document reads them: what every visit reads first, then what
// strings, numbers, arrays and objects read, and last what only a failure
// (messages) or a rarer keyword reads. Little of the schema is still in the
// CPU's caches from one update to the next under load, and a visit then
// costs by the cache lines it reads.
type node struct {
	pass *bool // a boolean schema: true or false
	ref  *node // a $ref: validate against that node alone

	typed                                                bool
	tNull, tBool, tNumber, tInteger, tString, tArr, tObj bool
	// combines is whether any of allOf, anyOf, oneOf, not, if, then and
	// else is set.
	combines                      bool
	hasConst, hasEnum             bool
	enumNull, enumTrue, enumFalse bool // null, true and false are members
	hasMinLength, hasMaxLength    bool
	hasMinItems, hasMaxItems      bool
	unique                        bool
	hasMinProps, hasMaxProps      bool
	// inline: the properties can be validated as they are looked up, as
	// nothing the object's common checks (const, enum) report can share
	// a path with them.
	inline          bool
	additionalFalse bool

	minLength, maxLength int
	pattern              *pattern

	minimum, maximum, exclMin, exclMax *bound
	items                              *node
	minItems, maxItems                 int

	props         []property
	required      []string // those not among props
	additional    *node
	propertyNames *node
	minProps      int
	maxProps      int

	enumStr   map[string]bool // members that are strings, by value
	enumOther map[string]bool // numbers, arrays and objects, by canonical JSON

	constCanon string
	constStr   *string // the const, when it is a string

	allOf, anyOf, oneOf []*node
	not                 *node
	ifN, thenN, elseN   *node

	typeMsg, constMsg, enumMsg string
	minLengthMsg, maxLengthMsg string
	minItemsMsg, maxItemsMsg   string
	minPropsMsg, maxPropsMsg   string
}

// property is a declared property, and whether it is also required.
type property struct {
	name     string
	n        *node
	required bool
}

// pending is a property found while checking its object, validated after
// the object's own checks, in gojsonschema's order.
type pending struct {
	name string
	n    *node
	v    jsonscan.Value
}

// bound is a numeric limit: the exact value, and the same value as an int64
// when it is one, so integer literals compare without big.Rat.
type bound struct {
	rat   *big.Rat
	i     int64
	isInt bool
	msg   string
}

// annotations are keywords gojsonschema reads without validating anything.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "definitions": true, "title": true, "description": true,
	"default": true, "examples": true, "readOnly": true, "writeOnly": true,
	"contentMediaType": true, "contentEncoding": true,
}

// unsupported are the draft-07 keywords gojsonschema implements that the
// fast path does not; a schema using any of them is validated by
// gojsonschema alone. Other unknown keywords are ignored, as gojsonschema
// ignores them.
var unsupported = map[string]bool{
	"id": true, "patternProperties": true, "dependencies": true,
	"additionalItems": true, "contains": true, "multipleOf": true, "format": true,
}

// compileFast compiles a schema for the fast path, or returns nil when the
// schema uses something the fast path leaves to gojsonschema. The schema
// has already compiled under gojsonschema, so malformed keywords are
// reported there, not here.
func compileFast(src []byte) *node {
	d := json.NewDecoder(bytes.NewReader(src))
	d.UseNumber() // as gojsonschema reads a schema
	var doc any
	if err := d.Decode(&doc); err != nil {
		return nil
	}
	k := &compiler{refs: map[string]*node{}}
	if root, ok := doc.(map[string]any); ok {
		k.defs, _ = root["definitions"].(map[string]any)
	}
	n, ok := k.node(doc)
	if !ok {
		return nil
	}
	return n
}

// compiler compiles one schema document; refs holds the definitions
// compiled so far, so a definition used twice (or by itself) is one node.
type compiler struct {
	defs  map[string]any
	refs  map[string]*node
	depth int
}

// ref compiles a $ref: only to the document's own definitions
// ("#/definitions/name"), which is what gojsonschema resolves without a
// base URI or a pool of other documents.
func (k *compiler) ref(r any) (*node, bool) {
	s, ok := r.(string)
	name, found := strings.CutPrefix(s, "#/definitions/")
	if !ok || !found || name == "" || strings.ContainsAny(name, "/~%") {
		return nil, false
	}
	if n, ok := k.refs[name]; ok {
		return n, true
	}
	def, ok := k.defs[name]
	if !ok {
		return nil, false
	}
	n := &node{}
	k.refs[name] = n
	c, ok := k.node(def)
	if !ok {
		return nil, false
	}
	*n = *c
	return n, true
}

func (k *compiler) node(doc any) (*node, bool) {
	if b, ok := doc.(bool); ok {
		return &node{pass: &b}, true
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, false
	}
	if _, ok := m["$id"]; ok && k.depth > 0 {
		return nil, false // a new base URI for the references beneath
	}
	if r, ok := m["$ref"]; ok {
		// gojsonschema validates against the reference alone.
		target, ok := k.ref(r)
		return &node{ref: target}, ok
	}
	k.depth++
	defer func() { k.depth-- }()
	n := &node{}
	for key, v := range m {
		if unsupported[key] {
			return nil, false
		}
		if annotations[key] {
			continue
		}
		var ok bool
		switch key {
		case "type":
			ok = n.compileType(v)
		case "const":
			n.hasConst = true
			n.constCanon, ok = canonicalOK(v)
			if s, isStr := v.(string); isStr {
				n.constStr = &s
			}
			n.constMsg = messageFor("const", map[string]any{"allowed": n.constCanon})
		case "enum":
			ok = n.compileEnum(v)
		case "minLength":
			n.minLength, ok = count(v)
			n.hasMinLength = true
			n.minLengthMsg = messageFor("string_gte", map[string]any{"min": n.minLength})
		case "maxLength":
			n.maxLength, ok = count(v)
			n.hasMaxLength = true
			n.maxLengthMsg = messageFor("string_lte", map[string]any{"max": n.maxLength})
		case "pattern":
			if s, isStr := v.(string); isStr {
				n.pattern, ok = compilePattern(s)
			}
		case "minimum":
			n.minimum, ok = compileBound(v, "number_gte", "min")
		case "maximum":
			n.maximum, ok = compileBound(v, "number_lte", "max")
		case "exclusiveMinimum":
			n.exclMin, ok = compileBound(v, "number_gt", "min")
		case "exclusiveMaximum":
			n.exclMax, ok = compileBound(v, "number_lt", "max")
		case "items":
			if _, isList := v.([]any); isList {
				return nil, false
			}
			n.items, ok = k.node(v)
		case "minItems":
			n.minItems, ok = count(v)
			n.hasMinItems = true
			n.minItemsMsg = messageFor("array_min_items", map[string]any{"min": n.minItems})
		case "maxItems":
			n.maxItems, ok = count(v)
			n.hasMaxItems = true
			n.maxItemsMsg = messageFor("array_max_items", map[string]any{"max": n.maxItems})
		case "uniqueItems":
			n.unique, ok = v.(bool)
		case "minProperties":
			n.minProps, ok = count(v)
			n.hasMinProps = true
			n.minPropsMsg = messageFor("array_min_properties", map[string]any{"min": n.minProps})
		case "maxProperties":
			n.maxProps, ok = count(v)
			n.hasMaxProps = true
			n.maxPropsMsg = messageFor("array_max_properties", map[string]any{"max": n.maxProps})
		case "required":
			ok = n.compileRequired(v)
		case "properties":
			ok = n.compileProperties(k, v)
		case "additionalProperties":
			switch a := v.(type) {
			case bool:
				n.additionalFalse, ok = !a, true
			case map[string]any:
				n.additional, ok = k.node(a)
			}
		case "propertyNames":
			n.propertyNames, ok = k.node(v)
		case "allOf":
			n.allOf, ok = k.list(v)
		case "anyOf":
			n.anyOf, ok = k.list(v)
		case "oneOf":
			n.oneOf, ok = k.list(v)
		case "not":
			n.not, ok = k.node(v)
		case "if":
			n.ifN, ok = k.node(v)
		case "then":
			n.thenN, ok = k.node(v)
		case "else":
			n.elseN, ok = k.node(v)
		default:
			ok = true // unknown keyword: ignored by gojsonschema too
		}
		if !ok {
			return nil, false
		}
	}
	n.joinRequired()
	n.inline = !n.hasConst && !n.hasEnum && !n.declares("")
	n.combines = len(n.allOf)+len(n.anyOf)+len(n.oneOf) > 0 || n.not != nil || n.ifN != nil || n.thenN != nil || n.elseN != nil
	return n, true
}

func (n *node) compileType(v any) bool {
	var names []string
	switch t := v.(type) {
	case string:
		names = []string{t}
	case []any:
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return false
			}
			names = append(names, s)
		}
	default:
		return false
	}
	for _, name := range names {
		switch name {
		case "null":
			n.tNull = true
		case "boolean":
			n.tBool = true
		case "number":
			n.tNumber = true
		case "integer":
			n.tInteger = true
		case "string":
			n.tString = true
		case "array":
			n.tArr = true
		case "object":
			n.tObj = true
		default:
			return false
		}
	}
	n.typed = len(names) > 0
	expected := strings.Join(names, "")
	if len(names) > 1 {
		expected = "[" + strings.Join(names, ",") + "]"
	}
	n.typeMsg = messageFor("invalid_type", map[string]any{"expected": expected})
	return true
}

func (n *node) compileEnum(v any) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	n.hasEnum = true
	n.enumStr, n.enumOther = map[string]bool{}, map[string]bool{}
	canon := make([]string, 0, len(list))
	for _, x := range list {
		c, ok := canonicalOK(x)
		if !ok {
			return false
		}
		canon = append(canon, c)
		switch x := x.(type) {
		case string:
			n.enumStr[x] = true
		case nil:
			n.enumNull = true
		case bool:
			n.enumTrue, n.enumFalse = n.enumTrue || x, n.enumFalse || !x
		default:
			n.enumOther[c] = true
		}
	}
	n.enumMsg = messageFor("enum", map[string]any{"allowed": strings.Join(canon, ", ")})
	return true
}

func (n *node) compileRequired(v any) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return false
		}
		n.required = append(n.required, s)
	}
	return true
}

func (n *node) compileProperties(k *compiler, v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for name, sub := range m {
		c, ok := k.node(sub)
		if !ok {
			return false
		}
		n.props = append(n.props, property{name: name, n: c})
	}
	return true
}

// joinRequired marks the required properties that are declared, so one
// lookup serves both, and keeps the others apart.
func (n *node) joinRequired() {
	var rest []string
	for _, r := range n.required {
		found := false
		for i := range n.props {
			if n.props[i].name == r {
				n.props[i].required, found = true, true
			}
		}
		if !found {
			rest = append(rest, r)
		}
	}
	n.required = rest
}

func (k *compiler) list(v any) ([]*node, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]*node, 0, len(list))
	for _, x := range list {
		c, ok := k.node(x)
		if !ok {
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

// count reads a non-negative integer keyword as gojsonschema does.
func count(v any) (int, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := num.Int64()
	return int(i), err == nil && i >= 0
}

func compileBound(v any, errType, detail string) (*bound, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(string(num))
	if !ok {
		return nil, false
	}
	b := &bound{rat: r, msg: messageFor(errType, map[string]any{detail: new(big.Float).SetRat(r)})}
	if r.IsInt() && r.Num().IsInt64() {
		b.i, b.isInt = r.Num().Int64(), true
	}
	return b, true
}

// canonical is gojsonschema's comparison form of a value for enum, const and
// uniqueItems: JSON, read back without json.Number and written again, so 1
// and 1.0 are equal.
func canonical(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var back any
	if err := json.Unmarshal(b, &back); err != nil {
		return "", err
	}
	b, err = json.Marshal(back)
	return string(b), err
}

func canonicalOK(v any) (string, bool) {
	c, err := canonical(v)
	return c, err == nil
}

// failure is one error found by the fast path, already worded.
type failure struct {
	path  string
	msg   string
	broad bool
}

// step is one segment of the path being validated.
type step struct {
	key   string
	index int
	isKey bool
}

// check holds one validation's state. Errors found where only validity
// matters ("not", "if") are counted, not worded.
type check struct {
	steps []step
	props []pending
	errs  []failure
	n     int // errors in the result being built, worded or not
	quiet int
	// how much of steps and props was ever in use, to clear before reuse
	usedSteps, usedProps int
	// punt is set when the document holds a value gojsonschema handles in
	// its own way (a type the scanner never produces, a number big.Rat
	// cannot read); the document then goes to gojsonschema.
	punt bool
}

func (c *check) push(s step) {
	c.steps = append(c.steps, s)
	c.usedSteps = max(c.usedSteps, len(c.steps))
}
func (c *check) pop() { c.steps = c.steps[:len(c.steps)-1] }

// fail records an error at the current path (plus prop, for required and
// additional-property errors), as gojsonschema's addInternalError does.
func (c *check) fail(typ, msg, prop string, score *int) {
	*score -= 2
	c.n++
	if c.quiet > 0 {
		return
	}
	c.errs = append(c.errs, failure{path: c.path(typ, prop), msg: msg, broad: general[typ]})
}

// path renders the current path exactly as fieldPath renders gojsonschema's
// context (including its splitting of keys that hold the separator).
func (c *check) path(typ, prop string) string {
	var b strings.Builder
	b.WriteString("(root)")
	for _, s := range c.steps {
		b.WriteString(pathSep)
		if s.isKey {
			b.WriteString(s.key)
		} else {
			b.WriteString(strconv.Itoa(s.index))
		}
	}
	segs := strings.Split(b.String(), pathSep)[1:]
	if withProperty(typ) {
		segs = append(segs, prop)
	}
	return renderPath(segs)
}

// mark saves and restores what a discarded sub-validation added.
type mark struct{ errs, n int }

func (c *check) mark() mark        { return mark{len(c.errs), c.n} }
func (c *check) since(m mark) bool { return c.n == m.n } // valid since m
func (c *check) rollback(m mark)   { c.errs, c.n = c.errs[:m.errs], m.n }

// insert puts an error before those recorded since m, as gojsonschema adds a
// summary error before merging the sub-result that caused it.
func (c *check) insert(m mark, typ, msg string, score *int) {
	*score -= 2
	c.n++
	if c.quiet > 0 {
		return
	}
	c.errs = append(c.errs, failure{})
	copy(c.errs[m.errs+1:], c.errs[m.errs:])
	c.errs[m.errs] = failure{path: c.path(typ, ""), msg: msg, broad: general[typ]}
}

// sub validates v against n as gojsonschema's subValidateWithContext does,
// keeping the errors in place, and returns whether it was valid and its
// score.
func (c *check) sub(n *node, v jsonscan.Value) (bool, int) {
	m := c.mark()
	s := 0
	c.recursive(n, v, &s)
	return c.since(m), s
}

// valid reports whether v satisfies n, keeping nothing.
func (c *check) valid(n *node, v jsonscan.Value) bool {
	m := c.mark()
	c.quiet++
	s := 0
	c.recursive(n, v, &s)
	c.quiet--
	ok := c.since(m)
	c.rollback(m)
	return ok
}

func (c *check) recursive(n *node, v jsonscan.Value, score *int) {
	if n.pass != nil {
		if !*n.pass {
			c.fail("false", messageFor("false", nil), "", score)
		}
		return
	}
	if n.ref != nil {
		c.recursive(n.ref, v, score)
		return
	}
	switch v.Type() {
	case jsonscan.Null, jsonscan.Invalid:
		if n.typed && !n.tNull {
			c.fail("invalid_type", n.typeMsg, "", score)
			return
		}
		c.schema(n, v, score)
		c.common(n, v, score)
	case jsonscan.Number:
		x, _ := v.Number()
		isInt, ok := integer(x)
		if !ok {
			c.punt = true
			return
		}
		if n.typed && !(n.tNumber || (isInt && n.tInteger)) {
			c.fail("invalid_type", n.typeMsg, "", score)
			return
		}
		c.schema(n, v, score)
		c.number(n, x, score)
		c.common(n, v, score)
	case jsonscan.Array:
		if n.typed && !n.tArr {
			c.fail("invalid_type", n.typeMsg, "", score)
			return
		}
		c.schema(n, v, score)
		c.array(n, v, score)
		c.common(n, v, score)
	case jsonscan.Object:
		if n.typed && !n.tObj {
			c.fail("invalid_type", n.typeMsg, "", score)
			return
		}
		c.schema(n, v, score)
		from := c.object(n, v, score)
		c.common(n, v, score)
		for i, to := from, len(c.props); i < to; i++ {
			p := c.props[i]
			c.push(step{key: p.name, isKey: true})
			c.recursive(p.n, p.v, score)
			c.pop()
		}
		c.props = c.props[:from]
	case jsonscan.Bool:
		if n.typed && !n.tBool {
			c.fail("invalid_type", n.typeMsg, "", score)
			return
		}
		c.schema(n, v, score)
		c.common(n, v, score)
	case jsonscan.String:
		if n.typed && !n.tString {
			c.fail("invalid_type", n.typeMsg, "", score)
			return
		}
		x, _ := v.Str()
		c.schema(n, v, score)
		c.common(n, v, score)
		c.str(n, x, score)
	}
	*score++
}

// schema is gojsonschema's validateSchema: the combinators.
func (c *check) schema(n *node, v jsonscan.Value, score *int) {
	if !n.combines {
		*score++
		return
	}
	if len(n.anyOf) > 0 {
		c.anyOf(n, v, score)
	}
	if len(n.oneOf) > 0 {
		c.oneOf(n, v, score)
	}
	if len(n.allOf) > 0 {
		valid := 0
		for _, s := range n.allOf {
			ok, sc := c.sub(s, v)
			if ok {
				valid++
			}
			*score += sc
		}
		if valid != len(n.allOf) {
			c.fail("number_all_of", messageFor("number_all_of", nil), "", score)
		}
	}
	if n.not != nil && c.valid(n.not, v) {
		c.fail("number_not", messageFor("number_not", nil), "", score)
	}
	if n.ifN != nil {
		ok := c.valid(n.ifN, v)
		if n.thenN != nil && ok {
			c.branch(n.thenN, v, "condition_then", score)
		}
		if n.elseN != nil && !ok {
			c.branch(n.elseN, v, "condition_else", score)
		}
	}
	*score++
}

// branch validates a then or else schema: its errors count only when it
// fails, after an error naming the branch.
func (c *check) branch(n *node, v jsonscan.Value, typ string, score *int) {
	m := c.mark()
	ok, sc := c.sub(n, v)
	if ok {
		c.rollback(m)
		return
	}
	c.insert(m, typ, messageFor(typ, nil), score)
	*score += sc
}

// anyOf and oneOf keep the errors of the best-scoring failed branch, as
// gojsonschema does.
func (c *check) anyOf(n *node, v jsonscan.Value, score *int) {
	var best []failure
	bestN, bestScore, have := 0, 0, false
	for _, s := range n.anyOf {
		m := c.mark()
		ok, sc := c.sub(s, v)
		if ok {
			c.rollback(m)
			return
		}
		if !have || sc > bestScore {
			best = append(best[:0], c.errs[m.errs:]...)
			bestN, bestScore, have = c.n-m.n, sc, true
		}
		c.rollback(m)
	}
	c.fail("number_any_of", messageFor("number_any_of", nil), "", score)
	c.merge(best, bestN, bestScore, score)
}

func (c *check) oneOf(n *node, v jsonscan.Value, score *int) {
	var best []failure
	bestN, bestScore, have, valid := 0, 0, false, 0
	for _, s := range n.oneOf {
		m := c.mark()
		ok, sc := c.sub(s, v)
		if ok {
			valid++
		} else if valid == 0 && (!have || sc > bestScore) {
			best = append(best[:0], c.errs[m.errs:]...)
			bestN, bestScore, have = c.n-m.n, sc, true
		}
		c.rollback(m)
	}
	if valid != 1 {
		c.fail("number_one_of", messageFor("number_one_of", nil), "", score)
		if valid == 0 {
			c.merge(best, bestN, bestScore, score)
		}
	}
}

func (c *check) merge(errs []failure, n, sc int, score *int) {
	c.n += n
	if c.quiet == 0 {
		c.errs = append(c.errs, errs...)
	}
	*score += sc
}

// common is gojsonschema's validateCommon: const and enum.
func (c *check) common(n *node, v jsonscan.Value, score *int) {
	if n.hasConst {
		if !c.equalsConst(n, v) {
			c.fail("const", n.constMsg, "", score)
		}
	}
	if n.hasEnum && !c.inEnum(n, v) {
		c.fail("enum", n.enumMsg, "", score)
	}
	*score++
}

// equalsConst and inEnum compare as gojsonschema does, by canonical JSON;
// strings, booleans and null without encoding anything. A string is its
// own canonical form here: jsonscan refuses invalid UTF-8, the one thing
// encoding would change.
func (c *check) equalsConst(n *node, v jsonscan.Value) bool {
	switch v.Type() {
	case jsonscan.String:
		x, _ := v.Str()
		return n.constStr != nil && x == *n.constStr
	case jsonscan.Null, jsonscan.Invalid:
		return n.constCanon == "null"
	case jsonscan.Bool:
		x, _ := v.Bool()
		return n.constCanon == strconv.FormatBool(x)
	}
	if n.constStr != nil {
		return false // a number, array or object is never equal to a string
	}
	got, err := canonical(v.Any())
	if err != nil {
		c.punt = true
		return true
	}
	return got == n.constCanon
}

func (c *check) inEnum(n *node, v jsonscan.Value) bool {
	switch v.Type() {
	case jsonscan.String:
		x, _ := v.Str()
		return n.enumStr[x]
	case jsonscan.Null, jsonscan.Invalid:
		return n.enumNull
	case jsonscan.Bool:
		if x, _ := v.Bool(); x {
			return n.enumTrue
		}
		return n.enumFalse
	}
	if len(n.enumOther) == 0 {
		return false // a number, array or object is never equal to a string
	}
	got, err := canonical(v.Any())
	if err != nil {
		c.punt = true
		return true
	}
	return n.enumOther[got]
}

// str is gojsonschema's validateString.
func (c *check) str(n *node, s string, score *int) {
	// A string has at most as many characters as bytes, and at least a
	// quarter as many: its length in bytes often settles both bounds
	// without counting.
	if n.hasMinLength && len(s) < 4*n.minLength || n.hasMaxLength && len(s) > n.maxLength {
		l := utf8.RuneCountInString(s)
		if n.hasMinLength && l < n.minLength {
			c.fail("string_gte", n.minLengthMsg, "", score)
		}
		if n.hasMaxLength && l > n.maxLength {
			c.fail("string_lte", n.maxLengthMsg, "", score)
		}
	}
	if n.pattern != nil && !n.pattern.MatchString(s) {
		c.fail("pattern", messageFor("pattern", nil), "", score)
	}
	*score++
}

// number is gojsonschema's validateNumber.
func (c *check) number(n *node, x json.Number, score *int) {
	if n.maximum == nil && n.exclMax == nil && n.minimum == nil && n.exclMin == nil {
		*score++
		return
	}
	i, isInt := plainInt(string(x))
	var r *big.Rat
	cmp := func(b *bound) int {
		if isInt && b.isInt {
			switch {
			case i < b.i:
				return -1
			case i > b.i:
				return 1
			}
			return 0
		}
		if r == nil {
			r, _ = new(big.Rat).SetString(string(x))
		}
		return r.Cmp(b.rat)
	}
	if n.maximum != nil && cmp(n.maximum) == 1 {
		c.fail("number_lte", n.maximum.msg, "", score)
	}
	if n.exclMax != nil && cmp(n.exclMax) >= 0 {
		c.fail("number_lt", n.exclMax.msg, "", score)
	}
	if n.minimum != nil && cmp(n.minimum) == -1 {
		c.fail("number_gte", n.minimum.msg, "", score)
	}
	if n.exclMin != nil && cmp(n.exclMin) <= 0 {
		c.fail("number_gt", n.exclMin.msg, "", score)
	}
	*score++
}

// array is gojsonschema's validateArray.
func (c *check) array(n *node, a jsonscan.Value, score *int) {
	if n.items != nil {
		for i, item := range a.Items() {
			c.push(step{index: i})
			_, sc := c.sub(n.items, item)
			*score += sc
			c.pop()
		}
	}
	if n.hasMinItems && a.Len() < n.minItems {
		c.fail("array_min_items", n.minItemsMsg, "", score)
	}
	if n.hasMaxItems && a.Len() > n.maxItems {
		c.fail("array_max_items", n.maxItemsMsg, "", score)
	}
	if n.unique {
		c.uniqueItems(a, score)
	}
	*score++
}

// uniqueItems reports one error for every item equal to an earlier one,
// comparing canonical forms; strings compare as themselves.
func (c *check) uniqueItems(a jsonscan.Value, score *int) {
	keys := make([]string, a.Len())
	strs := make([]bool, a.Len())
	for j, v := range a.Items() {
		if s, ok := v.Str(); ok {
			keys[j], strs[j] = s, true
		} else {
			k, err := canonical(v.Any())
			if err != nil {
				c.punt = true
				return
			}
			keys[j] = k
		}
		for i := 0; i < j; i++ {
			if keys[i] == keys[j] && strs[i] == strs[j] {
				c.fail("unique", messageFor("unique", nil), "", score)
				break
			}
		}
	}
}

// object is gojsonschema's validateObject. With the same lookups it
// validates the declared properties present, or, when the object's common
// checks could report under the same path, collects them for the caller to
// validate after those, as gojsonschema does (c.props[from:]). Their order
// among themselves does not matter, as each reports under its own path.
func (c *check) object(n *node, o jsonscan.Value, score *int) (from int) {
	from = len(c.props)
	if n.hasMinProps && o.Len() < n.minProps {
		c.fail("array_min_properties", n.minPropsMsg, "", score)
	}
	if n.hasMaxProps && o.Len() > n.maxProps {
		c.fail("array_max_properties", n.maxPropsMsg, "", score)
	}
	// Required and declared properties are looked up in the object; only
	// when it holds more than those are its keys walked for
	// additionalProperties. The errors are the same either way, each under
	// its own path, so their order does not matter.
	present := 0
	for _, p := range n.props {
		if v := o.Get(p.name); v.Exists() {
			present++
			if p.required {
				*score++
			}
			if n.inline {
				c.push(step{key: p.name, isKey: true})
				c.recursive(p.n, v, score)
				c.pop()
				continue
			}
			c.props = append(c.props, pending{p.name, p.n, v})
			c.usedProps = max(c.usedProps, len(c.props))
		} else if p.required {
			c.failProp("required", p.name, score)
		}
	}
	for _, r := range n.required {
		if o.Get(r).Exists() {
			*score++
		} else {
			c.failProp("required", r, score)
		}
	}
	if present < o.Len() && (n.additionalFalse || n.additional != nil) {
		for key, v := range o.Members() {
			k, _ := key.Str()
			if n.declares(k) {
				continue
			}
			if n.additionalFalse {
				c.failProp("additional_property_not_allowed", k, score)
				continue
			}
			c.push(step{key: k, isKey: true})
			_, sc := c.sub(n.additional, v)
			*score += sc
			c.pop()
		}
	}
	if n.propertyNames != nil {
		for key := range o.Members() {
			m := c.mark()
			ok, sc := c.sub(n.propertyNames, key)
			if !ok {
				c.insert(m, "invalid_property_name", messageFor("invalid_property_name", nil), score)
				*score += sc
			}
		}
	}
	*score++
	return from
}

func (n *node) declares(name string) bool {
	for _, p := range n.props {
		if p.name == name {
			return true
		}
	}
	return false
}

// failProp records an error about property prop of the current object.
func (c *check) failProp(typ, prop string, score *int) {
	c.fail(typ, messageFor(typ, nil), prop, score)
}

// integer reports whether a number literal is an integer, as gojsonschema
// decides it (through big.Rat), and whether big.Rat can read it at all.
func integer(x json.Number) (isInt, ok bool) {
	if _, ok := plainInt(string(x)); ok {
		return true, true
	}
	r, ok := new(big.Rat).SetString(string(x))
	if !ok {
		return false, false
	}
	return r.IsInt(), true
}

// plainInt parses a literal made only of an optional minus and at most 18
// digits, which fits an int64.
func plainInt(s string) (int64, bool) {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	// 18 digits cannot overflow an int64, so no strconv is needed.
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) < len(s) {
		n = -n
	}
	return n, true
}

// validateFast runs the fast path; ok is false when the document must go to
// gojsonschema instead.
func validateFast(n *node, doc jsonscan.Value) (vs []Violation, ok bool) {
	c := checkPool.Get().(*check)
	defer c.release()
	score := 0
	c.recursive(n, doc, &score)
	if c.punt {
		return nil, false
	}
	if len(c.errs) == 0 {
		return nil, true
	}
	return reduce(c.errs), true
}

var checkPool = sync.Pool{New: func() any {
	return &check{steps: make([]step, 0, 16), props: make([]pending, 0, 32)}
}}

// release returns c to the pool holding nothing of the last document.
func (c *check) release() {
	clear(c.steps[:c.usedSteps])
	clear(c.props[:c.usedProps])
	clear(c.errs[:cap(c.errs)])
	c.steps, c.props, c.errs = c.steps[:0], c.props[:0], c.errs[:0]
	c.n, c.quiet, c.punt, c.usedSteps, c.usedProps = 0, 0, false, 0, 0
	checkPool.Put(c)
}
