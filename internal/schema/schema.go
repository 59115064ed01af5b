package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
	"github.com/xeipuuv/gojsonreference"
	"github.com/xeipuuv/gojsonschema"
)

// Violation is one failed check of a document.
type Violation struct {
	Path    string // e.g. corsRules[1].maxAgeSeconds; "" for the document itself
	Message string // e.g. "must be at most 86400"
}

// Schema is a compiled draft-07 JSON Schema for one update document.
type Schema struct {
	compiled *gojsonschema.Schema
	// fast validates built-in schemas without gojsonschema's per-value
	// costs (see schemafast.go); nil for a user's schema, which
	// gojsonschema alone validates, exactly as it always has.
	fast *node
	// stringFields are the top-level properties whose values are strings,
	// for APIs that also take the document as query parameters.
	stringFields map[string]bool
}

// Load compiles the schema in file, or the embedded fallback when file
// is empty. Errors name the file, so a bad user schema is caught at load time.
func Load(file string, fallback []byte) (*Schema, error) {
	if file == "" {
		s, err := Compile(fallback)
		if err != nil {
			return nil, fmt.Errorf("built-in schema: %v", err)
		}
		return s, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading schema: %v", err)
	}
	s, err := compileSchema(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return s, nil
}

// Compile compiles one of the project's own JSON Schema documents,
// with the fast path when the schema allows it.
func Compile(src []byte) (*Schema, error) {
	s, err := compileSchema(src)
	if err != nil {
		return nil, err
	}
	s.fast = compileFast(src)
	return s, nil
}

// compileSchema compiles a JSON Schema document for gojsonschema alone.
func compileSchema(src []byte) (*Schema, error) {
	var top map[string]any
	if err := json.Unmarshal(src, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	loader := gojsonschema.NewSchemaLoader()
	loader.Draft = gojsonschema.Draft7
	loader.AutoDetect = false
	compiled, err := loader.Compile(gojsonschema.NewBytesLoader(src))
	if err != nil {
		return nil, fmt.Errorf("does not compile as a draft-07 JSON Schema: %v", err)
	}
	return &Schema{compiled: compiled, stringFields: stringProperties(top)}, nil
}

// IsStringField reports whether the schema types the top-level property name
// as a string.
func (s *Schema) IsStringField(name string) bool { return s.stringFields[name] }

func stringProperties(top map[string]any) map[string]bool {
	out := make(map[string]bool)
	props, _ := top["properties"].(map[string]any)
	for name, p := range props {
		sub, _ := p.(map[string]any)
		switch t := sub["type"].(type) {
		case string:
			out[name] = t == "string"
			continue
		case []any:
			// ["string","null"]: a query can only give the string (null is
			// the parameter's absence).
			for _, v := range t {
				if v == "string" {
					out[name] = true
				}
			}
			continue
		}
		if enum, ok := sub["enum"].([]any); ok && len(enum) > 0 {
			all := true
			for _, v := range enum {
				if _, ok := v.(string); !ok {
					all = false
				}
			}
			out[name] = all
		}
	}
	return out
}

// Validate checks a document jsonscan parsed, returning every violation.
// The validator reads that value itself, so there is no second parse to
// disagree with the first: the fast path reads the tree, gojsonschema the
// same tree as maps.
func (s *Schema) Validate(doc jsonscan.Value) []Violation {
	if s.fast != nil {
		if vs, ok := validateFast(s.fast, doc); ok {
			return vs
		}
	}
	return s.validateSlow(doc.Any())
}

// validateSlow validates doc with gojsonschema.
func (s *Schema) validateSlow(doc any) []Violation {
	res, err := s.compiled.Validate(decoded{doc})
	if err != nil {
		return []Violation{{Message: "cannot be validated: " + err.Error()}}
	}
	if res.Valid() {
		return nil
	}
	errs := res.Errors()
	fs := make([]failure, len(errs))
	for i, e := range errs {
		fs[i] = failure{path: fieldPath(e), msg: message(e), broad: general[e.Type()]}
	}
	return reduce(fs)
}

// decoded hands gojsonschema a value that is already decoded.
type decoded struct{ v any }

func (d decoded) JsonSource() any        { return d.v }
func (d decoded) LoadJSON() (any, error) { return d.v, nil }
func (d decoded) JsonReference() (gojsonreference.JsonReference, error) {
	return gojsonreference.NewJsonReference("#")
}
func (d decoded) LoaderFactory() gojsonschema.JSONLoaderFactory {
	return gojsonschema.DefaultJSONLoaderFactory{}
}

// general errors report that a branch or a negation failed; more specific
// errors usually say why, so these are kept only when nothing more specific
// was reported at or beneath their path.
var general = map[string]bool{
	"number_any_of": true, "number_one_of": true, "number_all_of": true,
	"condition_then": true, "condition_else": true, "number_not": true,
}

// reduce turns errors into violations: each once, the general ones only
// where nothing more specific was found.
func reduce(fs []failure) []Violation {
	seen := make(map[Violation]bool)
	var specific, broad []Violation
	for _, f := range fs {
		v := Violation{Path: f.path, Message: f.msg}
		if seen[v] {
			continue
		}
		seen[v] = true
		if f.broad {
			broad = append(broad, v)
		} else {
			specific = append(specific, v)
		}
	}
	for _, g := range broad {
		covered := false
		for _, s := range specific {
			if g.Path == "" || s.Path == g.Path || strings.HasPrefix(s.Path, g.Path+".") || strings.HasPrefix(s.Path, g.Path+"[") {
				covered = true
				break
			}
		}
		if !covered {
			specific = append(specific, g)
		}
	}
	return specific
}

// pathSep separates path segments while they are split apart again; a key
// can only contain a NUL through a \u0000 escape, which no bucket API allows.
const pathSep = "\x00"

// fieldPath renders gojsonschema's context as a.b[0].c. Errors about a
// property (required, not allowed) point at that property.
func fieldPath(e gojsonschema.ResultError) string {
	segs := strings.Split(e.Context().String(pathSep), pathSep)
	if len(segs) > 0 && segs[0] == gojsonschema.STRING_CONTEXT_ROOT {
		segs = segs[1:]
	}
	if withProperty(e.Type()) {
		if p, ok := e.Details()["property"].(string); ok {
			segs = append(segs, p)
		}
	}
	return renderPath(segs)
}

// withProperty reports whether errors of type typ are about a property of
// the object at their context.
func withProperty(typ string) bool {
	return typ == "required" || typ == "additional_property_not_allowed"
}

// renderPath writes path segments as a.b[0].c.
func renderPath(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		if isIndex(s) {
			b.WriteString("[" + s + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// message words a failure from its type and the schema's own limits. It never
// uses gojsonschema's descriptions, some of which quote the submitted value.
func message(e gojsonschema.ResultError) string { return messageFor(e.Type(), e.Details()) }

// messageFor words an error of type typ with details d.
func messageFor(typ string, d map[string]any) string {
	switch typ {
	case "required":
		return "is required"
	case "additional_property_not_allowed":
		return "is not an allowed field"
	case "invalid_type":
		return fmt.Sprintf("must be of type %v", d["expected"])
	case "enum":
		return "must be one of " + allowed(d["allowed"])
	case "const":
		return "must be " + allowed(d["allowed"])
	case "string_gte":
		return fmt.Sprintf("must be at least %v characters long", d["min"])
	case "string_lte":
		return fmt.Sprintf("must be at most %v characters long", d["max"])
	case "pattern":
		return "does not have the required form"
	case "format":
		return fmt.Sprintf("must be a valid %v", d["format"])
	case "number_gte":
		return fmt.Sprintf("must be at least %v", d["min"])
	case "number_gt":
		return fmt.Sprintf("must be greater than %v", d["min"])
	case "number_lte":
		return fmt.Sprintf("must be at most %v", d["max"])
	case "number_lt":
		return fmt.Sprintf("must be less than %v", d["max"])
	case "multiple_of":
		return fmt.Sprintf("must be a multiple of %v", d["multiple"])
	case "array_min_items":
		return fmt.Sprintf("must have at least %v items", d["min"])
	case "array_max_items":
		return fmt.Sprintf("must have at most %v items", d["max"])
	case "unique":
		return "must not repeat items"
	case "array_min_properties":
		return fmt.Sprintf("must have at least %v entries", d["min"])
	case "array_max_properties":
		return fmt.Sprintf("must have at most %v entries", d["max"])
	case "invalid_property_name":
		return "has a key that is not allowed"
	case "number_not":
		return "has a reserved or forbidden form"
	case "false":
		return "is not allowed"
	default:
		return "is not valid"
	}
}

func allowed(v any) string {
	s := fmt.Sprint(v)
	// gojsonschema renders the allowed list as a JSON-ish string already.
	return strings.NewReplacer(`"`, "", "[", "", "]", "").Replace(s)
}
