package schema

// Bound is the most a document this schema accepts can hold at path: the
// items of an array, the members of an object or the characters of a
// string the schema allows there (maxItems, maxProperties, maxLength), as
// what an expression over a validated document can cost depends on it.
// path names properties, and "@items", "@keys" and "@values" the items of
// an array and the keys and values of an object, as CEL's cost estimator
// names them. ok is false where the schema sets no bound, or where the
// fast path does not model it (a user's schema, a value under anyOf).
func (s *Schema) Bound(path []string) (uint64, bool) {
	n := s.fast
	for _, seg := range path {
		n = n.resolved()
		if n == nil {
			return 0, false
		}
		switch seg {
		case "@items":
			n = n.items
		case "@values":
			n = n.additional
		case "@keys":
			n = n.propertyNames
		default:
			n = n.property(seg)
		}
	}
	n = n.resolved()
	if n == nil {
		return 0, false
	}
	// Whatever type the value has, each bound it has holds; the largest
	// is the bound of the value.
	var b uint64
	found := false
	for _, lim := range []struct {
		set bool
		max int
	}{{n.hasMaxItems, n.maxItems}, {n.hasMaxProps, n.maxProps}, {n.hasMaxLength, n.maxLength}} {
		if lim.set {
			b, found = max(b, uint64(lim.max)), true
		}
	}
	// A value the schema does not type, or types without a bound for one
	// of its types, is unbounded.
	if !n.typed || n.tArr && !n.hasMaxItems || n.tObj && !n.hasMaxProps || n.tString && !n.hasMaxLength {
		return 0, false
	}
	return b, found
}

// resolved is n after its $ref, nil when nothing is known of it.
func (n *node) resolved() *node {
	for n != nil && n.ref != nil {
		n = n.ref
	}
	return n
}

// property is the schema of n's property name: its own, or the schema of
// the properties n does not name.
func (n *node) property(name string) *node {
	for _, p := range n.props {
		if p.name == name {
			return p.n
		}
	}
	return n.additional
}
