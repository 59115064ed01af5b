package gateway

import (
	"math/rand/v2"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/module/dialect"
)

// update is the pipeline, in the order it runs: authenticate → read →
// validate → authorise → precondition → (state) → write → answer. Each step
// either yields what the next needs or a refusal that the client's dialect
// renders; nothing is written before the end.
func (h *Handler) update(x *exchange) error {
	// Credentials first: a body is read only for a caller the gateway
	// could not already refuse, and nothing of it is logged otherwise.
	who, derr := h.authenticate(x.r)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.who = who
	x.verified(who.id())

	read := func() ([]byte, *dialect.Error) { return readBody(x.w, x.r, h.MaxBodySize) }
	u, derr := h.client.Decode(x.r, x.call, read)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.u = u
	x.d.bucketID, x.d.fields = h.client.BucketID(u), u.Fields()

	if derr := h.client.Validate(u); derr != nil {
		return h.refuse(x, derr)
	}

	if derr := h.authorise(who, u); derr != nil {
		return h.refuse(x, derr)
	}
	if derr := h.sameAccount(x); derr != nil {
		return h.refuse(x, derr)
	}

	if x.pre, derr = h.precondition(x.r, u); derr != nil {
		return h.refuse(x, derr)
	}

	if h.translating() {
		return h.writeTranslated(x)
	}
	return h.write(x)
}

// write sends an update of the upstream's own API: as validated, after the
// state step where the gateway derives revisions itself.
func (h *Handler) write(x *exchange) error {
	if x.who.remembered != nil {
		routeTo(x.r, x.who.remembered.APIURL)
	}
	if derr := h.outbound(x.r, x.u); derr != nil {
		return h.refuse(x, derr)
	}
	if h.upstream.derived != nil {
		// The gateway compares derived revisions itself, so no other update
		// of this bucket, through this process or another instance, may come
		// between the check, the write and the read of the new revision.
		unlock, derr := h.lockUpdate(x)
		if derr != nil {
			return h.refuse(x, derr)
		}
		defer unlock()
		if x.pre.set || x.who.key != nil {
			target, moves := h.upstream.derived.MovesTo(x.u)
			if _, derr := h.checkState(x, target, moves); derr != nil {
				return h.refuse(x, derr)
			}
		}
	}
	return h.send(x)
}

// outbound makes r the upstream call carrying u, an update of the
// upstream's API (the client's own, unless translating), as it now stands.
func (h *Handler) outbound(r *http.Request, u *dialect.Update) *dialect.Error {
	out, err := u.Body()
	if err != nil {
		return dialect.NewError(dialect.BadRequest, "update cannot be encoded")
	}
	h.upstream.Outbound(r, u, out)
	prepareUpstream(r)
	return nil
}

// send passes the validated update to next and answers the client from what
// comes back: the upstream's answer with an ETag on success, a failed
// revision test as 412 when the client asked with If-Match, and anything
// else as the upstream sent it.
func (h *Handler) send(x *exchange) error {
	var ans *answer
	var derr *dialect.Error
	if h.Mode == modeGateway {
		ans, derr = h.callUpstream(x, x.r, func(g dialect.Grant) *dialect.Error {
			if h.upstream.scopes != nil {
				h.upstream.scopes.SetAccount(x.u, g.AccountID)
			}
			return h.outbound(x.r, x.u)
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
	x.d.forwarded(ans.status)
	body := h.scrubAnswer(ans)
	if derr := h.upstream.CheckAnswer(ans.status, body); derr != nil {
		if ans.status >= 200 && ans.status < 300 {
			derr.Message += "; it reported success, so the update was most likely applied: read the bucket before retrying"
		}
		return h.failUpstream(x, derr)
	}
	ans.header.Del("Etag")
	switch {
	case ans.status == http.StatusOK:
		if rev, ok := h.revisionAfter(x, body); ok {
			ans.header.Set("ETag", etag(rev))
		}
		if x.who.key != nil && h.upstream.scopes != nil {
			if filtered, err := h.upstream.scopes.FilterBucket(body, x.who.key.Has); err == nil {
				body = filtered
			}
		}
	case x.pre.ifMatch && h.upstream.native != nil && h.upstream.native.IsConflict(ans.status, body):
		return h.refuse(x, errStale)
	}
	return ans.writeTo(x.w, body)
}

// mayHaveApplied says, on a failure after the update was sent, that the
// client cannot know whether it was applied; retrying blindly could apply
// it twice.
func mayHaveApplied(e *dialect.Error) *dialect.Error {
	return &dialect.Error{Kind: e.Kind, Fields: e.Fields, Cause: e.Cause,
		Message: e.Message + "; the update may or may not have been applied: read the bucket before retrying"}
}

// revisionAfter finds the bucket's revision after a successful update: in
// the answer where the API reports it, otherwise by reading the bucket again.
// Not finding it leaves the answer without an ETag rather than failing an
// update the upstream has applied.
func (h *Handler) revisionAfter(x *exchange, body []byte) (int64, bool) {
	if h.upstream.native != nil {
		return h.upstream.native.ResponseRevision(body)
	}
	if h.upstream.derived == nil {
		return 0, false
	}
	state, derr := h.readBucket(x, x.d.bucketID)
	if derr != nil {
		h.logger.Warn("could not read the bucket's revision after an update", zap.String("bucket_id", x.d.bucketID), zap.String("reason", derr.Message))
		return 0, false
	}
	return state.Revision, true
}

// maxMergeAttempts bounds how often a translated update reads, merges and
// writes again after another writer changed the bucket in between; past it
// the client gets the upstream's conflict.
const maxMergeAttempts = 5

// writeTranslated is the translate step and what follows it, when the
// client's API is not the upstream's: the update becomes a neutral change,
// is written as the upstream's update against the bucket as it stands, and
// the answer comes back in the client's terms. The whole exchange holds the
// bucket's lock, so updates through this gateway (and, when the upstream's
// revisions are derived, through every instance sharing its storage) never
// interleave.
func (h *Handler) writeTranslated(x *exchange) error {
	change := h.client.translator.ToChange(x.u)
	unlock, derr := h.lockUpdate(x)
	if derr != nil {
		return h.refuse(x, derr)
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		current, derr := h.checkState(x, change.Workspace.Value, change.Workspace.Set)
		if derr != nil {
			return h.refuse(x, derr)
		}
		out, vs := h.upstream.translator.FromChange(change, current)
		if len(vs) > 0 {
			return h.refuse(x, dialect.Invalid(vs))
		}
		if out == nil {
			// Nothing the upstream keeps would change (say, bucketType
			// allPrivate on a bucket that is private): answer as it stands.
			x.d.outcome = outcomeUnchanged
			return h.answerTranslated(x, current)
		}
		if derr := h.upstream.Validate(out); derr != nil {
			derr.Message = "the translated update is not valid upstream: " + derr.Message
			return h.refuse(x, derr)
		}
		ans, derr := h.callUpstream(x, x.r, func(dialect.Grant) *dialect.Error { return h.outbound(x.r, out) })
		if derr != nil {
			if ans != nil && ans.sent {
				derr = mayHaveApplied(derr)
			}
			return h.failUpstream(x, derr)
		}
		x.d.forwarded(ans.status)
		body := h.scrubAnswer(ans)
		switch refusal := h.upstream.translator.UpstreamError(ans.status, body); {
		case ans.status >= 200 && ans.status < 300:
			updated, ok := h.upstream.translator.UpdatedBucket(body)
			if !ok {
				if updated, derr = h.readBucket(x, x.d.bucketID); derr != nil {
					// Applied upstream; only the new revision is unknown.
					h.logger.Warn("could not read the bucket back after a translated update", zap.String("bucket_id", x.d.bucketID), zap.String("reason", derr.Message))
					h.client.translator.WriteUpdated(x.w, current)
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

// answerTranslated answers the client's update with the bucket's state, and
// its revision as the ETag.
func (h *Handler) answerTranslated(x *exchange, b dialect.Bucket) error {
	x.w.Header().Set("ETag", etag(b.Revision))
	h.client.translator.WriteUpdated(x.w, b)
	return nil
}
