package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// A bucket's lock serialises a write's check of the bucket's current
// revision, the write and the read of the new revision, wherever the gateway
// compares revisions itself.

// bucketLocks serialise the revision check and the write of one bucket for
// APIs whose revisions the gateway derives, and for translated updates. They are striped, so memory stays
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

// maxLockedUpdate bounds an update under a bucket's lock when its request
// carries no deadline of its own: waiting for the lock, checking, writing
// and reading back all end by then, and the lock with them.
const maxLockedUpdate = 30 * time.Second

// unlockTimeout bounds releasing a storage lock, which happens after the
// update's own deadline may have passed.
const unlockTimeout = 5 * time.Second

// bucketLockName names a bucket's lock in Caddy's storage. The bucket id is
// digested so that any id makes a safe key, and the upstream API is part of
// the name so that buckets of different services never share a lock.
func (h *Handler) bucketLockName(bucketID string) string {
	d := sha256.Sum256([]byte(bucketID))
	return "bucketgate/bucket/" + h.upstreamSide.Name() + "/" + hex.EncodeToString(d[:16])
}

// updateDeadline is when an update under a bucket's lock must be over: the
// request's own deadline, or maxLockedUpdate from now.
func updateDeadline(r *http.Request) time.Time {
	if d, ok := r.Context().Deadline(); ok {
		return d
	}
	return time.Now().Add(maxLockedUpdate)
}

// lockUpdate serialises an update's check, write and read-back against
// every other update of the bucket: through this process (the striped lock),
// then through every instance sharing Caddy's storage (a lock there, taken
// second so that each process queues its own updates and only one of them at
// a time waits on storage). It binds x.r to the update's deadline, so that
// nothing under the lock outlives it, and returns the function that releases
// both locks, which must be called on every path.
//
// The locks are released, at the latest, as the client's answer begins: by
// then every upstream call of the update is over, and a client that reads
// its answer slowly (or never) must not hold the bucket for everyone else.
// x.w is wrapped to do that; calling unlock again afterwards does nothing.
func (h *Handler) lockUpdate(x *exchange) (unlock func(), derr *dialect.Error) {
	release, derr := h.takeBucketLocks(x)
	if derr != nil {
		return nil, derr
	}
	unlock = sync.OnceFunc(release)
	x.w = &unlockOnAnswer{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: x.w}, unlock: unlock}
	return unlock, nil
}

// unlockOnAnswer releases a bucket's locks before the first byte of the
// client's answer is written.
type unlockOnAnswer struct {
	*caddyhttp.ResponseWriterWrapper
	unlock func()
}

func (w *unlockOnAnswer) WriteHeader(status int) {
	w.unlock()
	w.ResponseWriterWrapper.WriteHeader(status)
}

func (w *unlockOnAnswer) Write(p []byte) (int, error) {
	w.unlock()
	return w.ResponseWriterWrapper.Write(p)
}

// takeBucketLocks takes the bucket's locks for lockUpdate.
func (h *Handler) takeBucketLocks(x *exchange) (unlock func(), derr *dialect.Error) {
	r, bucketID := x.r, x.d.bucketID
	ctx, cancel := context.WithDeadline(r.Context(), updateDeadline(r))
	unlockLocal, derr := lockBucket(ctx, bucketID)
	if derr != nil {
		cancel()
		return nil, derr
	}
	if !h.serialised || h.storage == nil {
		x.r = r.WithContext(ctx)
		return func() { cancel(); unlockLocal() }, nil
	}
	deadline, _ := ctx.Deadline()
	sl := &storageLock{storage: h.storage, name: h.bucketLockName(bucketID), logger: h.logger,
		server: serverName(r), longest: time.Duration(h.UpstreamTimeout)}
	if err := sl.lock(ctx, deadline); err != nil {
		cancel()
		unlockLocal()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, dialect.NewError(dialect.UpstreamTimeout, "another update of this bucket held it past this update's deadline; nothing was written, try again")
		}
		if ctx.Err() == nil {
			h.logger.Error("could not take the bucket's lock in storage", zap.String("bucket_id", bucketID), zap.Error(err))
		}
		return nil, dialect.NewError(dialect.UpstreamFailed, "the bucket's lock in the gateway's storage could not be taken; nothing was written")
	}
	unlock = func() {
		cancel()
		sl.unlock()
		unlockLocal()
	}
	x.r = r.WithContext(ctx)
	return unlock, nil
}
