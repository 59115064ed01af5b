package gateway

import (
	"strconv"
	"testing"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// celExpressions read a document every way a policy can: members present,
// absent and null, optional fields, sizes, iteration, indexing, equality,
// membership and concatenation, numbers of both kinds.
var celExpressions = []string{
	`has(request.a)`,
	`has(request.a.b)`,
	`request.?a.b.orValue(0) == 1`,
	`size(request) > 1`,
	`request.all(k, k.size() < 3)`,
	`request.exists(k, k == 'n')`,
	`'a' in request`,
	`has(request.l) && size(request.l) > 0 && request.l[0] == 1`,
	`has(request.l) && request.l.exists(x, x == 'x')`,
	`has(request.l) && 2.5 in request.l`,
	`has(request.l) && request.l + [1] == request.l + [1]`,
	`has(request.l) && request.l.all(x, type(x) == int || type(x) == double || type(x) == string || type(x) == map || type(x) == list || type(x) == bool)`,
	`request == request`,
	`has(request.a) && request.a == {'b': 1}`,
	`has(request.n) && request.n > 2`,
	`has(request.n) && request.n == 3.0`,
	`has(request.s) && request.s.startsWith('x')`,
	`request.map(k, k).size() == size(request)`,
	`has(request.ls) && request.ls.join(',') == 'a,b'`,
}

// FuzzCELJSON: a policy reads a write's document the same whether CEL is
// handed the lazy values over the parsed tree (celJSON) or the whole
// document converted into Go values, as CEL would be without them.
func FuzzCELJSON(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"ls":["a","b"],"a":{"ls":["c"]}}`,
		`{"a":{"b":1},"n":3,"s":"xy","l":[1,2.5,"x",{"a":null},[true]]}`,
		`{"a":null,"n":null,"l":[]}`,
		`{"a":{"b":1.0},"n":3.0,"l":[null]}`,
		`{"n":1e300,"a":{"b":"1"},"s":"","l":[1e2,-0,9223372036854775808]}`,
	} {
		f.Add(seed)
	}
	var policies []Policy
	for _, e := range celExpressions {
		policies = append(policies, Policy{Name: "p" + strconv.Itoa(len(policies)), Expression: e})
	}
	h, _ := newHandler(f, &Handler{API: "b2", Policies: policies})
	f.Fuzz(func(t *testing.T, doc string) {
		tree, err := jsonscan.Parse([]byte(doc), jsonscan.DefaultLimits)
		if err != nil || tree.Type() != jsonscan.Object {
			return
		}
		native, _ := tree.Native(true).(map[string]any)
		lazy := h.policyVariables(dialect.OpUpdate, celJSON(tree), nil, celValue(emptyPrincipal("test")))
		whole := h.policyVariables(dialect.OpUpdate, native, nil, celValue(emptyPrincipal("test")))
		for i, p := range h.policies {
			got, _ := evaluate(p.metered, lazy)
			want, _ := evaluate(p.metered, whole)
			if got != want {
				t.Errorf("%s over %s: %s, converted whole %s", celExpressions[i], doc, got, want)
			}
		}
	})
}
