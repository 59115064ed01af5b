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
		d.upstreamFailed(derr)
		h.client.WriteError(w, derr)
		return nil
	}
	d.forwarded(ans.status)
	body := ans.body.Bytes()
	if derr := h.client.CheckAnswer(ans.status, body); derr != nil {
		d.upstreamFailed(derr)
		h.client.WriteError(w, derr)
		return nil
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
