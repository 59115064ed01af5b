package gateway

import (
	"fmt"
	"reflect"
	"strconv"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// A write's document as policies read it (the request variable): CEL
// values over the tree the body was parsed into, converted only as far as
// an expression reads them, rather than a map of the whole document built
// for each write. A member whose value is null is absent, at every depth,
// as the services read a null; a number is an int where its literal is an
// integer that fits one, a double otherwise (as jsonscan.Value.Native
// gives it).

// celJSON is v as a CEL value.
func celJSON(v jsonscan.Value) ref.Val {
	switch v.Type() {
	case jsonscan.Object:
		return jsonMap{v}
	case jsonscan.Array:
		return jsonList{v}
	case jsonscan.String:
		s, _ := v.Str()
		return types.String(s)
	case jsonscan.Number:
		lit, _ := v.Number()
		if n, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
			return types.Int(n)
		}
		f, _ := strconv.ParseFloat(string(lit), 64)
		return types.Double(f)
	case jsonscan.Bool:
		b, _ := v.Bool()
		return types.Bool(b)
	}
	return types.NullValue
}

// convertNative is v as the Go value t, where it is one: CEL asks for a
// native value where a function of Go's takes one.
func convertNative(v jsonscan.Value, t reflect.Type) (any, error) {
	native := v.Native(true)
	if native != nil && reflect.TypeOf(native).AssignableTo(t) {
		return native, nil
	}
	return nil, fmt.Errorf("type conversion error from %T to %v", native, t)
}

// convertType is v, a map or a list, as the CEL type t: itself, or its
// type.
func convertType(v ref.Val, t ref.Type) ref.Val {
	switch t {
	case v.Type():
		return v
	case types.TypeType:
		return v.Type().(ref.Val)
	}
	return types.NewErr("type conversion error from %s to %s", v.Type().TypeName(), t.TypeName())
}

// jsonMap is a JSON object as a CEL map from strings.
type jsonMap struct{ v jsonscan.Value }

var (
	_ traits.Mapper = jsonMap{}
	_ traits.Lister = jsonList{}
)

func (m jsonMap) ConvertToNative(t reflect.Type) (any, error) { return convertNative(m.v, t) }

func (m jsonMap) ConvertToType(t ref.Type) ref.Val { return convertType(m, t) }

func (m jsonMap) Equal(other ref.Val) ref.Val {
	o, ok := other.(traits.Mapper)
	if !ok || m.Size() != o.Size() {
		return types.False
	}
	for k, v := range m.members() {
		ov, found := o.Find(types.String(k))
		if !found || types.Equal(celJSON(v), ov) != types.True {
			return types.False
		}
	}
	return types.True
}

func (m jsonMap) Type() ref.Type { return types.MapType }
func (m jsonMap) Value() any     { return m.v.Native(true) }

// members yields the object's members that are not null.
func (m jsonMap) members() func(yield func(string, jsonscan.Value) bool) {
	return func(yield func(string, jsonscan.Value) bool) {
		for k, v := range m.v.Members() {
			if v.Type() == jsonscan.Null {
				continue
			}
			name, _ := k.Str()
			if !yield(name, v) {
				return
			}
		}
	}
}

func (m jsonMap) Contains(key ref.Val) ref.Val {
	v, found := m.Find(key)
	if !found && v != nil {
		return v
	}
	return types.Bool(found)
}

func (m jsonMap) Get(key ref.Val) ref.Val {
	v, found := m.Find(key)
	if !found {
		return types.ValOrErr(v, "no such key: %v", key)
	}
	return v
}

func (m jsonMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return types.ValOrErr(key, "no such key: %v", key), false
	}
	v := m.v.Get(string(k))
	if !v.Given() {
		return nil, false
	}
	return celJSON(v), true
}

func (m jsonMap) Size() ref.Val {
	n := 0
	for range m.members() {
		n++
	}
	return types.Int(n)
}

func (m jsonMap) Iterator() traits.Iterator { return &jsonIterator{c: m.v.Cursor(), keys: true} }

// jsonList is a JSON array as a CEL list.
type jsonList struct{ v jsonscan.Value }

func (l jsonList) ConvertToNative(t reflect.Type) (any, error) { return convertNative(l.v, t) }

func (l jsonList) ConvertToType(t ref.Type) ref.Val { return convertType(l, t) }

func (l jsonList) Equal(other ref.Val) ref.Val {
	o, ok := other.(traits.Lister)
	if !ok || l.Size() != o.Size() {
		return types.False
	}
	for i, v := range l.v.Items() {
		if types.Equal(celJSON(v), o.Get(types.Int(i))) != types.True {
			return types.False
		}
	}
	return types.True
}

func (l jsonList) Type() ref.Type { return types.ListType }
func (l jsonList) Value() any     { return l.v.Native(true) }

func (l jsonList) Add(other ref.Val) ref.Val {
	o, ok := other.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	items := make([]ref.Val, 0, l.v.Len())
	for _, v := range l.v.Items() {
		items = append(items, celJSON(v))
	}
	for it := o.Iterator(); it.HasNext() == types.True; {
		items = append(items, it.Next())
	}
	return types.NewRefValList(types.DefaultTypeAdapter, items)
}

func (l jsonList) Contains(elem ref.Val) ref.Val {
	for _, v := range l.v.Items() {
		if types.Equal(celJSON(v), elem) == types.True {
			return types.True
		}
	}
	return types.False
}

func (l jsonList) Get(index ref.Val) ref.Val {
	i, ok := index.(types.Int)
	if !ok {
		return types.MaybeNoSuchOverloadErr(index)
	}
	if i < 0 || int(i) >= l.v.Len() {
		return types.NewErr("index '%d' out of range in list size '%d'", i, l.v.Len())
	}
	for j, v := range l.v.Items() {
		if j == int(i) {
			return celJSON(v)
		}
	}
	return types.NullValue
}

func (l jsonList) Size() ref.Val { return types.Int(l.v.Len()) }

func (l jsonList) Iterator() traits.Iterator { return &jsonIterator{c: l.v.Cursor()} }

// jsonIterator steps through an array's elements or an object's keys,
// skipping the members whose value is null.
type jsonIterator struct {
	c    jsonscan.Cursor
	keys bool
	// ahead is the next value, read by HasNext and not yet by Next.
	ahead ref.Val
}

func (it *jsonIterator) HasNext() ref.Val {
	if it.ahead == nil {
		it.ahead = it.step()
	}
	return types.Bool(it.ahead != nil)
}

func (it *jsonIterator) Next() ref.Val {
	v := it.ahead
	if v == nil {
		v = it.step()
	}
	it.ahead = nil
	if v == nil {
		return types.NewErr("no more elements")
	}
	return v
}

// step is the next value, nil after the last.
func (it *jsonIterator) step() ref.Val {
	for {
		k, v, ok := it.c.Next()
		switch {
		case !ok:
			return nil
		case !it.keys:
			return celJSON(v)
		case v.Given():
			name, _ := k.Str()
			return types.String(name)
		}
	}
}

func (it *jsonIterator) ConvertToNative(reflect.Type) (any, error) {
	return nil, fmt.Errorf("an iterator converts to nothing")
}
func (it *jsonIterator) ConvertToType(ref.Type) ref.Val {
	return types.NewErr("an iterator converts to nothing")
}
func (it *jsonIterator) Equal(ref.Val) ref.Val { return types.False }
func (it *jsonIterator) Type() ref.Type        { return types.IteratorType }
func (it *jsonIterator) Value() any            { return nil }
