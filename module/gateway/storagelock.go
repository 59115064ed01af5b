package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// A bucket's lock in Caddy's storage, shared by every instance, that no
// crashed holder can keep.
//
// The storage's own lock is what decides who holds the bucket: Lock's
// atomic create. On its own it does not free itself when a holder dies in
// every case. certmagic's FileStorage keeps a lock file fresh from a
// goroutine that rewrites the file by name every five seconds and stops
// only when it finds the file gone; it never checks whose lock the file
// is. So when instance A takes and releases a bucket's lock and instance B
// takes it within those five seconds, A's goroutine goes on refreshing B's
// lock file; if B then dies holding it, the lock never goes stale while A
// runs, and every instance waits on it for ever.
//
// So a holder also writes, next to the lock, a record of itself and of the
// deadline its update must be over by (the update's own context ends then,
// and every upstream call with it). A waiter that finds the lock still held
// after that deadline plus lockGrace breaks it: it deletes the record and
// unlocks the lock, and the storage's atomic create decides again who takes
// it next. A record left behind is deleted before the lock is released, so
// a record that exists always belongs to the lock's current holder, or to
// a holder that is gone. A lock held with no record at all (a holder that
// died between taking the lock and writing it) is broken once this process
// has seen it so for longer than any update lasts plus lockGrace.
//
// The bound: a bucket whose holder is gone is free again within the
// holder's deadline plus lockGrace plus one poll. Nothing is applied twice:
// the holder's calls end at its deadline, and the next holder reads the
// bucket afresh, under the lock, before it writes.

// lockGrace is how long past a holder's deadline its lock is left to it:
// room for clocks that differ between machines and for the release itself,
// and as long as certmagic's FileStorage takes to deem a lock stale (two
// refresh intervals).
var lockGrace = 10 * time.Second

// lockPoll is how long one attempt at the storage's Lock waits before the
// waiter looks at the holder's record again.
var lockPoll = 2 * time.Second

// lockRecord is what a holder writes next to a bucket's lock.
type lockRecord struct {
	// Owner is random, one per taking of the lock: a breaker breaks the
	// holding it read, never a later one.
	Owner    string    `json:"owner"`
	Deadline time.Time `json:"deadline"`
}

// Outcomes of waiting for a bucket's lock, in the lock_waits metric.
const (
	lockAcquired = "acquired"
	lockTimedOut = "timed_out"
	lockFailed   = "failed"
	lockBroken   = "broken"
)

// storageLock is one bucket's lock in storage, for one update.
type storageLock struct {
	storage certmagic.Storage
	name    string
	logger  *zap.Logger
	// server names the server in the lock_waits metric.
	server string
	// longest is how long an update of this gateway may last: how long a
	// lock with no record may be held before it counts as abandoned.
	longest time.Duration
	record  lockRecord
}

// recordKey is where the holder's record is kept.
func (l *storageLock) recordKey() string { return l.name + ".holder" }

// lock takes the lock before ctx ends, holding it until deadline, breaking
// it on the way if its holder is past its own deadline.
func (l *storageLock) lock(ctx context.Context, deadline time.Time) error {
	for {
		poll, cancel := context.WithTimeout(ctx, lockPoll)
		err := l.storage.Lock(poll, l.name)
		cancel()
		switch {
		case err == nil:
			return l.hold(ctx, deadline)
		case ctx.Err() != nil:
			lockWaits.WithLabelValues(l.server, lockTimedOut).Inc()
			return ctx.Err()
		case poll.Err() == nil:
			lockWaits.WithLabelValues(l.server, lockFailed).Inc()
			return err
		}
		// Still held after a poll: is its holder gone?
		l.breakAbandoned(ctx)
	}
}

// hold records this holding of the lock, or gives the lock back: a holding
// with no record could not be told from an abandoned one.
func (l *storageLock) hold(ctx context.Context, deadline time.Time) error {
	abandoned.Delete(l.name)
	var owner [16]byte
	_, _ = rand.Read(owner[:])
	l.record = lockRecord{Owner: hex.EncodeToString(owner[:]), Deadline: deadline}
	data, _ := json.Marshal(l.record)
	if err := l.storage.Store(ctx, l.recordKey(), data); err != nil {
		l.unlockWithin(unlockTimeout)
		lockWaits.WithLabelValues(l.server, lockFailed).Inc()
		return err
	}
	lockWaits.WithLabelValues(l.server, lockAcquired).Inc()
	return nil
}

// unlock releases the lock: the record first, so that a record never
// outlives its holding, then the lock. It runs after the update's own
// context may be over, so it has a deadline of its own.
func (l *storageLock) unlock() { l.unlockWithin(unlockTimeout) }

func (l *storageLock) unlockWithin(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := l.storage.Delete(ctx, l.recordKey()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.logger.Error("could not delete the bucket lock's record in storage", zap.String("lock", l.name), zap.Error(err))
	}
	if err := l.storage.Unlock(ctx, l.name); err != nil {
		// Others wait until the storage deems the lock stale, or until
		// its holder's deadline has passed by lockGrace.
		l.logger.Error("could not release the bucket's lock in storage", zap.String("lock", l.name), zap.Error(err))
	}
}

// abandoned holds, per lock name, when this process first saw the lock held
// with no record. It is cleared whenever this process takes the lock, so
// it holds an entry only for a lock waited on and never taken.
var abandoned sync.Map

// breakAbandoned breaks the lock if its holder is gone: past its recorded
// deadline by lockGrace, or holding it with no record for longer than any
// update lasts.
func (l *storageLock) breakAbandoned(ctx context.Context) {
	rec, err := l.load(ctx)
	now := time.Now()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		first, _ := abandoned.LoadOrStore(l.name, now)
		if now.Sub(first.(time.Time)) < l.longest+lockGrace {
			return
		}
	case err != nil:
		l.logger.Error("could not read the bucket lock's record in storage", zap.String("lock", l.name), zap.Error(err))
		return
	case now.Before(rec.Deadline.Add(lockGrace)):
		// A holder with a record: the lock is not held without one.
		abandoned.Delete(l.name)
		return
	default:
		// Read again just before breaking: a breaker that came first, and
		// the holder after it, must not lose their holding to this one.
		again, err := l.load(ctx)
		if err != nil || again != rec {
			return
		}
		if err := l.storage.Delete(ctx, l.recordKey()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	if err := l.storage.Unlock(ctx, l.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.logger.Error("could not break an abandoned bucket lock in storage", zap.String("lock", l.name), zap.Error(err))
		return
	}
	abandoned.Delete(l.name)
	lockWaits.WithLabelValues(l.server, lockBroken).Inc()
	l.logger.Warn("broke a bucket lock whose holder is gone (past its deadline, or a crashed instance)",
		zap.String("lock", l.name), zap.Time("holder_deadline", rec.Deadline))
}

// load reads the holder's record.
func (l *storageLock) load(ctx context.Context) (lockRecord, error) {
	var rec lockRecord
	data, err := l.storage.Load(ctx, l.recordKey())
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		// Unreadable: its holder's deadline is unknown, so it counts as
		// past it, and the lock is broken rather than waited on for ever.
		return lockRecord{}, nil
	}
	return rec, nil
}
