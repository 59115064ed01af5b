// Package schema validates a JSON document, as jsonscan parsed it, against
// a draft-07 JSON Schema, and reports each failure as a field path and a
// message that never quotes the submitted value.
//
// gojsonschema is the engine: it compiles every schema (so a schema that
// does not compile fails to load, naming its file), and it alone validates
// an operator's own schema (Load with a file). The project's built-in
// schemas (Compile) also get a fast path (fast.go), compiled from the same
// schema document, which validates the parsed tree without building maps
// and gives gojsonschema's results: the same checks in the same order, the
// same error types and details, the same anyOf and oneOf scoring, and so
// the same violations. FuzzFastSchema holds the two to each other.
//
// The fast path's limits, each of which falls back to gojsonschema rather
// than guessing:
//   - A schema using id, patternProperties, dependencies, additionalItems,
//     contains, multipleOf or format, a $ref other than to the document's
//     own definitions (#/definitions/name), or a subschema with its own $id,
//     gets no fast path at all.
//   - A document holding a number the fast path cannot read exactly as
//     gojsonschema does (an integer test on a literal beyond int64 and
//     float64's exact range), or a const, enum or uniqueItems value it
//     cannot put in canonical form, is handed to gojsonschema whole.
//   - A pattern is matched by a table (pattern.go) only when it is an
//     anchored run of ASCII character classes with counted repeats, such
//     as ^[A-Za-z0-9_-]{1,50}$; any other pattern runs Go's regexp, as
//     gojsonschema does.
package schema
