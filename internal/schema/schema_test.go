package schema

import (
	"strings"
	"testing"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
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
