package dialect

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestUpdateBodyIsTheReceivedBytesUntilEdited(t *testing.T) {
	raw := []byte(`{ "b":"<&>",  "a":1 }`)
	u := NewUpdate(Call{}, map[string]any{"b": "<&>", "a": json.Number("1")}, raw)
	if b, _ := u.Body(); string(b) != string(raw) {
		t.Errorf("unedited body %s, want the received bytes", b)
	}
	u.Set("c", json.Number("2"))
	if b, _ := u.Body(); string(b) != `{"a":1,"b":"<&>","c":2}` {
		t.Errorf("edited body %s", b)
	}
	if got := u.Fields(); strings.Join(got, ",") != "a,b,c" {
		t.Errorf("fields %v", got)
	}
	q := NewUpdate(Call{}, map[string]any{"x": "y"}, nil)
	if b, _ := q.Body(); string(b) != `{"x":"y"}` {
		t.Errorf("body of a document without raw bytes: %s", b)
	}
}

func TestInvalidNamesEachFieldOnceInPathOrder(t *testing.T) {
	e := Invalid([]Violation{{"b", "is wrong"}, {"a", "is bad"}, {"b", "is too long"}, {"", "is empty"}})
	want := "invalid request: is empty; a: is bad; b: is wrong, and is too long"
	if e.Kind != BadRequest || e.Message != want || strings.Join(e.Fields, ",") != "a,b" {
		t.Errorf("got %v %q %v", e.Kind, e.Message, e.Fields)
	}
}

func TestSchemaMessages(t *testing.T) {
	s, err := CompileSchema([]byte(`{"type":"object","additionalProperties":false,"required":["id"],
		"properties":{"id":{"type":"string"},"n":{"type":"integer","maximum":3},
		"mode":{"enum":["on","off"]},"tags":{"type":"array","maxItems":1,"items":{"type":"string","pattern":"^[a-z]+$"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsStringField("id") || s.IsStringField("n") || !s.IsStringField("mode") || s.IsStringField("tags") {
		t.Error("string fields misread")
	}
	vs := s.Validate(map[string]any{"n": json.Number("4"), "mode": "SECRETVALUE", "extra": true, "tags": []any{"A1", "b"}})
	got := Invalid(vs).Message
	for _, want := range []string{"id: is required", "n: must be at most 3", "mode: must be one of on, off", "extra: is not an allowed field",
		"tags: must have at most 1 items", "tags[0]: does not have the required form"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "SECRETVALUE") || strings.Contains(got, "A1") {
		t.Errorf("message quotes a submitted value: %q", got)
	}
	if _, err := CompileSchema([]byte(`{"type":"nonsense"}`)); err == nil {
		t.Error("a schema that does not compile was accepted")
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
