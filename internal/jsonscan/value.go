package jsonscan

import (
	"encoding/json"
	"iter"
	"strconv"
	"sync"
)

// Type is the JSON type of a Value.
type Type uint8

const (
	// Invalid is the type of the zero Value: no value at all, such as the
	// member an object does not have.
	Invalid Type = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

// node is one value of a parsed document. A container's node is followed
// by its contents: an array's elements, or for each member of an object a
// String node holding the key followed by the value's nodes.
type node struct {
	// text is a string's value, a number's literal as written, "true" for
	// true and empty for false.
	text string
	typ  Type
	// n is how many elements or members a container holds.
	n int32
	// end is the index just past this value and everything in it.
	end int32
}

// tree is a parsed document's nodes, in document order.
type tree struct{ nodes []node }

// treePool holds trees released after use. Documents the gateway decodes
// are alike in size, so a released tree's array usually fits the next
// without growing.
var treePool = sync.Pool{New: func() any { return &tree{nodes: make([]node, 0, 64)} }}

// maxPooledNodes bounds the arrays kept for reuse, so one large document
// does not hold its memory for as long as the pool lives.
const maxPooledNodes = 4096

// release returns t to the pool holding none of its document's strings.
func (t *tree) release() {
	if cap(t.nodes) > maxPooledNodes {
		return
	}
	clear(t.nodes)
	t.nodes = t.nodes[:0]
	treePool.Put(t)
}

// Value is one value of a document Parse read. The zero Value is no value
// (Type Invalid), and reading it, or a member or element of a value of
// another type, gives the zero Value again, so a chain of lookups needs no
// checks until its end.
type Value struct {
	t *tree
	i int32
}

func (v Value) node() *node { return &v.t.nodes[v.i] }

// Release gives the memory of the document v was parsed from back for the
// next Parse. v must be the Value Parse returned, and neither it nor any
// Value read from it may be used afterwards; strings read from it remain
// valid. Not releasing a document is never wrong, only costlier.
func (v Value) Release() {
	if v.t != nil && v.i == 0 {
		v.t.release()
	}
}

// Type is v's JSON type.
func (v Value) Type() Type {
	if v.t == nil {
		return Invalid
	}
	return v.node().typ
}

// Exists reports whether v is a value, null included.
func (v Value) Exists() bool { return v.t != nil }

// Given reports whether v is a value other than null: the bucket APIs read
// a null as the field's absence.
func (v Value) Given() bool { return v.t != nil && v.node().typ != Null }

// Str returns v's value when it is a string.
func (v Value) Str() (string, bool) {
	if v.Type() != String {
		return "", false
	}
	return v.node().text, true
}

// Number returns v's literal, exactly as written, when it is a number.
func (v Value) Number() (json.Number, bool) {
	if v.Type() != Number {
		return "", false
	}
	return json.Number(v.node().text), true
}

// Bool returns v's value when it is true or false.
func (v Value) Bool() (b, ok bool) {
	if v.Type() != Bool {
		return false, false
	}
	return v.node().text != "", true
}

// Len is how many elements or members v holds; 0 for other types.
func (v Value) Len() int {
	switch v.Type() {
	case Array, Object:
		return int(v.node().n)
	}
	return 0
}

// Get returns the member of object v named key, or the zero Value.
func (v Value) Get(key string) Value {
	for k, val := range v.Members() {
		// Keys of the same length often differ in their first byte, which
		// is cheaper to compare than calling for the whole of both.
		if k := k.node().text; len(k) == len(key) && (len(k) == 0 || k[0] == key[0]) && k == key {
			return val
		}
	}
	return Value{}
}

// Members yields each member of object v, its key (a String value) and its
// value, in document order.
func (v Value) Members() iter.Seq2[Value, Value] {
	return func(yield func(Value, Value) bool) {
		if v.Type() != Object {
			return
		}
		nodes := v.t.nodes
		for i, m := v.i+1, int32(0); m < nodes[v.i].n; i, m = nodes[i+1].end, m+1 {
			if !yield(Value{v.t, i}, Value{v.t, i + 1}) {
				return
			}
		}
	}
}

// Items yields each element of array v with its index.
func (v Value) Items() iter.Seq2[int, Value] {
	return func(yield func(int, Value) bool) {
		if v.Type() != Array {
			return
		}
		nodes := v.t.nodes
		for i, m := v.i+1, int32(0); m < nodes[v.i].n; i, m = nodes[i].end, m+1 {
			if !yield(int(m), Value{v.t, i}) {
				return
			}
		}
	}
}

// Cursor steps through the elements of an array or the members of an
// object, for a caller that must hold its place between calls (an
// interpreter's iterator) rather than range over Items or Members.
type Cursor struct {
	t          *tree
	next, left int32
	object     bool
}

// Cursor is a cursor before the first element or member of v; one that
// yields nothing when v is neither an array nor an object.
func (v Value) Cursor() Cursor {
	switch v.Type() {
	case Array, Object:
		return Cursor{t: v.t, next: v.i + 1, left: v.node().n, object: v.Type() == Object}
	}
	return Cursor{}
}

// Next is the next element (key is the zero Value) or member, false after
// the last.
func (c *Cursor) Next() (key, val Value, ok bool) {
	if c.left == 0 {
		return Value{}, Value{}, false
	}
	c.left--
	if c.object {
		key, val = Value{c.t, c.next}, Value{c.t, c.next + 1}
	} else {
		val = Value{c.t, c.next}
	}
	c.next = c.t.nodes[val.i].end
	return key, val, true
}

// Any returns v with the types gojsonschema and encoding/json use:
// map[string]any, []any, string, json.Number, bool and nil (also for the
// zero Value). Each map and slice is made at its final size.
func (v Value) Any() any {
	switch v.Type() {
	case String:
		return v.node().text
	case Number:
		return json.Number(v.node().text)
	case Bool:
		return v.node().text != ""
	case Array:
		a := make([]any, 0, v.Len())
		for _, e := range v.Items() {
			a = append(a, e.Any())
		}
		return a
	case Object:
		o := make(map[string]any, v.Len())
		for k, e := range v.Members() {
			o[k.node().text] = e.Any()
		}
		return o
	}
	return nil
}

// Native returns v as an expression language takes a JSON document, as CEL
// does: map[string]any, []any, string, bool and nil like Any, but a number
// as an int64 when its literal is an integer that fits one and as a float64
// otherwise. With dropNulls, an object's members whose value is null are
// left out, at every depth, for APIs that read a null as the member's
// absence.
func (v Value) Native(dropNulls bool) any {
	switch v.Type() {
	case String:
		return v.node().text
	case Number:
		lit := v.node().text
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n
		}
		f, _ := strconv.ParseFloat(lit, 64)
		return f
	case Bool:
		return v.node().text != ""
	case Array:
		a := make([]any, 0, v.Len())
		for _, e := range v.Items() {
			a = append(a, e.Native(dropNulls))
		}
		return a
	case Object:
		o := make(map[string]any, v.Len())
		for k, e := range v.Members() {
			if dropNulls && e.Type() == Null {
				continue
			}
			o[k.node().text] = e.Native(dropNulls)
		}
		return o
	}
	return nil
}
