package gateway

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// write is the pipeline of every write to a bucket's configuration, a
// creation, an update or a deletion, in the order it runs: authenticate →
// read → validate (the operation's contract) → authorise → the operator's
// policies → precondition → then writeNative (the upstream's own API) or
// writeTranslated (another API): the bucket's lock and its current state
// where the gateway needs them, the send, and the answer. Policies that
// read the bucket run once it is read, under its lock (readCurrent). Each step either yields what the next
// needs or a refusal that the client's dialect renders; nothing is written
// to the client before the end.
func (h *Handler) write(x *exchange) error {
	// Credentials first: a body is read only for a caller the gateway
	// could not already refuse, and nothing of it is logged otherwise.
	who, derr := h.authenticate(x.r)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.who = who
	x.verified(who.id())

	read := func() ([]byte, *dialect.Error) { return readBody(x.w, x.r, h.MaxBodySize) }
	doc, derr := h.clientSide.Decode(x.r, x.call, read)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.doc = doc
	x.d.bucketID, x.d.fields = h.clientSide.BucketID(doc), doc.Fields()

	if derr := h.clientSide.Validate(doc); derr != nil {
		return h.refuse(x, derr)
	}

	if derr := h.authorise(x); derr != nil {
		return h.refuse(x, derr)
	}

	if op := doc.Call.Op; op == dialect.OpCreate || !h.readsBucket(op) {
		if derr := h.judge(x, nil); derr != nil {
			return h.refuse(x, derr)
		}
	}

	if x.pre, derr = h.precondition(x.r, doc); derr != nil {
		return h.refuse(x, derr)
	}

	if h.translating() {
		return h.writeTranslated(x)
	}
	return h.writeNative(x)
}

// readBody reads the whole request body, refusing it cheaply when it is
// over the limit: by its declared length before reading anything, and by
// counting otherwise (chunked bodies declare none).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *dialect.Error) {
	if r.ContentLength > limit {
		return nil, bodyTooLarge(limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	// A declared length sizes the buffer once (one byte more, so the read
	// that finds the end needs no room); otherwise it grows as io.ReadAll's.
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, limit), make([]byte, 0, size))
	_ = r.Body.Close()
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, bodyTooLarge(limit)
		}
		return nil, dialect.NewError(dialect.BadRequest, "request body could not be read")
	}
	return body, nil
}

// readAll is io.ReadAll into buf.
func readAll(rd io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func bodyTooLarge(limit int64) *dialect.Error {
	return dialect.NewError(dialect.TooLarge, fmt.Sprintf("request body is larger than the %d bytes allowed", limit))
}

// writeNative sends a write of the upstream's own API as validated. Where
// the gateway derives revisions (Flashback), an update or a deletion holds
// the bucket's lock: no other write of the bucket, through this process or
// another instance, may come between the check, the write and the read of
// the new revision; under it the bucket is read (readCurrent) for the
// client's precondition, a gateway key's workspace grants and the policies
// that read the bucket. A B2 deletion with If-Match, which B2 cannot make
// conditional itself, is checked the same way, and a B2 write a policy
// reads the bucket for reads it first (B2 compares revisions itself, so no
// lock). A creation has no bucket to lock or read; its grants were checked
// from its body.
func (h *Handler) writeNative(x *exchange) error {
	if x.who.remembered != nil {
		routeTo(x.r, x.who.remembered.APIURL)
	}
	if derr := h.outbound(x.r, x.doc); derr != nil {
		return h.refuse(x, derr)
	}
	op := x.doc.Call.Op
	if op == dialect.OpCreate {
		return h.send(x)
	}
	derived, conditionalDelete := h.upstreamSide.derived != nil, op == dialect.OpDelete && x.pre.set
	if derived || conditionalDelete {
		unlock, derr := h.lockUpdate(x)
		if derr != nil {
			return h.refuse(x, derr)
		}
		defer unlock()
	}
	if derived && (x.pre.set || x.who.key != nil) || conditionalDelete || !x.judged {
		var target string
		var moves bool
		if op == dialect.OpUpdate && h.upstreamSide.workspaces != nil {
			target, moves = h.upstreamSide.workspaces.Workspace(x.doc)
		}
		if _, derr := h.readCurrent(x, target, moves); derr != nil {
			return h.refuse(x, derr)
		}
	}
	return h.send(x)
}

// outbound makes r the upstream call carrying u, a write of the upstream's
// API (the client's own, unless translating), as it now stands.
func (h *Handler) outbound(r *http.Request, u *dialect.Document) *dialect.Error {
	out, err := u.Body()
	if err != nil {
		return dialect.NewError(dialect.BadRequest, "the write cannot be encoded")
	}
	h.upstreamSide.Outbound(r, u, out)
	prepareUpstream(r)
	return nil
}

// send passes the validated write to next and answers the client from what
// comes back: the upstream's answer, with the bucket's revision as an ETag
// after a creation or an update, a failed revision test as 412 when the
// client asked with If-Match, and anything else as the upstream sent it.
func (h *Handler) send(x *exchange) error {
	var ans *answer
	var derr *dialect.Error
	if h.Mode == modeGateway {
		ans, derr = h.callUpstream(x, x.r, func(g dialect.Grant) *dialect.Error {
			if h.upstreamSide.scopes != nil {
				h.upstreamSide.scopes.SetAccount(x.doc, g.AccountID)
			}
			return h.outbound(x.r, x.doc)
		})
	} else {
		ans, derr = h.roundTrip(x.next, x.r)
	}
	if derr != nil {
		if ans != nil && ans.sent {
			derr = mayHaveApplied(derr)
		}
		return h.failUpstream(x, derr)
	}
	// Everything below is done with the answer when send returns: its body
	// is written to the client (which copies it) or replaced by a refusal.
	defer ans.release()
	x.d.forwarded(ans.status)
	read := h.read(ans)
	if derr := h.upstreamSide.CheckAnswer(read); derr != nil {
		return h.failUpstream(x, reportedSuccess(read, derr))
	}
	ans.header.Del("Etag")
	body := read.Body
	op := x.doc.Call.Op
	switch {
	case ans.status == http.StatusOK:
		if op == dialect.OpCreate {
			x.d.bucketID = h.upstreamSide.WrittenID(read)
		}
		if op != dialect.OpDelete {
			rev, ok, derr := h.revisionAfter(x, read)
			if derr != nil {
				return h.failUpstream(x, reportedSuccess(read, derr))
			}
			if ok {
				ans.header.Set("ETag", etag(rev))
			}
		}
		if x.who.key != nil && h.upstreamSide.scopes != nil {
			// What the key may not read never leaves: an answer that cannot
			// be filtered is not relayed.
			if body, derr = h.upstreamSide.scopes.FilterBucket(read, x.who.key.Has); derr != nil {
				return h.failUpstream(x, reportedSuccess(read, derr))
			}
		}
	case x.pre.ifMatch && h.upstreamSide.native != nil && h.upstreamSide.native.IsConflict(read):
		return h.refuse(x, errStale)
	}
	return ans.writeTo(x.w, body)
}

// reportedSuccess adds, to the refusal of an answer that said the write
// succeeded, that it most likely was applied.
func reportedSuccess(a *dialect.Answer, e *dialect.Error) *dialect.Error {
	if a.Status < 200 || a.Status >= 300 {
		return e
	}
	return &dialect.Error{Kind: e.Kind, Fields: e.Fields, Cause: e.Cause,
		Message: e.Message + "; it reported success, so the write was most likely applied: read the bucket before retrying"}
}

// mayHaveApplied says, on a failure after the write was sent, that the
// client cannot know whether it was applied; retrying blindly could apply
// it twice.
func mayHaveApplied(e *dialect.Error) *dialect.Error {
	return &dialect.Error{Kind: e.Kind, Fields: e.Fields, Cause: e.Cause,
		Message: e.Message + "; the write may or may not have been applied: read the bucket before retrying"}
}

// revisionAfter finds the bucket's revision after a successful creation or
// update: in the answer where the API reports it (an answer that cannot be
// read is an error), otherwise by reading the bucket again. Not finding it
// by reading again leaves the answer without an ETag rather than failing a
// write the upstream has applied.
func (h *Handler) revisionAfter(x *exchange, a *dialect.Answer) (int64, bool, *dialect.Error) {
	if h.upstreamSide.native != nil {
		return h.upstreamSide.native.ResponseRevision(a)
	}
	if h.upstreamSide.derived == nil || x.d.bucketID == "" {
		return 0, false, nil
	}
	state, derr := h.readBucket(x, x.d.bucketID)
	if derr != nil {
		h.logger.Warn("could not read the bucket's revision after a write", zap.String("bucket_id", x.d.bucketID), zap.String("reason", derr.Message))
		return 0, false, nil
	}
	return state.Revision, true, nil
}

// maxMergeAttempts bounds how often a translated update reads, merges and
// writes again after another writer changed the bucket in between; past it
// the client gets the upstream's conflict.
const maxMergeAttempts = 5

// writeTranslated is the translate step and what follows it, when the
// client's API is not the upstream's: the write becomes a neutral change,
// is written as the upstream's write (an update or a deletion against the
// bucket as it stands, a creation in the upstream's account), and the
// answer comes back in the client's terms. An update or a deletion holds
// the bucket's lock throughout, so writes through this gateway (and, when
// the upstream's revisions are derived, through every instance sharing its
// storage) never interleave.
func (h *Handler) writeTranslated(x *exchange) error {
	change := h.clientSide.translator.ToChange(x.doc)
	if change.Op == dialect.OpCreate {
		return h.createTranslated(x, change)
	}
	unlock, derr := h.lockUpdate(x)
	if derr != nil {
		return h.refuse(x, derr)
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		current, derr := h.readCurrent(x, change.Workspace.Value, change.Workspace.Set)
		if derr != nil {
			return h.refuse(x, derr)
		}
		out, vs := h.upstreamSide.translator.FromChange(change, current)
		if len(vs) > 0 {
			return h.refuse(x, dialect.Invalid(vs))
		}
		if out == nil {
			// Nothing the upstream keeps would change (say, bucketType
			// allPrivate on a bucket that is private): answer as it stands.
			x.d.outcome = outcomeUnchanged
			return h.answerTranslated(x, current)
		}
		ans, refusal, derr := h.sendTranslated(x, out)
		switch {
		case derr != nil:
			return h.failUpstream(x, derr)
		case refusal == nil && change.Op == dialect.OpDelete:
			// The bucket as it was is what a deletion answers with.
			return h.answerTranslated(x, current)
		case refusal == nil:
			updated, ok := h.upstreamSide.translator.UpdatedBucket(ans)
			if !ok {
				if updated, derr = h.readBucket(x, x.d.bucketID); derr != nil {
					// Applied upstream; only the new revision is unknown.
					h.logger.Warn("could not read the bucket back after a translated write", zap.String("bucket_id", x.d.bucketID), zap.String("reason", derr.Message))
					h.clientSide.translator.WriteWritten(x.w, change.Op, current)
					return nil
				}
			}
			return h.answerTranslated(x, updated)
		case refusal.Kind == dialect.Conflict && x.pre.set:
			return h.refuse(x, stale(x.pre))
		case refusal.Kind == dialect.Conflict && attempt < maxMergeAttempts:
			// Another writer changed the bucket after it was read; nothing was
			// written, so read it again and merge onto its new state.
			h.logger.Info("bucket changed upstream during a translated update; merging again",
				zap.String("bucket_id", x.d.bucketID), zap.Int("attempt", attempt))
			if derr := backoff(x.r, attempt); derr != nil {
				return h.refuse(x, derr)
			}
			continue
		default:
			return h.refuse(x, refusal)
		}
	}
}

// createTranslated creates the bucket a translated creation asks for, in
// the upstream's account, and answers with it, as the client's API answers
// a creation.
func (h *Handler) createTranslated(x *exchange, change dialect.Change) error {
	where, derr := h.upstreamContext(x)
	if derr != nil {
		return h.refuse(x, derr)
	}
	out, vs := h.upstreamSide.translator.FromChange(change, where)
	if len(vs) > 0 {
		return h.refuse(x, dialect.Invalid(vs))
	}
	ans, refusal, derr := h.sendTranslated(x, out)
	switch {
	case derr != nil:
		return h.failUpstream(x, derr)
	case refusal != nil:
		return h.refuse(x, refusal)
	}
	created, ok := h.upstreamSide.translator.UpdatedBucket(ans)
	if !ok {
		return h.failUpstream(x, reportedSuccess(ans, dialect.NewError(dialect.UpstreamFailed, "the upstream's answer to the creation cannot be read")))
	}
	x.d.bucketID = created.ID
	return h.answerTranslated(x, created)
}

// sendTranslated sends a translated write, once validated against the
// upstream's own contract, with the gateway's credentials. It returns the
// upstream's answer and, when the upstream refused the write, its refusal
// in neutral terms.
func (h *Handler) sendTranslated(x *exchange, out *dialect.Document) (*dialect.Answer, *dialect.Error, *dialect.Error) {
	if derr := h.upstreamSide.Validate(out); derr != nil {
		derr.Message = "the translated " + opNames[out.Call.Op] + " is not valid upstream: " + derr.Message
		return nil, derr, nil
	}
	ans, derr := h.callUpstream(x, x.r, func(dialect.Grant) *dialect.Error { return h.outbound(x.r, out) })
	if derr != nil {
		if ans != nil && ans.sent {
			derr = mayHaveApplied(derr)
		}
		return nil, nil, derr
	}
	x.d.forwarded(ans.status)
	read := h.read(ans)
	if ans.status >= 200 && ans.status < 300 {
		return read, nil, nil
	}
	return read, h.upstreamSide.translator.UpstreamError(read), nil
}

// backoff waits a little before the next merge attempt, more each time and
// by a random part, so the gateway and another writer that both read and
// write in a loop fall out of step instead of colliding again.
func backoff(r *http.Request, attempt int) *dialect.Error {
	wait := time.Duration(1<<attempt)*time.Millisecond + rand.N(2*time.Millisecond)
	select {
	case <-time.After(wait):
		return nil
	case <-r.Context().Done():
		return dialect.NewError(dialect.UpstreamFailed, "the client went away")
	}
}

// answerTranslated answers the client's write with the bucket's state, and,
// unless it was deleted, its revision as the ETag.
func (h *Handler) answerTranslated(x *exchange, b dialect.Bucket) error {
	op := x.doc.Call.Op
	if op != dialect.OpDelete {
		x.w.Header().Set("ETag", etag(b.Revision))
	}
	h.clientSide.translator.WriteWritten(x.w, op, b)
	return nil
}
