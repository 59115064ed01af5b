package jsonscan

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
)

// agrees walks v through its accessors and requires each to say what
// encoding/json's reading of the same document says.
func agrees(t *testing.T, v Value, want any, path string) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if v.Type() != Null || !v.Exists() || v.Given() {
			t.Fatalf("%s: got %v, want null", path, v.Type())
		}
	case bool:
		if b, ok := v.Bool(); !ok || b != w || !v.Given() {
			t.Fatalf("%s: got %v %v, want %v", path, b, ok, w)
		}
	case json.Number:
		if n, ok := v.Number(); !ok || n != w {
			t.Fatalf("%s: got %q %v, want %q", path, n, ok, w)
		}
	case string:
		if s, ok := v.Str(); !ok || s != w {
			t.Fatalf("%s: got %q %v, want %q", path, s, ok, w)
		}
		if _, ok := v.Number(); ok {
			t.Fatalf("%s: a string reads as a number", path)
		}
	case []any:
		if v.Type() != Array || v.Len() != len(w) {
			t.Fatalf("%s: got %v of %d, want an array of %d", path, v.Type(), v.Len(), len(w))
		}
		n := 0
		for i, e := range v.Items() {
			if i != n {
				t.Fatalf("%s: item %d yielded as %d", path, n, i)
			}
			agrees(t, e, w[i], path+"["+strconv.Itoa(i)+"]")
			n++
		}
		if n != len(w) {
			t.Fatalf("%s: %d items yielded, want %d", path, n, len(w))
		}
		cursorAgrees(t, v, path)
	case map[string]any:
		if v.Type() != Object || v.Len() != len(w) {
			t.Fatalf("%s: got %v of %d, want an object of %d", path, v.Type(), v.Len(), len(w))
		}
		n := 0
		for k, e := range v.Members() {
			key, ok := k.Str()
			if !ok {
				t.Fatalf("%s: a key is not a string", path)
			}
			if _, ok := w[key]; !ok {
				t.Fatalf("%s: member %q yielded, not in the document", path, key)
			}
			agrees(t, e, w[key], path+"."+key)
			agrees(t, v.Get(key), w[key], path+"."+key)
			n++
		}
		if n != len(w) {
			t.Fatalf("%s: %d members yielded, want %d", path, n, len(w))
		}
		cursorAgrees(t, v, path)
		if v.Get("\x00absent").Exists() {
			t.Fatalf("%s: an absent member exists", path)
		}
	}
}

// cursorAgrees requires v's Cursor to step through what Items or Members
// yield, in the same order, and then stop.
func cursorAgrees(t *testing.T, v Value, path string) {
	t.Helper()

	c := v.Cursor()
	check := func(key, val Value) {
		k, e, ok := c.Next()
		if !ok || k != key || e != val {
			t.Fatalf("%s: the cursor yields %v %v %v, the range %v %v", path, k, e, ok, key, val)
		}
	}
	if v.Type() == Array {
		for _, e := range v.Items() {
			check(Value{}, e)
		}
	} else {
		for k, e := range v.Members() {
			check(k, e)
		}
	}
	for range 2 {
		if _, _, ok := c.Next(); ok {
			t.Fatalf("%s: the cursor goes on after the last", path)
		}
	}
}

func TestValueAccessors(t *testing.T) {
	for _, doc := range []string{
		`{}`, `[]`, `null`, `true`, `false`, `-0.5e+3`, `"x"`,
		`{"a":[1,2.5,{"b":null,"c":[[],{}]}],"d":"\u00e9","e":false,"f":{"g":{"h":[true]}}}`,
		`[{"k":1},{"k":2},[3,[4]],"s"]`,
	} {
		v, err := Parse([]byte(doc), DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		agrees(t, v, stdRead(t, []byte(doc)), "(root)")
	}
}

func TestZeroValueAndWrongTypes(t *testing.T) {
	var zero Value
	if zero.Exists() || zero.Given() || zero.Type() != Invalid || zero.Len() != 0 || zero.Any() != nil {
		t.Error("the zero Value is a value")
	}
	v, err := Parse([]byte(`{"s":"x","a":[1]}`), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	// Lookups through the wrong type give the zero Value, never a panic.
	for _, got := range []Value{v.Get("s").Get("x"), v.Get("a").Get("0"), v.Get("nope").Get("deeper"), zero.Get("x")} {
		if got.Exists() {
			t.Errorf("lookup through a non-object found %v", got.Type())
		}
	}
	for range v.Get("s").Items() {
		t.Error("a string has items")
	}
	for range v.Get("a").Members() {
		t.Error("an array has members")
	}
	for _, scalar := range []Value{v.Get("s"), zero} {
		c := scalar.Cursor()
		if _, _, ok := c.Next(); ok {
			t.Error("a cursor over a string or no value yields")
		}
	}
	if _, ok := v.Get("s").Bool(); ok {
		t.Error("a string reads as a bool")
	}
}

// FuzzParse holds the tree's accessors to encoding/json's reading of every
// document the scanner accepts (FuzzDecode holds Any to it).
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",null,{"b":[]}]}`, `[[{}],{"c":{"d":true}}]`, `{"k0":0,"k1":{"k0":[false]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data, DefaultLimits)
		if err != nil {
			return
		}
		agrees(t, v, stdRead(t, data), "(root)")
	})
}

// loadBody is the load run's b2_update_bucket body (docs/perf/update.lua).
const loadBody = `{"accountId":"ACCOUNT_ID","bucketId":"4a48fe8875c6214145260818","bucketType":"allPublic","bucketInfo":{"build":"1"},` +
	`"corsRules":[{"corsRuleName":"downloadFromAnyOrigin","allowedOrigins":["https"],"allowedHeaders":["range"],` +
	`"allowedOperations":["b2_download_file_by_id","b2_download_file_by_name"],"exposeHeaders":["x-bz-content-sha1"],"maxAgeSeconds":3600}],` +
	`"defaultRetention":{"mode":"governance","period":{"duration":2,"unit":"years"}},` +
	`"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"},"fileLockEnabled":true,` +
	`"lifecycleRules":[{"daysFromHidingToDeleting":30,"daysFromUploadingToHiding":null,"fileNamePrefix":"backup/1/"}],"ifRevisionIs":1}`

func BenchmarkParse(b *testing.B) {
	data := []byte(loadBody)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := Parse(data, DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		v.Release()
	}
}

// TestNative: numbers as an expression language takes them, and nulls left
// out of objects when asked, at every depth.
func TestNative(t *testing.T) {
	v, err := Parse([]byte(`{"n":3,"big":12345678901234567890,"f":1.5,"e":1e2,"s":"x","b":true,"z":null,"o":{"z":null,"k":[1,null]}}`), Limits{MaxDepth: 8, MaxNumberLen: 64})
	if err != nil {
		t.Fatal(err)
	}
	got := v.Native(true).(map[string]any)
	want := map[string]any{"n": int64(3), "big": 12345678901234567890.0, "f": 1.5, "e": 100.0, "s": "x", "b": true,
		"o": map[string]any{"k": []any{int64(1), nil}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	if kept := v.Native(false).(map[string]any); len(kept) != 8 || kept["z"] != nil || len(kept["o"].(map[string]any)) != 2 {
		t.Errorf("without dropping nulls: %#v", kept)
	}
}
