package gateway

import (
	"bytes"
	"hash/fnv"
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/module/dialect"
)

// bucketLocks serialise the revision check and the write of one bucket for
// APIs whose revisions the gateway derives. They are striped, so memory stays
// fixed however many buckets there are, and package-wide, so the handler
// instances of an old and a new configuration share them during a reload.
var bucketLocks [256]sync.Mutex

func lockBucket(id string) (unlock func()) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	m := &bucketLocks[h.Sum32()%uint32(len(bucketLocks))]
	m.Lock()
	return m.Unlock
}

// readRevision reads the bucket's current state through next, the same
// upstream the update goes to, with the client's credential, and derives
// its revision.
func (h *Handler) readRevision(r *http.Request, next caddyhttp.Handler, bucketID string) (int64, *dialect.Error) {
	sub := r.Clone(r.Context())
	sub.Header = http.Header{}
	if auth := r.Header.Get("Authorization"); auth != "" {
		sub.Header.Set("Authorization", auth)
	}
	h.derived.StateRequest(sub, bucketID)
	mw := &memWriter{header: http.Header{}, limit: h.MaxResponseSize}
	if err := next.ServeHTTP(mw, sub); err != nil {
		return 0, dialect.Errorf(dialect.UpstreamFailed, "the upstream did not answer when the gateway read the bucket")
	}
	if mw.overflow {
		return 0, dialect.Errorf(dialect.UpstreamFailed, "the upstream's bucket list is larger than max_response_size")
	}
	return h.derived.StateRevision(mw.status, mw.body.Bytes(), bucketID)
}

// memWriter keeps a sub-request's answer, which no client sees.
type memWriter struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	limit    int64
	overflow bool
}

func (m *memWriter) Header() http.Header { return m.header }

func (m *memWriter) WriteHeader(status int) {
	if m.status == 0 {
		m.status = status
	}
}

func (m *memWriter) Write(p []byte) (int, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	if int64(m.body.Len()+len(p)) > m.limit {
		m.overflow = true
		return len(p), nil
	}
	return m.body.Write(p)
}

// Flush lets reverse_proxy flush as it does for a client connection.
func (m *memWriter) Flush() {}
