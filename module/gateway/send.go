package gateway

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/module/dialect"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// send passes the validated update to next and answers the client from what
// comes back: the upstream's answer with an ETag on success, a failed
// revision test as 412 when the client asked with If-Match, and anything
// else exactly as the upstream sent it.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, pre precondition, d *decision) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)

	rec := caddyhttp.NewResponseRecorder(w, buf, func(status int, header http.Header) bool {
		n, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64)
		return header.Get("Content-Encoding") == "" && (err != nil || n <= h.MaxResponseSize)
	})
	if err := next.ServeHTTP(rec, r); err != nil {
		if rec.Status() != 0 && !rec.Buffered() {
			return err // already streamed to the client; nothing to add
		}
		// The upstream gave no answer (reverse_proxy could not reach it, or
		// it failed mid-response): say so in the client's own error shape.
		status := http.StatusBadGateway
		if he, ok := errors.AsType[caddyhttp.HandlerError](err); ok && he.StatusCode >= 500 {
			status = he.StatusCode
		}
		d.upstreamFailed(status)
		h.client.WriteError(w, dialect.Errorf(dialect.UpstreamFailed, "upstream did not answer: "+http.StatusText(status)))
		return nil
	}
	status := rec.Status()
	d.forwarded(status)
	if !rec.Buffered() {
		return nil
	}
	if status == 0 {
		// next wrote nothing: no upstream is configured behind the gateway.
		h.client.WriteError(w, dialect.Errorf(dialect.UpstreamFailed, "no upstream answered; is reverse_proxy configured after bucketgate?"))
		return nil
	}
	body := buf.Bytes()
	if derr := h.client.CheckAnswer(status, body); derr != nil {
		d.upstreamFailed(status)
		h.client.WriteError(w, derr)
		return nil
	}
	hdr := w.Header()
	hdr.Del("Etag")
	switch {
	case status == http.StatusOK:
		if rev, ok := h.revisionAfter(r, next, body, d.bucketID); ok {
			hdr.Set("ETag", etag(rev))
		}
	case pre.ifMatch && h.native != nil && h.native.IsConflict(status, body):
		d.refused(errStale)
		h.client.WriteError(w, errStale)
		return nil
	}
	return rec.WriteResponse()
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
	rev, derr := h.readRevision(r, next, bucketID)
	if derr != nil {
		h.logger.Warn("could not read the bucket's revision after an update", zap.String("bucket_id", bucketID), zap.String("reason", derr.Message))
		return 0, false
	}
	return rev, true
}
