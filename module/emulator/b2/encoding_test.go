package b2emulator

import "testing"

// Cases from the table of B2's "Native API String Encoding" page, as b2sdk
// keeps them in test/unit/v0/test_utils.py (string, fully encoded,
// minimally encoded).
var encodingCases = []struct{ s, full, minimal string }{
	{" ", "%20", "+"},
	{"!", "%21", "!"},
	{`"`, "%22", "%22"},
	{"#", "%23", "%23"},
	{"$", "%24", "$"},
	{"%", "%25", "%25"},
	{"&", "%26", "%26"},
	{"'", "%27", "'"},
	{"+", "%2B", "%2B"},
	{",", "%2C", "%2C"},
	{"/", "%2F", "/"},
	{":", "%3A", ":"},
	{"=", "%3D", "="},
	{"?", "%3F", "%3F"},
	{"@", "%40", "@"},
	{`\`, "%5C", "%5C"},
	{"_", "%5F", "_"},
	{"~", "%7E", "~"},
	{"\x7f", "%7F", "%7F"},
	{"自由", "%E8%87%AA%E7%94%B1", "%E8%87%AA%E7%94%B1"},
	{"\U00010400", "%F0%90%90%80", "%F0%90%90%80"},
}

func TestB2Encoding(t *testing.T) {
	for _, tc := range encodingCases {
		if got := b2Encode(tc.s); got != tc.minimal {
			t.Errorf("b2Encode(%q) = %q, want %q", tc.s, got, tc.minimal)
		}
		for _, enc := range []string{tc.full, tc.minimal} {
			if got, ok := b2Decode(enc); !ok || got != tc.s {
				t.Errorf("b2Decode(%q) = %q, %v; want %q", enc, got, ok, tc.s)
			}
		}
	}
	for _, bad := range []string{"%", "%4", "%zz", "a%g1"} {
		if got, ok := b2Decode(bad); ok {
			t.Errorf("b2Decode(%q) = %q, accepted", bad, got)
		}
	}
}

func FuzzB2Encoding(f *testing.F) {
	for _, tc := range encodingCases {
		f.Add(tc.s)
		f.Add(tc.minimal)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, ok := b2Decode(b2Encode(s)); !ok || got != s {
			t.Fatalf("b2Decode(b2Encode(%q)) = %q, %v", s, got, ok)
		}
		// Whatever a client sends, decoding either fails or gives bytes that
		// encode back to something that decodes the same.
		if dec, ok := b2Decode(s); ok {
			if again, ok := b2Decode(b2Encode(dec)); !ok || again != dec {
				t.Fatalf("%q decodes to %q, which does not survive a round trip", s, dec)
			}
		}
	})
}
