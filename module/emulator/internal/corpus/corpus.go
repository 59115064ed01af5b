// Package corpus reads the conformance corpus (testdata/conformance) for the
// emulators' tests: one case per line, each a JSON object decoded strictly.
// It is the emulators' own reader, so that they take the corpus as it is
// written, independently of the gateway's tests.
package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Read decodes every line of the file at path into a T, refusing unknown
// fields and any case that check refuses, and names the line at fault.
func Read[T any](path string, check func(T) error) ([]T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cases []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for line := 1; sc.Scan(); line++ {
		var c T
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s:%d: more than one case on the line", path, line)
		}
		if err := check(c); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		cases = append(cases, c)
	}
	return cases, sc.Err()
}
