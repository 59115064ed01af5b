package gateway

import (
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/module/auth"
	"github.com/bucketgate/bucketgate/module/dialect"
)

// maxMergeAttempts bounds how often a translated update reads, merges and
// writes again after another writer changed the bucket in between; past it
// the client gets the upstream's conflict.
const maxMergeAttempts = 5

// updateAcross is the translate step and what follows it, when the client's
// API is not the upstream's: the update becomes a neutral change, is written
// as the upstream's update against the bucket as it stands, and the answer
// comes back in the client's terms. The whole exchange holds the bucket's
// lock, so updates through this gateway (and, when the upstream's revisions
// are derived, through every instance sharing its storage) never interleave.
func (h *Handler) updateAcross(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, u *dialect.Update, who *caller, pre precondition, d *decision) error {
	change := h.clientTr.ToChange(u)
	locked, unlock, derr := h.lockUpdate(r, d.bucketID)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	defer unlock()
	r = locked
	for attempt := 1; ; attempt++ {
		current, derr := h.readBucket(r, next, d.bucketID)
		if derr != nil {
			return h.refuse(w, d, derr)
		}
		if derr := authoriseWorkspace(who, current, change.Workspace.Value, change.Workspace.Set); derr != nil {
			return h.refuse(w, d, derr)
		}
		if pre.set && current.Revision != pre.rev {
			return h.refuse(w, d, stale(pre))
		}
		out, vs := h.upstreamTr.FromChange(change, current)
		if len(vs) > 0 {
			return h.refuse(w, d, dialect.Invalid(vs))
		}
		if out == nil {
			// Nothing the upstream keeps would change (say, bucketType
			// allPrivate on a bucket that is private): answer as it stands.
			d.outcome = "unchanged"
			return h.answerAcross(w, current)
		}
		if derr := h.upstream.Validate(out); derr != nil {
			derr.Message = "the translated update is not valid upstream: " + derr.Message
			return h.refuse(w, d, derr)
		}
		ans, derr := h.callUpstream(r, next, func(dialect.Grant) *dialect.Error { return h.outbound(r, out) })
		if derr != nil {
			if ans != nil && ans.sent {
				derr = mayHaveApplied(derr)
			}
			return h.failUpstream(w, d, derr)
		}
		d.forwarded(ans.status)
		body := h.scrubAnswer(ans)
		switch refusal := h.upstreamTr.UpstreamError(ans.status, body); {
		case ans.status >= 200 && ans.status < 300:
			updated, ok := h.upstreamTr.UpdatedBucket(body)
			if !ok {
				if updated, derr = h.readBucket(r, next, d.bucketID); derr != nil {
					// Applied upstream; only the new revision is unknown.
					h.logger.Warn("could not read the bucket back after a translated update", zap.String("bucket_id", d.bucketID), zap.String("reason", derr.Message))
					h.clientTr.WriteUpdated(w, current)
					return nil
				}
			}
			return h.answerAcross(w, updated)
		case refusal.Kind == dialect.Conflict && pre.set:
			return h.refuse(w, d, stale(pre))
		case refusal.Kind == dialect.Conflict && attempt < maxMergeAttempts:
			// Another writer changed the bucket after it was read; nothing was
			// written, so read it again and merge onto its new state.
			h.logger.Info("bucket changed upstream during a translated update; merging again",
				zap.String("bucket_id", d.bucketID), zap.Int("attempt", attempt))
			if derr := backoff(r, attempt); derr != nil {
				return h.refuse(w, d, derr)
			}
			continue
		default:
			return h.refuse(w, d, refusal)
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
		return dialect.Errorf(dialect.UpstreamFailed, "the client went away")
	}
}

// answerAcross answers the client's update with the bucket's state, and its
// revision as the ETag.
func (h *Handler) answerAcross(w http.ResponseWriter, b dialect.Bucket) error {
	w.Header().Set("ETag", etag(b.Revision))
	h.clientTr.WriteUpdated(w, b)
	return nil
}

// stale refuses an update whose precondition names another revision, in
// the form the client asked with: 412 for If-Match, the API's own conflict
// for its own revision field (B2's ifRevisionIs).
func stale(pre precondition) *dialect.Error {
	if pre.ifMatch {
		return errStale
	}
	return dialect.Errorf(dialect.Conflict, "ifRevisionIs does not match the bucket's current revision")
}

// listAcross answers a list call with the upstream's buckets in the
// client's terms, less those the key may not use or see.
func (h *Handler) listAcross(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, call dialect.Call, d *decision) error {
	who, u, derr := h.listCall(w, r, call, d)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	buckets, derr := h.readBuckets(r, next)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	var visible []dialect.Bucket
	for _, b := range buckets {
		if b.AccountID == "" {
			b.AccountID = translatedAccount
		}
		if who.mayUseBucket(b.ID) && who.key.Role(b.Workspace) >= auth.RoleRead && h.accounts.ListMatches(u, b) {
			visible = append(visible, b)
		}
	}
	d.outcome = "answered"
	h.accounts.WriteBuckets(w, visible)
	return nil
}
