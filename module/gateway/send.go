package gateway

import (
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/module/dialect"
)

// send passes the validated update to next and answers the client from what
// comes back: the upstream's answer with an ETag on success, a failed
// revision test as 412 when the client asked with If-Match, and anything
// else as the upstream sent it.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, u *dialect.Update, who *caller, pre precondition, d *decision) error {
	var ans *answer
	var derr *dialect.Error
	if h.Mode == modeGateway {
		ans, derr = h.callUpstream(r, next, func(g dialect.Grant) *dialect.Error {
			if h.accounts != nil {
				h.accounts.SetAccount(u, g.AccountID)
			}
			return h.outbound(r, u)
		})
	} else {
		ans, derr = h.roundTrip(next, r)
	}
	if derr != nil {
		if ans != nil && ans.sent {
			derr = mayHaveApplied(derr)
		}
		return h.failUpstream(w, d, derr)
	}
	d.forwarded(ans.status)
	body := h.scrubAnswer(ans)
	if derr := h.client.CheckAnswer(ans.status, body); derr != nil {
		if ans.status >= 200 && ans.status < 300 {
			derr.Message += "; it reported success, so the update was most likely applied: read the bucket before retrying"
		}
		return h.failUpstream(w, d, derr)
	}
	ans.header.Del("Etag")
	switch {
	case ans.status == http.StatusOK:
		if rev, ok := h.revisionAfter(r, next, body, d.bucketID); ok {
			ans.header.Set("ETag", etag(rev))
		}
		if who.key != nil && h.accounts != nil {
			if filtered, err := h.accounts.FilterBucket(body, who.key.Has); err == nil {
				body = filtered
			}
		}
	case pre.ifMatch && h.native != nil && h.native.IsConflict(ans.status, body):
		return h.refuse(w, d, errStale)
	}
	return ans.writeTo(w, body)
}

// mayHaveApplied says, on a failure after the update was sent, that the
// client cannot know whether it was applied; retrying blindly could apply
// it twice.
func mayHaveApplied(e *dialect.Error) *dialect.Error {
	return &dialect.Error{Kind: e.Kind, Fields: e.Fields, Cause: e.Cause,
		Message: e.Message + "; the update may or may not have been applied: read the bucket before retrying"}
}

// failUpstream answers a call the upstream failed, in the client's dialect,
// with the cause in the decision line and the metric.
func (h *Handler) failUpstream(w http.ResponseWriter, d *decision, e *dialect.Error) error {
	d.upstreamFailed(e)
	h.client.WriteError(w, e)
	return nil
}

// errStale answers an If-Match that names another revision than the bucket's.
var errStale = dialect.Errorf(dialect.PreconditionFailed, "If-Match does not match the bucket's current revision; read the bucket again and retry with its ETag")

// revisionAfter finds the bucket's revision after a successful update: in
// the answer where the API reports it, otherwise by reading the bucket again.
// Not finding it leaves the answer without an ETag rather than failing an
// update the upstream has applied.
func (h *Handler) revisionAfter(r *http.Request, next caddyhttp.Handler, body []byte, bucketID string) (int64, bool) {
	if h.native != nil {
		return h.native.ResponseRevision(body)
	}
	if h.derived == nil {
		return 0, false
	}
	state, derr := h.readBucket(r, next, bucketID)
	if derr != nil {
		h.logger.Warn("could not read the bucket's revision after an update", zap.String("bucket_id", bucketID), zap.String("reason", derr.Message))
		return 0, false
	}
	return state.Revision, true
}
