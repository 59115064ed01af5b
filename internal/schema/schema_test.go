package schema

import (
	"os"
	"strings"
	"testing"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
	"github.com/bucketgate/bucketgate/schemas"
)

func TestSchemaMessages(t *testing.T) {
	s, err := Compile([]byte(`{"type":"object","additionalProperties":false,"required":["id"],
		"properties":{"id":{"type":"string"},"n":{"type":"integer","maximum":3},
		"mode":{"enum":["on","off"]},"tags":{"type":"array","maxItems":1,"items":{"type":"string","pattern":"^[a-z]+$"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsStringField("id") || s.IsStringField("n") || !s.IsStringField("mode") || s.IsStringField("tags") {
		t.Error("string fields misread")
	}
	doc, perr := jsonscan.Parse([]byte(`{"n":4,"mode":"SECRETVALUE","extra":true,"tags":["A1","b"]}`), jsonscan.DefaultLimits)
	if perr != nil {
		t.Fatal(perr)
	}
	vs := s.Validate(doc)
	var parts []string
	for _, v := range vs {
		parts = append(parts, v.Path+": "+v.Message)
	}
	got := strings.Join(parts, "; ")
	for _, want := range []string{"id: is required", "n: must be at most 3", "mode: must be one of on, off", "extra: is not an allowed field",
		"tags: must have at most 1 items", "tags[0]: does not have the required form"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "SECRETVALUE") || strings.Contains(got, "A1") {
		t.Errorf("message quotes a submitted value: %q", got)
	}
	if _, err := Compile([]byte(`{"type":"nonsense"}`)); err == nil {
		t.Error("a schema that does not compile was accepted")
	}
}

// TestBound: what a built-in schema bounds, by path, as CEL's cost
// estimator names paths; nothing where it sets no bound.
func TestBound(t *testing.T) {
	s, err := Compile(schemas.B2UpdateBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path []string
		want uint64
		ok   bool
	}{
		{[]string{"lifecycleRules"}, 100, true},
		{[]string{"corsRules"}, 100, true},
		{[]string{"bucketInfo"}, 10, true},
		{[]string{"bucketInfo", "@keys"}, 0, false},
		{[]string{"corsRules", "@items", "corsRuleName"}, 50, true},
		{[]string{"corsRules", "@items", "allowedOrigins"}, 0, false},
		{[]string{"accountId"}, 64, true},
		{[]string{"nonsense"}, 0, false},
	} {
		if got, ok := s.Bound(tc.path); got != tc.want || ok != tc.ok {
			t.Errorf("%v: %d %v, want %d %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
	user, err := Load(writeSchema(t, `{"type":"object","properties":{"a":{"type":"array","maxItems":3}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := user.Bound([]string{"a"}); ok {
		t.Error("a user's schema, which has no fast path, gave a bound")
	}
}

func writeSchema(t *testing.T, src string) string {
	t.Helper()
	p := t.TempDir() + "/s.json"
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
