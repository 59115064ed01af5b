package jsonscan

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-0.5e+3`, `"x"`,
		`{"a":[1,2.5,-3e2,{"b":null}],"c":"\u00e9\ud83d\ude00\n\"\\\/"}`,
		` { "k" : "v" , "n" : [ ] } `,
		`{"bucketId":"b1","bucketInfo":{"Cache-Control":"max-age=60"},"ifRevisionIs":12}`,
	}
	for _, doc := range docs {
		got, err := Decode([]byte(doc), DefaultLimits)
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", doc, got, want)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	cases := []struct {
		doc  string
		kind Kind
		path string
	}{
		{``, Malformed, ""},
		{`{`, Malformed, ""},
		{`{"a":1,}`, Malformed, ""},
		{`{"a" 1}`, Malformed, "a"},
		{`[1 2]`, Malformed, ""},
		{`{"a":1} x`, Malformed, ""},
		{`{"a":01}`, Malformed, ""},
		{`{"a":1.}`, Malformed, "a"},
		{`{"a":-}`, Malformed, "a"},
		{`{"a":tru}`, Malformed, "a"},
		{`{"a":"\x"}`, Malformed, "a"},
		{"{\"a\":\"\x01\"}", Malformed, "a"},
		{`{"a":"\u12"}`, Malformed, "a"},
		{`{"a":"unterminated}`, Malformed, "a"},
		{`{'a':1}`, Malformed, ""},
		{`{"a":1,"a":2}`, Ambiguous, "a"},
		{`{"x":[{"a":1,"a":1}]}`, Ambiguous, "x[0].a"},
		// past linearDup members, duplicates are found through a map
		{`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":0,"k11":1,"k12":2,"k13":3,"k14":4,"k15":5,"k16":6,"k17":7,"k3":8}`, Ambiguous, "k3"},
		{`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":0,"k11":1,"k12":2,"k13":3,"k14":4,"k15":5,"k16":{"k16":6,"k0":{}},"k17":7,"k18":8,"k17":9}`, Ambiguous, "k17"},
		{"{\"a\":\"\xff\"}", Ambiguous, "a"},
		{`{"a":"\ud800"}`, Ambiguous, "a"},
		{`{"a":"\udc00\ud800"}`, Ambiguous, "a"},
		{`{"a":1e400}`, Excessive, "a"},
		{`{"a":123456789012345678901234567890}`, Excessive, "a"},
		{`[[[[[[[[[[[1]]]]]]]]]]]`, Excessive, "[0][0][0][0][0][0][0][0][0][0]"},
	}
	for _, tc := range cases {
		_, err := Decode([]byte(tc.doc), DefaultLimits)
		se, ok := err.(*Error)
		if !ok {
			t.Errorf("%q: got %v, want a refusal", tc.doc, err)
			continue
		}
		if se.Kind != tc.kind || se.Path != tc.path {
			t.Errorf("%q: kind %d path %q (%v), want kind %d path %q", tc.doc, se.Kind, se.Path, se, tc.kind, tc.path)
		}
	}
}

func TestDepthLimitIsExact(t *testing.T) {
	lim := Limits{MaxDepth: 3, MaxNumberLen: 24}
	if _, err := Decode([]byte(`{"a":{"b":[1]}}`), lim); err != nil {
		t.Errorf("depth 3 refused: %v", err)
	}
	if _, err := Decode([]byte(`{"a":{"b":[[1]]}}`), lim); err == nil {
		t.Error("depth 4 accepted")
	}
}

func TestErrorsDoNotQuoteValues(t *testing.T) {
	_, err := Decode([]byte(`{"key":"AKIASECRET","key":"AKIASECRET"}`), DefaultLimits)
	if err == nil || strings.Contains(err.Error(), "AKIASECRET") {
		t.Errorf("error %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",null]}`, `"\ud83d\ude00"`, `{"a":1,"a":2}`, `1e5`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data, DefaultLimits)
		if err != nil {
			return
		}
		// Whatever the scanner accepts, encoding/json must read the same way,
		// and no object in it repeats a key (encoding/json takes the last).
		if want := stdRead(t, data); !reflect.DeepEqual(v, want) {
			t.Fatalf("readings differ: %#v vs %#v", v, want)
		}
		if key, ok := repeatedKey(data); ok {
			t.Fatalf("accepted a document repeating the key %q", key)
		}
	})
}

// repeatedKey finds a key repeated within one object of data, which
// encoding/json accepts, by its token stream.
func repeatedKey(data []byte) (string, bool) {
	type frame struct {
		object, wantKey bool
		keys            map[string]bool
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			key := tok.(string)
			if top.keys[key] {
				return key, true
			}
			top.keys[key] = true
			top.wantKey = false
			continue
		}
		if top != nil && top.object {
			top.wantKey = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, keys: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// TestNumberRange: a literal is refused only beyond float64's range,
// however long, with or without an exponent.
func TestNumberRange(t *testing.T) {
	lim := Limits{MaxDepth: 2, MaxNumberLen: 400}
	nines := strings.Repeat("9", 308)
	for _, tc := range []struct {
		lit string
		ok  bool
	}{
		{nines, true},
		{"-" + nines, true},
		{nines + ".5", true},
		{"9" + nines, false},
		{"-9" + nines, false},
		{"1" + strings.Repeat("0", 308), true},
		{"2" + strings.Repeat("0", 308), false},
		{"1e308", true},
		{"1e309", false},
		{"1e-400", true},
		{"0." + strings.Repeat("0", 350) + "1", true},
	} {
		_, err := Decode([]byte(tc.lit), lim)
		if (err == nil) != tc.ok {
			t.Errorf("%.20s… (%d characters): error %v, want accepted %v", tc.lit, len(tc.lit), err, tc.ok)
		}
		if err != nil && err.(*Error).Kind != Excessive {
			t.Errorf("%.20s…: %v, want out of range", tc.lit, err)
		}
	}
}

// TestRepeatedKeysWhateverTheirShape: keys alike in length and first and
// last byte, or not, repeated early or late.
func TestRepeatedKeysWhateverTheirShape(t *testing.T) {
	for _, doc := range []string{
		`{"ab":1,"ab":2}`,
		`{"axb":1,"ayb":2,"axb":3}`,
		`{"":1,"":2}`,
		`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"a":17}`,
	} {
		if _, err := Decode([]byte(doc), DefaultLimits); err == nil || err.(*Error).Kind != Ambiguous {
			t.Errorf("%s: %v, want a duplicate key", doc, err)
		}
	}
	if _, err := Decode([]byte(`{"axb":1,"ayb":2,"azb":3,"":4}`), DefaultLimits); err != nil {
		t.Errorf("distinct keys of one shape: %v", err)
	}
}

// stdRead is encoding/json's reading of data, numbers kept as written.
func stdRead(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("scanner accepted what encoding/json refuses: %v", err)
	}
	return v
}
