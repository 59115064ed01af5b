// Package jsonscan decodes a request body in one strict pass.
//
// Validation and forwarding must agree on what a body means. Go's encoding/json,
// the upstream's parser and a JSON Schema library can each read an ambiguous
// document differently (the last of two equal keys wins in one, the first in
// another; invalid UTF-8 is replaced in one and rejected in another), so the
// gateway refuses such documents outright instead of picking one reading. The
// same pass bounds nesting and number size, so pathological bodies cost no
// more than reading them.
//
// Parse gives the document as a tree of values (Value), which the gateway's
// own checks read without building a map or boxing a value; Value.Any and
// Decode give it with the types gojsonschema expects: map[string]any, []any,
// string, json.Number, bool and nil.
package jsonscan

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits bounds what a document may contain.
type Limits struct {
	// MaxDepth is the deepest nesting of objects and arrays allowed; the
	// top-level value is at depth 1.
	MaxDepth int
	// MaxNumberLen is the longest number literal allowed, in bytes.
	MaxNumberLen int
}

// DefaultLimits fits every body a bucket API legitimately receives with a wide
// margin: the deepest B2 field sits at depth 5, and no field holds a number
// longer than a 64-bit integer.
var DefaultLimits = Limits{MaxDepth: 10, MaxNumberLen: 24}

// Kind says why a document was refused.
type Kind int

const (
	// Malformed means the bytes are not JSON.
	Malformed Kind = iota + 1
	// Ambiguous means the document is JSON that parsers may read differently.
	Ambiguous
	// Excessive means the document exceeds the configured limits.
	Excessive
)

// Error reports where and why a body was refused. Its message never quotes
// the body's values, which may be secrets.
type Error struct {
	Kind   Kind
	Offset int    // byte offset of the problem
	Path   string // path of the value being read, e.g. corsRules[0]
	Reason string
}

func (e *Error) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("%s at %s (byte %d)", e.Reason, e.Path, e.Offset)
	}
	return fmt.Sprintf("%s (byte %d)", e.Reason, e.Offset)
}

// Decode parses data as exactly one JSON value under lim and returns it with
// the types gojsonschema expects.
func Decode(data []byte, lim Limits) (any, error) {
	v, err := Parse(data, lim)
	if err != nil {
		return nil, err
	}
	return v.Any(), nil
}

// Parse parses data as exactly one JSON value under lim, into a tree that
// costs one allocation whatever the document holds: a copy of data, which
// every string and number without escapes is a slice of. The nodes come
// from a pool; Release gives them back.
func Parse(data []byte, lim Limits) (Value, error) {
	t := treePool.Get().(*tree)
	sc := scratchPool.Get().(*scratch)
	s := scanner{data: data, src: string(data), lim: lim, stack: sc.stack[:0], nodes: t.nodes[:0]}
	defer sc.release(&s)
	err := s.document()
	t.nodes = s.nodes
	if err != nil {
		t.release()
		return Value{}, err
	}
	return Value{t: t}, nil
}

func (s *scanner) document() error {
	s.skipSpace()
	if err := s.value(0); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return s.fail(Malformed, "unexpected data after the JSON value")
	}
	return nil
}

// segment is one step of the path being decoded: an object key or an array
// index. The scanner keeps them on a stack, so tracking the path costs no
// allocation unless an error is reported.
type segment struct {
	key   string
	index int
	isKey bool
}

type scanner struct {
	data  []byte
	src   string // data as a string: values without escapes are slices of it
	pos   int
	lim   Limits
	stack []segment
	// nodes is the tree being built.
	nodes []node
	// how much of stack was ever in use, to clear before reuse
	usedStack int
}

// scratch is the scanner's working memory, reused across documents.
type scratch struct {
	stack [16]segment
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// release returns sc to the pool holding nothing of s's document.
func (sc *scratch) release(s *scanner) {
	clear(sc.stack[:min(s.usedStack, len(sc.stack))])
	scratchPool.Put(sc)
}

// linearDup is how many members an object may have before duplicate keys
// are found through a map rather than by comparing with each earlier one.
const linearDup = 16

func (s *scanner) fail(k Kind, reason string) *Error {
	return &Error{Kind: k, Offset: s.pos, Path: s.path(), Reason: reason}
}

// path renders the stack as a.b[0].c.
func (s *scanner) path() string {
	var b strings.Builder
	for _, seg := range s.stack {
		if !seg.isKey {
			b.WriteString("[" + strconv.Itoa(seg.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg.key)
	}
	return b.String()
}

func (s *scanner) push(seg segment) {
	s.stack = append(s.stack, seg)
	s.usedStack = max(s.usedStack, len(s.stack))
}
func (s *scanner) pop() { s.stack = s.stack[:len(s.stack)-1] }

// add appends a node for a value that holds no other, returning its index.
func (s *scanner) add(typ Type, text string) int {
	i := len(s.nodes)
	s.nodes = append(s.nodes, node{text: text, typ: typ, end: int32(i + 1)})
	return i
}

func (s *scanner) skipSpace() {
	i := s.pos
	for i < len(s.data) && (s.data[i] == ' ' || s.data[i] == '\t' || s.data[i] == '\n' || s.data[i] == '\r') {
		i++
	}
	s.pos = i
}

func (s *scanner) value(depth int) error {
	if s.pos >= len(s.data) {
		return s.fail(Malformed, "unexpected end of JSON")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		str, err := s.str()
		if err != nil {
			return err
		}
		s.add(String, str)
	case c == '-' || (c >= '0' && c <= '9'):
		lit, err := s.number()
		if err != nil {
			return err
		}
		s.add(Number, lit)
	case s.literal("true"):
		s.add(Bool, "true")
	case s.literal("false"):
		s.add(Bool, "")
	case s.literal("null"):
		s.add(Null, "")
	default:
		return s.fail(Malformed, "invalid character")
	}
	return nil
}

func (s *scanner) literal(word string) bool {
	if len(s.data)-s.pos >= len(word) && string(s.data[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return true
	}
	return false
}

// object reads an object as its node, then each member as a node holding
// the key followed by the value's nodes.
func (s *scanner) object(depth int) error {
	if depth > s.lim.MaxDepth {
		return s.fail(Excessive, fmt.Sprintf("nesting deeper than %d levels", s.lim.MaxDepth))
	}
	s.pos++ // {
	at := s.add(Object, "")
	var seen map[string]bool // for objects of more than linearDup members
	var keys keySet          // for the others
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for members := 0; ; members++ {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail(Malformed, "expected a string key")
		}
		keyAt := s.pos
		key, err := s.str()
		if err != nil {
			return err
		}
		s.push(segment{key: key, isKey: true})
		if s.repeats(at, members, key, &keys, &seen) {
			s.pos = keyAt
			return s.fail(Ambiguous, "duplicate key")
		}
		s.add(String, key)
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail(Malformed, "expected ':' after key")
		}
		s.pos++
		s.skipSpace()
		if err := s.value(depth); err != nil {
			return err
		}
		s.pop()
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.fail(Malformed, "unexpected end of JSON in object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.nodes[at].n, s.nodes[at].end = int32(members+1), int32(len(s.nodes))
			return nil
		default:
			return s.fail(Malformed, "expected ',' or '}' in object")
		}
	}
}

// keySet is a 64-bit filter of the keys an object has so far, by length and
// first and last byte: a key whose bit is clear cannot be a repeat, so the
// earlier keys are compared only when its bit is set.
type keySet uint64

func keyBit(key string) uint64 {
	h := uint(len(key))
	if len(key) > 0 {
		h = h*31 + uint(key[0])*7 + uint(key[len(key)-1])
	}
	return 1 << (h % 64)
}

// repeats reports whether key is already one of the first members members
// of the object whose node is at.
func (s *scanner) repeats(at, members int, key string, keys *keySet, seen *map[string]bool) bool {
	if members <= linearDup {
		bit := keyBit(key)
		if uint64(*keys)&bit == 0 {
			*keys |= keySet(bit)
			return false
		}
		for i, m := at+1, 0; m < members; i, m = int(s.nodes[i+1].end), m+1 {
			if s.nodes[i].text == key {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]bool, 2*members)
		for i, m := at+1, 0; m < members; i, m = int(s.nodes[i+1].end), m+1 {
			(*seen)[s.nodes[i].text] = true
		}
	}
	if (*seen)[key] {
		return true
	}
	(*seen)[key] = true
	return false
}

func (s *scanner) array(depth int) error {
	if depth > s.lim.MaxDepth {
		return s.fail(Excessive, fmt.Sprintf("nesting deeper than %d levels", s.lim.MaxDepth))
	}
	s.pos++ // [
	at := s.add(Array, "")
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		s.skipSpace()
		s.push(segment{index: i})
		if err := s.value(depth); err != nil {
			return err
		}
		s.pop()
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.fail(Malformed, "unexpected end of JSON in array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.nodes[at].n, s.nodes[at].end = int32(i+1), int32(len(s.nodes))
			return nil
		default:
			return s.fail(Malformed, "expected ',' or ']' in array")
		}
	}
}

// plain marks the bytes that stand for themselves in a string literal:
// printable ASCII other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipPlain returns the index of the first byte of data, from i, that does
// not stand for itself in a string literal. Most bytes of a string do: they
// are skipped eight at a time while none of the eight is a quote, a
// backslash, a control character or above ASCII, then one at a time.
func skipPlain(data []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(data); i += 8 {
		x := binary.LittleEndian.Uint64(data[i:])
		quote, backslash := x^(ones*'"'), x^(ones*'\\')
		// A byte's high bit is set in (y - ones) &^ y for a zero byte of y,
		// and in x - 0x20 per byte for a byte below 0x20, as in "Bit Twiddling
		// Hacks"; bytes above ASCII are found by their own high bit. A borrow
		// can mark a byte after a special one, never before it, so the
		// lowest mark is the first special byte.
		special := ((quote-ones)&^quote | (backslash-ones)&^backslash | (x-ones*0x20)&^x | x) & highs
		if special != 0 {
			return i + bits.TrailingZeros64(special)/8
		}
	}
	for i < len(data) && plain[data[i]] {
		i++
	}
	return i
}

// str decodes a string literal. Invalid UTF-8 and unpaired surrogate escapes
// are refused: parsers disagree on them (replace, reject or keep).
func (s *scanner) str() (string, error) {
	s.pos++ // opening quote
	start := s.pos
	// Fast path: no escapes, all ASCII or valid UTF-8. Only a string with a
	// byte above ASCII needs its UTF-8 checked.
	var high byte
	for s.pos < len(s.data) {
		s.pos = skipPlain(s.data, s.pos)
		if s.pos == len(s.data) {
			break
		}
		c := s.data[s.pos]
		if c == '"' {
			if high >= utf8.RuneSelf && !utf8.Valid(s.data[start:s.pos]) {
				return "", s.fail(Ambiguous, "invalid UTF-8 in string")
			}
			s.pos++
			return s.src[start : s.pos-1], nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", s.fail(Malformed, "control character in string")
		}
		high |= c
		s.pos++
	}
	buf := make([]byte, 0, s.pos-start+16)
	buf = append(buf, s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", s.fail(Ambiguous, "invalid UTF-8 in string")
			}
			s.pos++
			return string(buf), nil
		case c < 0x20:
			return "", s.fail(Malformed, "control character in string")
		case c != '\\':
			buf = append(buf, c)
			s.pos++
			continue
		}
		// escape
		if s.pos+1 >= len(s.data) {
			break
		}
		e := s.data[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.fail(Malformed, "invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || !s.literal(`\u`) {
					return "", s.fail(Ambiguous, "unpaired surrogate in string")
				}
				r2, ok := s.hex4()
				if !ok {
					return "", s.fail(Malformed, "invalid \\u escape")
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return "", s.fail(Ambiguous, "unpaired surrogate in string")
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", s.fail(Malformed, "invalid escape in string")
		}
	}
	return "", s.fail(Malformed, "unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.data)-s.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

// number checks the JSON number grammar and keeps the literal as written, so
// the validator sees exactly the text that goes upstream.
func (s *scanner) number() (string, error) {
	start := s.pos
	if s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case s.pos < len(s.data) && s.data[s.pos] >= '1' && s.data[s.pos] <= '9':
		s.digits()
	default:
		return "", s.fail(Malformed, "invalid number")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return "", s.fail(Malformed, "invalid number")
		}
	}
	exponent := s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E')
	if exponent {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return "", s.fail(Malformed, "invalid number")
		}
	}
	lit := s.src[start:s.pos]
	if len(lit) > s.lim.MaxNumberLen {
		return "", s.fail(Excessive, fmt.Sprintf("number longer than %d characters", s.lim.MaxNumberLen))
	}
	// Only a literal beyond float64's range (about 1.8e308) is refused, and
	// one without an exponent has too few digits to be unless it is longer
	// than maxPlainLen.
	if exponent || len(lit) > maxPlainLen {
		if _, err := strconv.ParseFloat(lit, 64); err != nil {
			return "", s.fail(Excessive, "number out of range")
		}
	}
	return lit, nil
}

// maxPlainLen is the longest number literal without an exponent that is
// certainly within float64's range: at most 308 digits before any point,
// so below 1e308.
const maxPlainLen = 308

func (s *scanner) digits() int {
	n := 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}
