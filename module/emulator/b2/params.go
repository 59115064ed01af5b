package b2emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxBodySize bounds a request body; the largest legal update (100 CORS
// rules and 100 lifecycle rules) is far smaller.
const maxBodySize = 1 << 20

// fields is a request's parameters, decoded from a JSON body or a query
// string. Numbers stay json.Number so that integers can be told from
// fractions.
type fields map[string]any

// readParams reads a POST's JSON body, or the query string of a GET (or a
// HEAD, for downloads), where the parameters named in jsonParams carry JSON
// text (bucketTypes=["all"], ifRevisionIs=3) and every other one is a plain
// string.
func readParams(r *http.Request, jsonParams map[string]bool) (fields, *apiError) {
	if r.Method != http.MethodPost {
		f := make(fields)
		for name, values := range r.URL.Query() {
			if len(values) != 1 {
				return nil, badRequest("%s is given more than once", name)
			}
			if !jsonParams[name] {
				f[name] = values[0]
				continue
			}
			v, err := decodeJSON([]byte(values[0]))
			if err != nil {
				return nil, badJSON("%s: query parameter is not valid JSON: %v", name, err)
			}
			f[name] = v
		}
		return f, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodySize+1))
	if err != nil {
		return nil, badRequest("request body could not be read")
	}
	if len(body) > maxBodySize {
		return nil, badRequest("request body is larger than %d bytes", maxBodySize)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fields{}, nil
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, badJSON("request body is not valid JSON: %v", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("request body must be a JSON object")
	}
	return fields(obj), nil
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// only refuses names not in allowed, reporting the first in sorted order so
// the message does not depend on map order.
func (f fields) only(path string, allowed ...string) *apiError {
	var unknown []string
	for name := range f {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return badRequest("unknown field %s", join(path, unknown[0]))
}

// get treats an explicit null as absent: clients such as b2sdk send nulls
// for the optional parameters they leave unset.
func (f fields) get(name string) (any, bool) {
	v, ok := f[name]
	return v, ok && v != nil
}

func (f fields) need(path, name string) (any, *apiError) {
	v, ok := f.get(name)
	if !ok {
		return nil, badRequest("%s is required", join(path, name))
	}
	return v, nil
}

func (f fields) needString(path, name string) (string, *apiError) {
	v, aerr := f.need(path, name)
	if aerr != nil {
		return "", aerr
	}
	s, aerr := asString(v, join(path, name))
	if aerr == nil && s == "" {
		aerr = badRequest("%s must not be empty", join(path, name))
	}
	return s, aerr
}

func (f fields) optString(path, name string) (string, *apiError) {
	v, ok := f.get(name)
	if !ok {
		return "", nil
	}
	return asString(v, join(path, name))
}

func asString(v any, path string) (string, *apiError) {
	s, ok := v.(string)
	if !ok {
		return "", badRequest("%s must be a string", path)
	}
	return s, nil
}

func asBool(v any, path string) (bool, *apiError) {
	b, ok := v.(bool)
	if !ok {
		return false, badRequest("%s must be true or false", path)
	}
	return b, nil
}

func asInt(v any, path string) (int64, *apiError) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, badRequest("%s must be an integer", path)
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, badRequest("%s must be an integer", path)
	}
	return i, nil
}

func asObject(v any, path string) (fields, *apiError) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("%s must be an object", path)
	}
	return fields(m), nil
}

func asArray(v any, path string) ([]any, *apiError) {
	a, ok := v.([]any)
	if !ok {
		return nil, badRequest("%s must be an array", path)
	}
	return a, nil
}

func asStrings(v any, path string) ([]string, *apiError) {
	a, aerr := asArray(v, path)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]string, len(a))
	for i, item := range a {
		s, ok := item.(string)
		if !ok {
			return nil, badRequest("%s[%d] must be a string", path, i)
		}
		out[i] = s
	}
	return out, nil
}

// optStrings reads an optional string list, keeping absence as nil.
func (f fields) optStrings(path, name string) ([]string, *apiError) {
	v, ok := f.get(name)
	if !ok {
		return nil, nil
	}
	return asStrings(v, join(path, name))
}

// sortedKeys gives map keys in a fixed order so that the first problem
// reported does not vary between identical requests.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
