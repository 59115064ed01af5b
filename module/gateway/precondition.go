package gateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// The precondition step of a write: what the client asked it to be
// conditional on (If-Match, the API's own revision field, require_revision),
// and, where the gateway compares revisions itself (derived revisions, and
// translated writes), the comparison with the bucket's current revision,
// read under its lock (lock.go).

// precondition is what the client asked the update to be conditional on.
type precondition struct {
	// rev is the revision the bucket must be at; valid when set is true.
	rev int64
	set bool
	// ifMatch is true when the client used If-Match, so a failed test is
	// answered with 412 as RFC 9110 says, not with the API's own conflict.
	ifMatch bool
	// field is the API's own revision field, when the client used it.
	field string
}

// precondition reconciles an If-Match header with the API's own revision
// field, makes the result the API's precondition, and enforces
// require_revision on updates. A deletion may be conditional too (the
// gateway compares the revision itself, just before it deletes); a
// creation has no revision to match, so If-Match on one is refused rather
// than dropped.
func (h *Handler) precondition(r *http.Request, u *dialect.Document) (precondition, *dialect.Error) {
	native := h.clientSide.native
	var p precondition
	header, hasHeader, derr := parseIfMatch(r.Header.Values("If-Match"))
	if derr != nil {
		return p, derr
	}
	if hasHeader && u.Call.Op == dialect.OpCreate {
		return p, dialect.NewError(dialect.BadRequest, "If-Match names a revision, and a bucket being created has none; send the creation without it")
	}
	var bodyRev int64
	var hasBody bool
	if native != nil {
		if bodyRev, hasBody, derr = native.BodyRevision(u); derr != nil {
			return p, derr
		}
	}
	switch {
	case hasHeader && hasBody && header != bodyRev:
		field := native.RevisionField()
		return p, &dialect.Error{Kind: dialect.BadRequest, Message: "If-Match and " + field + " name different revisions; send one, or the same in both", Fields: []string{field}}
	case hasHeader:
		p = precondition{rev: header, set: true, ifMatch: true}
	case hasBody:
		p = precondition{rev: bodyRev, set: true, field: native.RevisionField()}
	}
	if p.set && native != nil {
		// One spelling upstream: the integer the gateway compared.
		native.SetBodyRevision(u, p.rev)
	}
	if h.RequireRevision && !p.set && u.Call.Op == dialect.OpUpdate {
		msg := "this gateway requires a revision precondition: send If-Match with the bucket's ETag"
		if native != nil {
			msg += ", or " + native.RevisionField()
		}
		return p, dialect.NewError(dialect.PreconditionRequired, msg)
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
	bad := dialect.NewError(dialect.BadRequest, `If-Match must be one strong entity tag holding the bucket's revision, such as "3" (as sent in ETag)`)
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return 0, false, bad
	}
	digits := v[1 : len(v)-1]
	if strings.Trim(digits, "0123456789") != "" {
		return 0, false, bad
	}
	// "0" is well formed, as ifRevisionIs 0 is: it names no revision a
	// bucket has, so the test fails (412) rather than the request (400).
	rev, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false, bad
	}
	return rev, true, nil
}

// etag renders a revision as a strong entity tag.
func etag(rev int64) string {
	return `"` + strconv.FormatInt(rev, 10) + `"`
}

// errStale answers an If-Match that names another revision than the bucket's.
var errStale = dialect.NewError(dialect.PreconditionFailed, "If-Match does not match the bucket's current revision; read the bucket again and retry with its ETag")

// stale refuses an update whose precondition names another revision, in
// the form the client asked with: 412 for If-Match, the API's own conflict
// for its own revision field (such as B2's ifRevisionIs).
func stale(pre precondition) *dialect.Error {
	if pre.ifMatch {
		return errStale
	}
	return dialect.NewError(dialect.Conflict, pre.field+" does not match the bucket's current revision")
}

// readCurrent reads the bucket as it stands, under its lock where the write
// takes one, and checks against it, in order, the caller's workspace grants
// (target is where an update moves the bucket, if moves), the operator's
// policies that read it, and the client's precondition. Every write that
// needs the bucket's state reads it here, once.
func (h *Handler) readCurrent(x *exchange, target string, moves bool) (dialect.Bucket, *dialect.Error) {
	state, derr := h.readBucket(x, x.d.bucketID)
	if derr != nil {
		return state, derr
	}
	if h.workspaced() {
		if derr := authoriseWorkspace(x.who, x.doc.Call.Op, state, target, moves); derr != nil {
			return state, derr
		}
	}
	if !x.judged {
		// The policies that read the bucket see it as the client's API
		// describes it.
		bucket := state.Entry
		if h.translating() {
			bucket = h.clientSide.translator.Describe(state)
		}
		if derr := h.judge(x, bucket); derr != nil {
			return state, derr
		}
	}
	if x.pre.set && state.Revision != x.pre.rev {
		return state, stale(x.pre)
	}
	return state, nil
}
