package b2emulator

import (
	"net/url"
	"strings"
)

// B2 percent-encodes the UTF-8 of file names and file info values wherever
// they travel in a header or a URL: X-Bz-File-Name, X-Bz-Info-*, and the
// path of a download by name. See "Native API String Encoding"
// (backblaze.com/docs/cloud-storage-native-api-string-encoding); its table
// of test cases is reproduced in b2sdk's test/unit/v0/test_utils.py.

// b2Decode undoes B2's percent-encoding. A "+" stands for a space, as in a
// query string: b2sdk decodes with unquote_plus, and blazer, which encodes
// with url.QueryEscape, sends spaces as "+".
func b2Decode(s string) (string, bool) {
	out, err := url.QueryUnescape(s)
	return out, err == nil
}

// b2Encode is B2's minimal encoding, the "minimallyEncoded" column of its
// test cases: letters, digits and !$'()*-./:;=@_~ stay as they are, a space
// becomes "+", and every other byte becomes %XX.
func b2Encode(s string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("!$'()*-./:;=@_~", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
