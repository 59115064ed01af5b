package b2

import (
	"net/url"
	"sort"
	"strings"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// fromQuery builds the update document from GET query parameters, as B2
// documents ("convert the body parameters to query parameters"). A parameter
// the schema types as a string is taken as is; any other is JSON text
// (ifRevisionIs=3, fileLockEnabled=true, bucketInfo={"k":"v"}), decoded with
// the same strict scanner as a body. The result then meets the same schema.
// isString says which parameters the call's schema types as strings.
func (d *Dialect) fromQuery(raw string, isString func(string) bool) (map[string]any, *dialect.Error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, dialect.NewError(dialect.BadRequest, "query string is not valid URL encoding")
	}
	doc := make(map[string]any, len(q))
	var vs []dialect.Violation
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		values := q[name]
		if len(values) > 1 {
			vs = append(vs, dialect.Violation{Path: name, Message: "is given more than once"})
			continue
		}
		if isString(name) {
			doc[name] = values[0]
			continue
		}
		v, err := jsonscan.Decode([]byte(values[0]), d.limits)
		if err != nil {
			vs = append(vs, dialect.Violation{Path: name, Message: "must be JSON text in a query parameter (" + reason(err) + ")"})
			continue
		}
		doc[name] = v
	}
	if len(vs) > 0 {
		return nil, dialect.Invalid(vs)
	}
	return doc, nil
}

// reason keeps the scanner's explanation but not its offsets, which refer to
// the parameter rather than the request.
func reason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, " (byte"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
