package gateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/bucketgate/bucketgate/module/dialect"
)

// precondition is what the client asked the update to be conditional on.
type precondition struct {
	// rev is the revision the bucket must be at; valid when set is true.
	rev int64
	set bool
	// ifMatch is true when the client used If-Match, so a failed test is
	// answered with 412 as RFC 9110 says, not with the API's own conflict.
	ifMatch bool
}

// precondition reconciles an If-Match header with the API's own revision
// field, makes the result the API's precondition, and enforces
// require_revision.
func (h *Handler) precondition(r *http.Request, u *dialect.Update) (precondition, *dialect.Error) {
	var p precondition
	header, hasHeader, derr := parseIfMatch(r.Header.Values("If-Match"))
	if derr != nil {
		return p, derr
	}
	var bodyRev int64
	var hasBody bool
	if h.native != nil {
		if bodyRev, hasBody, derr = h.native.BodyRevision(u); derr != nil {
			return p, derr
		}
	}
	switch {
	case hasHeader && hasBody && header != bodyRev:
		return p, &dialect.Error{Kind: dialect.BadRequest, Message: "If-Match and ifRevisionIs name different revisions; send one, or the same in both", Fields: []string{"ifRevisionIs"}}
	case hasHeader:
		p = precondition{rev: header, set: true, ifMatch: true}
	case hasBody:
		p = precondition{rev: bodyRev, set: true}
	}
	if p.set && h.native != nil {
		// One spelling upstream: the integer the gateway compared.
		h.native.SetBodyRevision(u, p.rev)
	}
	if h.RequireRevision && !p.set {
		return p, dialect.Errorf(dialect.PreconditionRequired, "this gateway requires a revision precondition: send If-Match with the bucket's ETag, or ifRevisionIs")
	}
	return p, nil
}

// parseIfMatch accepts one strong entity tag holding a revision number, such
// as "3", or "*" (any revision, which sets no precondition). A list of tags
// cannot become one API precondition, and a weak tag never matches under
// If-Match's strong comparison, so both are refused rather than ignored.
func parseIfMatch(values []string) (int64, bool, *dialect.Error) {
	if len(values) == 0 {
		return 0, false, nil
	}
	v := strings.TrimSpace(strings.Join(values, ","))
	if v == "*" {
		return 0, false, nil
	}
	bad := dialect.Errorf(dialect.BadRequest, `If-Match must be one strong entity tag holding the bucket's revision, such as "3" (as sent in ETag)`)
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return 0, false, bad
	}
	digits := v[1 : len(v)-1]
	if strings.Trim(digits, "0123456789") != "" {
		return 0, false, bad
	}
	rev, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || rev < 1 {
		return 0, false, bad
	}
	return rev, true, nil
}

// etag renders a revision as a strong entity tag.
func etag(rev int64) string {
	return `"` + strconv.FormatInt(rev, 10) + `"`
}
