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
		// Whatever the scanner accepts, encoding/json must read the same way.
		if want := stdRead(t, data); !reflect.DeepEqual(v, want) {
			t.Fatalf("readings differ: %#v vs %#v", v, want)
		}
	})
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
