package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/module/dialect"
)

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
	return "bucketgate/bucket/" + h.upstream.Name() + "/" + hex.EncodeToString(d[:16])
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
// a time waits on storage). It returns the request to continue with, bound
// to the update's deadline so that nothing under the lock outlives it, and
// the function that releases both locks, which must be called on every path.
func (h *Handler) lockUpdate(r *http.Request, bucketID string) (*http.Request, func(), *dialect.Error) {
	ctx, cancel := context.WithDeadline(r.Context(), updateDeadline(r))
	unlockLocal, derr := lockBucket(ctx, bucketID)
	if derr != nil {
		cancel()
		return nil, nil, derr
	}
	if !h.serialised || h.storage == nil {
		return r.WithContext(ctx), func() { cancel(); unlockLocal() }, nil
	}
	name := h.bucketLockName(bucketID)
	if err := h.storage.Lock(ctx, name); err != nil {
		cancel()
		unlockLocal()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, dialect.Errorf(dialect.UpstreamTimeout, "another update of this bucket held it past this update's deadline; nothing was written, try again")
		}
		if ctx.Err() == nil {
			h.logger.Error("could not take the bucket's lock in storage", zap.String("bucket_id", bucketID), zap.Error(err))
		}
		return nil, nil, dialect.Errorf(dialect.UpstreamFailed, "the bucket's lock in the gateway's storage could not be taken; nothing was written")
	}
	unlock := func() {
		cancel()
		// The update's context may be over; releasing must still happen.
		uctx, ucancel := context.WithTimeout(context.WithoutCancel(r.Context()), unlockTimeout)
		defer ucancel()
		if err := h.storage.Unlock(uctx, name); err != nil {
			// Others wait until the storage deems the lock stale.
			h.logger.Error("could not release the bucket's lock in storage", zap.String("bucket_id", bucketID), zap.Error(err))
		}
		unlockLocal()
	}
	return r.WithContext(ctx), unlock, nil
}
