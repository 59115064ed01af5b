package corpus

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type testCase struct {
	Name string `json:"name"`
}

func named(c testCase) error {
	if c.Name == "" {
		return errors.New("a case needs a name")
	}
	return nil
}

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name, content, err string
		cases              int
	}{
		{"two cases", `{"name":"a"}` + "\n" + `{"name":"b"}` + "\n", "", 2},
		{"no final newline", `{"name":"a"}`, "", 1},
		{"unknown field", `{"name":"a"}` + "\n" + `{"name":"b","nmae":"c"}`, `:2: json: unknown field "nmae"`, 0},
		{"refused by check", `{"name":""}`, ":1: a case needs a name", 0},
		{"two on a line", `{"name":"a"} {"name":"b"}`, ":1: more than one case", 0},
		{"not JSON", `{"name":`, ":1: unexpected EOF", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.jsonl")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			cases, err := Read(path, named)
			if tc.err == "" && (err != nil || len(cases) != tc.cases) {
				t.Fatalf("got %d cases, %v; want %d", len(cases), err, tc.cases)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("got %v, want an error containing %q", err, tc.err)
			}
		})
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.jsonl"), named); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing file: %v", err)
	}
}
