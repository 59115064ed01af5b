package dialect

import (
	"math"
	"slices"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// Document is the JSON document of a call the gateway judges: a write to a
// bucket's configuration (a creation, an update, a deletion) or a list
// call, with the call it came with. It has two forms, and exactly one is
// current at a time: the tree Parse made of the body (Tree), which
// validation and the lookups below read without building a map or boxing a
// value, and a map (Doc), made only when something needs the document whole
// or edits it. Once the map exists it is current; the body it encodes to is
// what is sent, and Tree parses that encoding again, so what is validated is
// always what reaches the upstream.
type Document struct {
	Call Call
	// raw is the body to send: as received, or the map as last encoded.
	raw []byte
	// tree is raw parsed; the zero Value until needed for a built document.
	tree jsonscan.Value
	// doc is the document as a map, nil until needed.
	doc map[string]any
	// edited is set while doc holds changes raw does not.
	edited bool
}

// NewDocument returns the document of the body raw, which Parse read as tree.
// An unedited document reaches the upstream byte for byte as received.
func NewDocument(call Call, tree jsonscan.Value, raw []byte) *Document {
	return &Document{Call: call, raw: raw, tree: tree}
}

// BuildDocument returns a document that was built rather than
// received, such as one made from a query string or by translation.
func BuildDocument(call Call, doc map[string]any) *Document {
	return &Document{Call: call, doc: doc, edited: true}
}

// Map returns the document as a map, making it on first use; edits go
// through Set.
func (u *Document) Map() map[string]any {
	if u.doc == nil {
		u.doc, _ = u.tree.Any().(map[string]any)
		if u.doc == nil {
			u.doc = map[string]any{}
		}
	}
	return u.doc
}

// Tree returns the document as it will be sent, as a tree. After an edit
// that means encoding it and parsing the encoding; the zero Value when it
// cannot be encoded, which no schema accepts.
func (u *Document) Tree() jsonscan.Value {
	if u.edited && u.encode() != nil {
		return jsonscan.Value{}
	}
	if !u.tree.Exists() {
		// The gateway's own encoding of a document it decoded or built:
		// JSON by construction, so only the limits could refuse it, and
		// these are wider than any decoded or built document needs.
		u.tree, _ = jsonscan.Parse(u.raw, reparseLimits)
	}
	return u.tree
}

var reparseLimits = jsonscan.Limits{MaxDepth: 64, MaxNumberLen: 64}

// Set changes one top-level field of the document.
func (u *Document) Set(field string, v any) {
	u.Map()[field] = v
	u.edited = true
}

// Str returns top-level field name when it is a string.
func (u *Document) Str(name string) (string, bool) {
	if u.doc != nil {
		s, ok := u.doc[name].(string)
		return s, ok
	}
	return u.tree.Get(name).Str()
}

// Has reports whether top-level field name is present, null included.
func (u *Document) Has(name string) bool {
	if u.doc != nil {
		_, ok := u.doc[name]
		return ok
	}
	return u.tree.Get(name).Exists()
}

// Given reports whether top-level field name is present and not null: the
// bucket APIs read a null as the field's absence.
func (u *Document) Given(name string) bool {
	if u.doc != nil {
		return u.doc[name] != nil
	}
	return u.tree.Get(name).Given()
}

// Get returns top-level field name as Value.Any gives it, nil when absent.
func (u *Document) Get(name string) any {
	if u.doc != nil {
		return u.doc[name]
	}
	return u.tree.Get(name).Any()
}

// Fields returns the names of the top-level fields present, sorted.
func (u *Document) Fields() []string {
	var names []string
	if u.doc != nil {
		names = make([]string, 0, len(u.doc))
		for k := range u.doc {
			names = append(names, k)
		}
	} else {
		names = make([]string, 0, u.tree.Len())
		for k := range u.tree.Members() {
			name, _ := k.Str()
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Body returns the JSON to send upstream: the received bytes when the
// document is unchanged, otherwise the document encoded afresh.
func (u *Document) Body() ([]byte, error) {
	if u.edited {
		if err := u.encode(); err != nil {
			return nil, err
		}
	}
	return u.raw, nil
}

// Size is the length, in bytes, of the document as it will be sent: no
// list, map or string in it holds more values than that. A document that
// cannot be encoded has no bound.
func (u *Document) Size() int {
	if u.edited && u.encode() != nil {
		return math.MaxInt
	}
	return len(u.raw)
}

// encode makes the map the body to send.
func (u *Document) encode() error {
	raw, err := Encode(u.doc)
	if err != nil {
		return err
	}
	u.tree.Release()
	u.raw, u.tree, u.edited = raw, jsonscan.Value{}, false
	return nil
}

// Release gives the document's parsed tree back for the next request's
// (jsonscan.Value.Release). The document must not be used afterwards; what
// was read from it (strings, the body) stays valid.
func (u *Document) Release() {
	u.tree.Release()
	u.tree = jsonscan.Value{}
}
