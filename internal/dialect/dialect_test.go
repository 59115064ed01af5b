package dialect

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

func TestUpdateBodyIsTheReceivedBytesUntilEdited(t *testing.T) {
	raw := []byte(`{ "b":"<&>",  "a":1, "n":null }`)
	tree, err := jsonscan.Parse(raw, jsonscan.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	u := NewDocument(Call{}, tree, raw)
	if b, _ := u.Body(); string(b) != string(raw) {
		t.Errorf("unedited body %s, want the received bytes", b)
	}
	if s, ok := u.Str("b"); !ok || s != "<&>" || !u.Given("a") || u.Given("n") || !u.Has("n") || u.Has("zz") || u.Given("zz") || u.Get("a") != json.Number("1") {
		t.Errorf("lookups on the received tree: %q %v %v", s, ok, u.Get("a"))
	}
	u.Set("c", json.Number("2"))
	if b, _ := u.Body(); string(b) != `{"a":1,"b":"<&>","c":2,"n":null}` {
		t.Errorf("edited body %s", b)
	}
	if got := u.Fields(); strings.Join(got, ",") != "a,b,c,n" {
		t.Errorf("fields %v", got)
	}
	// What is validated after an edit is what is sent.
	if n, ok := u.Tree().Get("c").Number(); !ok || n != "2" || u.Tree().Len() != 4 {
		t.Errorf("tree after an edit: %v %v", n, u.Tree().Len())
	}
	if s, ok := u.Str("b"); !ok || s != "<&>" || !u.Given("c") || !u.Has("n") || u.Given("n") || u.Has("zz") {
		t.Error("lookups after an edit")
	}
	q := BuildDocument(Call{}, map[string]any{"x": "y"})
	if b, _ := q.Body(); string(b) != `{"x":"y"}` {
		t.Errorf("body of a built document: %s", b)
	}
	if s, ok := q.Tree().Get("x").Str(); !ok || s != "y" {
		t.Errorf("tree of a built document: %q", s)
	}
}

func TestInvalidNamesEachFieldOnceInPathOrder(t *testing.T) {
	e := Invalid([]Violation{{Path: "b", Message: "is wrong"}, {Path: "a", Message: "is bad"}, {Path: "b", Message: "is too long"}, {Message: "is empty"}})
	want := "invalid request: is empty; a: is bad; b: is wrong, and is too long"
	if e.Kind != BadRequest || e.Message != want || strings.Join(e.Fields, ",") != "a,b" {
		t.Errorf("got %v %q %v", e.Kind, e.Message, e.Fields)
	}
}

func TestRewrite(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/B2API/v3//x?secret=1", strings.NewReader("old"))
	Rewrite(r, http.MethodPost, "/b2api/v3/x", []byte(`{"a":1}`))
	b, _ := io.ReadAll(r.Body)
	if r.Method != "POST" || r.URL.String() != "/b2api/v3/x" || r.RequestURI != "/b2api/v3/x" || string(b) != `{"a":1}` ||
		r.ContentLength != 7 || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("rewritten: %s %s %q %s", r.Method, r.URL, b, r.Header)
	}
	Rewrite(r, http.MethodGet, "/bucket", nil)
	if r.Body != http.NoBody || r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		t.Errorf("bodiless rewrite kept a body: %v %d", r.Header, r.ContentLength)
	}
}

// Integer is the one reading of a validated integer.
func TestIntegerReadsAsTheSchemaDoes(t *testing.T) {
	for lit, want := range map[string]int64{"11": 11, "11.0": 11, "1.1e1": 11, "110e-1": 11, "-0": 0, "9223372036854775807": 1<<63 - 1, "9.223372036854775807e18": 1<<63 - 1} {
		if n, ok := Integer(json.Number(lit)); !ok || n != want {
			t.Errorf("%s: got %d %v, want %d", lit, n, ok, want)
		}
	}
	for _, lit := range []string{"11.5", "1e-1", "9223372036854775808", "1e400", "1e99999999"} {
		if n, ok := Integer(json.Number(lit)); ok {
			t.Errorf("%s: read as %d", lit, n)
		}
	}
}
