package gateway

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/bucketgate/bucketgate/module/dialect"
)

// bucketLocks serialise the revision check and the write of one bucket for
// APIs whose revisions the gateway derives. They are striped, so memory stays
// fixed however many buckets there are, and package-wide, so the handler
// instances of an old and a new configuration share them during a reload.
// Each is a one-slot channel rather than a mutex so that waiting for it ends
// with the request's deadline: a hung upstream call holds a lock no longer
// than its own deadline, and its waiters give up no later than theirs.
var bucketLocks = func() (locks [256]chan struct{}) {
	for i := range locks {
		locks[i] = make(chan struct{}, 1)
	}
	return locks
}()

// lockBucket takes the lock of bucket id, or fails when ctx ends first.
func lockBucket(ctx context.Context, id string) (unlock func(), derr *dialect.Error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	l := bucketLocks[h.Sum32()%uint32(len(bucketLocks))]
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, deadlineError(ctx, "another update of this bucket is still under way")
	}
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
	// sent is true once the request may have reached the upstream: any
	// failure but one to connect. An update that failed after it was sent
	// may have been applied.
	sent bool
}

func (a *answer) Header() http.Header { return a.header }

// WriteHeader keeps the final status. Informational answers (100 Continue,
// 103 Early Hints), which reverse_proxy passes on as they come, are not the
// answer and are dropped.
func (a *answer) WriteHeader(status int) {
	if a.status == 0 && status >= 200 {
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

// errBrokenAnswer stands for reverse_proxy's abort when the upstream's
// answer breaks off after it began.
var errBrokenAnswer = errors.New("the upstream's answer broke off")

// serveCaptured runs next into a. reverse_proxy aborts a response it cannot
// finish (the upstream reset or cut the body short) by panicking with
// http.ErrAbortHandler, which is meant to drop the client's connection;
// here the answer is the gateway's to judge, so the abort becomes an error.
func serveCaptured(next caddyhttp.Handler, a *answer, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			err = errBrokenAnswer
		}
	}()
	return next.ServeHTTP(a, r)
}

// roundTrip sends r through next and keeps the whole answer. On failure the
// answer, when not nil, still says whether the request may have been sent.
func (h *Handler) roundTrip(next caddyhttp.Handler, r *http.Request) (*answer, *dialect.Error) {
	a := &answer{header: http.Header{}, limit: h.MaxResponseSize}
	err := serveCaptured(next, a, r)
	if err != nil {
		_, dialFailed := errors.AsType[reverseproxy.DialError](err)
		a.sent = !dialFailed
		he, _ := errors.AsType[caddyhttp.HandlerError](err)
		var derr *dialect.Error
		switch {
		case r.Context().Err() != nil:
			derr = deadlineError(r.Context(), "the upstream did not answer in time")
		case he.StatusCode == http.StatusGatewayTimeout:
			derr = dialect.Errorf(dialect.UpstreamTimeout, "the upstream did not answer in time")
		case errors.Is(err, errBrokenAnswer) && a.status != 0:
			derr = dialect.Errorf(dialect.UpstreamFailed, "the upstream's answer (HTTP "+strconv.Itoa(a.status)+") broke off before its end")
		case errors.Is(err, errBrokenAnswer):
			derr = dialect.Errorf(dialect.UpstreamFailed, "the upstream's answer broke off before its end")
		case dialFailed:
			derr = dialect.Errorf(dialect.UpstreamFailed, "the upstream could not be reached")
		default:
			status := http.StatusBadGateway
			if he.StatusCode >= 500 {
				status = he.StatusCode
			}
			derr = dialect.Errorf(dialect.UpstreamFailed, "the upstream did not answer ("+http.StatusText(status)+")")
		}
		derr.Cause = err.Error()
		return a, derr
	}
	a.sent = true
	switch {
	case a.status == 0:
		return a, dialect.Errorf(dialect.UpstreamFailed, "no upstream answered; is reverse_proxy configured after bucketgate?")
	case a.overflow:
		return a, dialect.Errorf(dialect.UpstreamFailed, "the upstream's answer is larger than max_response_size")
	}
	return a, nil
}

// deadlineError says why ctx ended: the gateway's deadline (504), or the
// client going away.
func deadlineError(ctx context.Context, what string) *dialect.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return dialect.Errorf(dialect.UpstreamTimeout, what+" within upstream_timeout")
	}
	return dialect.Errorf(dialect.UpstreamFailed, what+" before the client went away")
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
	b, derr := h.reader.ReadBucket(ans.status, h.scrubAnswer(ans), bucketID)
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
