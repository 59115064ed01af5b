package gateway

import (
	"bytes"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"
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

// answer is an upstream's answer to a call the gateway handles, held whole
// so that the gateway can read it, retry, or replace it before the client
// sees anything. Answers to bucket calls are a few kilobytes; the limit is
// max_response_size.
type answer struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	limit    int64
	overflow bool
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *answer) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if int64(a.body.Len()+len(p)) > a.limit {
		a.overflow = true
		return len(p), nil
	}
	return a.body.Write(p)
}

// Flush lets reverse_proxy flush as it does for a client connection.
func (a *answer) Flush() {}

// writeTo gives the client the upstream's answer with body in place of the
// upstream's own: its status and headers, less the ones the body makes wrong.
func (a *answer) writeTo(w http.ResponseWriter, body []byte) error {
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Transfer-Encoding")
	w.WriteHeader(a.status)
	_, err := w.Write(body)
	return err
}

// roundTrip sends r through next and keeps the whole answer.
func (h *Handler) roundTrip(next caddyhttp.Handler, r *http.Request) (*answer, *dialect.Error) {
	a := &answer{header: http.Header{}, limit: h.MaxResponseSize}
	if err := next.ServeHTTP(a, r); err != nil {
		// reverse_proxy could not reach the upstream, or lost it mid-answer.
		status := http.StatusBadGateway
		if he, ok := errors.AsType[caddyhttp.HandlerError](err); ok && he.StatusCode >= 500 {
			status = he.StatusCode
		}
		derr := dialect.Errorf(dialect.UpstreamFailed, "the upstream did not answer ("+http.StatusText(status)+")")
		derr.Cause = err.Error()
		return nil, derr
	}
	switch {
	case a.status == 0:
		return nil, dialect.Errorf(dialect.UpstreamFailed, "no upstream answered; is reverse_proxy configured after bucketgate?")
	case a.overflow:
		return nil, dialect.Errorf(dialect.UpstreamFailed, "the upstream's answer is larger than max_response_size")
	}
	return a, nil
}

// readBucket reads one bucket's current state through next, the same
// upstream the update goes to: with the gateway's own credentials in
// gateway mode, with the client's otherwise.
func (h *Handler) readBucket(r *http.Request, next caddyhttp.Handler, bucketID string) (dialect.Bucket, *dialect.Error) {
	sub := subRequest(r)
	var g dialect.Grant
	read := func(grant dialect.Grant) *dialect.Error {
		g = grant
		h.reader.ReadRequest(sub, bucketID, grant.AccountID)
		return nil
	}
	var ans *answer
	var derr *dialect.Error
	if h.Mode == modeGateway {
		ans, derr = h.callUpstream(sub, next, read)
	} else {
		if cred := r.Header.Get("Authorization"); cred != "" {
			sub.Header.Set("Authorization", cred)
		}
		_ = read(dialect.Grant{})
		ans, derr = h.roundTrip(next, sub)
	}
	if derr != nil {
		return dialect.Bucket{}, derr
	}
	b, derr := h.reader.ReadBucket(ans.status, ans.body.Bytes(), bucketID)
	// What the bucket object does not say, the gateway's sign-in does: the
	// account, and the S3 endpoint translated updates are checked against.
	switch {
	case b.AccountID != "":
	case g.AccountID != "":
		b.AccountID = g.AccountID
	default:
		b.AccountID = translatedAccount
	}
	if g.S3APIURL != "" {
		b.Endpoint = g.S3APIURL
	}
	return b, derr
}
