package gateway

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

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
	hdr := w.Header()
	hdr.Del("Etag")
	if h.native != nil {
		switch {
		case status == http.StatusOK:
			if rev, ok := h.native.ResponseRevision(body); ok {
				hdr.Set("ETag", etag(rev))
			}
		case pre.ifMatch && h.native.IsConflict(status, body):
			d.preconditionFailed()
			h.client.WriteError(w, dialect.Errorf(dialect.PreconditionFailed, "If-Match does not match the bucket's current revision; read the bucket again and retry with its ETag"))
			return nil
		}
	}
	return rec.WriteResponse()
}
