package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// provisionedIn provisions h with Caddy's storage in dir.
func provisionedIn(t *testing.T, dir string, h *Handler) *Handler {
	t.Helper()
	ctx, cancel := testContextIn(t, dir)
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	h.logger = zap.NewNop()
	return h
}

// lockFree reports whether the bucket's storage lock can be taken at once.
func lockFree(t *testing.T, h *Handler, bucketID string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	name := h.bucketLockName(bucketID)
	if err := h.storage.Lock(ctx, name); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		return false
	}
	if err := h.storage.Unlock(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return true
}

// TestBucketLockInStorage: a Flashback update holds the bucket's lock in
// Caddy's storage around its check, write and read-back, waits for another
// holder no longer than its deadline, and releases it on every path.
func TestBucketLockInStorage(t *testing.T) {
	h := provisionedIn(t, t.TempDir(), &Handler{API: "flashback"})
	if h.storage == nil {
		t.Fatal("a Flashback gateway does not use Caddy's storage by default")
	}
	up := newFakeFlashback()
	heldDuringWrite := false
	up.judge = func([]byte) { heldDuringWrite = !lockFree(t, h, fbID) }

	w := serveFB(t, h, up, put(`{"name":"First"}`))
	if w.Code != 200 || !heldDuringWrite {
		t.Fatalf("got %d %s; lock held during the write: %v", w.Code, w.Body, heldDuringWrite)
	}
	if !lockFree(t, h, fbID) {
		t.Fatal("the lock outlived a successful update")
	}
	first := w.Header().Get("ETag")

	// Refused on a stale revision, after the read under the lock.
	w = serveFB(t, h, up, put(`{"name":"Lost"}`, "If-Match", `"1"`))
	if w.Code != 412 || !lockFree(t, h, fbID) {
		t.Fatalf("stale If-Match: %d %s, or the lock outlived the refusal", w.Code, w.Body)
	}

	// The upstream fails: the lock goes with the update.
	broken := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		return caddyhttp.Error(http.StatusBadGateway, errors.New("connection reset"))
	})
	w = serveFB(t, h, broken, put(`{"name":"Broken"}`, "If-Match", first))
	if w.Code != http.StatusBadGateway || !lockFree(t, h, fbID) {
		t.Fatalf("upstream failure: %d %s, or the lock outlived it", w.Code, w.Body)
	}

	// Another instance holds the lock: the update waits until its deadline,
	// then gives up with nothing read or written.
	ctx := context.Background()
	name := h.bucketLockName(fbID)
	if err := h.storage.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	reads, puts := up.reads, up.puts
	deadline, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	w = serveFB(t, h, up, put(`{"name":"Waited"}`, "If-Match", first).WithContext(deadline))
	if w.Code != http.StatusGatewayTimeout || up.reads != reads || up.puts != puts {
		t.Errorf("while another holds the lock: %d %s; %d reads, %d writes", w.Code, w.Body, up.reads-reads, up.puts-puts)
	}
	if err := h.storage.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
	w = serveFB(t, h, up, put(`{"name":"Second"}`, "If-Match", first))
	if w.Code != 200 || up.bucket["name"] != "Second" || !lockFree(t, h, fbID) {
		t.Errorf("once released: %d %s", w.Code, w.Body)
	}
}

// TestBucketLockScope: only updates under derived revisions take the lock
// in storage, and local_state keeps everything out of storage.
func TestBucketLockScope(t *testing.T) {
	b2up := &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}
	keys := []auth.Key{{ID: "k1", Secret: "k1-secret"}}
	for _, tc := range []struct {
		name       string
		h          *Handler
		serialised bool
		storage    bool
	}{
		{"flashback", &Handler{API: "flashback"}, true, true},
		{"flashback, local_state", &Handler{API: "flashback", LocalState: true}, true, false},
		{"b2 to flashback", &Handler{API: "b2", UpstreamAPI: "flashback", Mode: "gateway", Keys: keys,
			SigningSecret: "a-signing-secret-of-at-least-32-bytes!", Upstream: &UpstreamCredentials{Token: "t"}}, true, true},
		{"flashback to b2: B2's own revisions", &Handler{API: "flashback", UpstreamAPI: "b2", Mode: "gateway", Keys: keys, Upstream: b2up}, false, false},
		{"b2 gateway mode: signed tokens", &Handler{API: "b2", Mode: "gateway", Keys: keys,
			SigningSecret: "a-signing-secret-of-at-least-32-bytes!", Upstream: b2up}, false, false},
		{"b2 passthrough with a realm: token memory", &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "http://b2.test"}}, false, true},
		{"b2 passthrough, local_state", &Handler{API: "b2", Upstream: &UpstreamCredentials{Realm: "http://b2.test"}, LocalState: true}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := provisionedIn(t, t.TempDir(), tc.h)
			t.Cleanup(func() { _ = h.Cleanup() })
			if h.serialised != tc.serialised || (h.storage != nil) != tc.storage {
				t.Errorf("serialised %v, storage %v; want %v, %v", h.serialised, h.storage != nil, tc.serialised, tc.storage)
			}
			if h.tokens != nil && h.tokens.Shared() != tc.storage {
				t.Errorf("token memory shared: %v", h.tokens.Shared())
			}
		})
	}
}

// TestLocalStateWritesNothing: with local_state, updates and locks leave
// Caddy's storage untouched.
func TestLocalStateWritesNothing(t *testing.T) {
	dir := t.TempDir()
	h := provisionedIn(t, dir, &Handler{API: "flashback", LocalState: true})
	up := newFakeFlashback()
	if w := serveFB(t, h, up, put(`{"name":"First"}`)); w.Code != 200 {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("local_state wrote to storage: %v", entries)
	}
}

// TestTokenMemorySurvivesReload: the handler of a new configuration knows
// the tokens the old one remembered, in-process (local_state) and through
// storage (after a restart, where the process's memory is gone).
func TestTokenMemorySurvivesReload(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	rem := auth.Remembered{APIURL: "http://b2.test", AccountID: "acct", KeyID: "kid", Capabilities: []string{"writeBuckets"}, Expires: now.Add(time.Hour)}
	for _, local := range []bool{true, false} {
		dir := t.TempDir()
		realm := &UpstreamCredentials{Realm: "http://reload-" + map[bool]string{true: "local", false: "shared"}[local] + ".test"}
		old := provisionedIn(t, dir, &Handler{API: "b2", Upstream: realm, LocalState: local})
		if err := old.tokens.Remember(ctx, "4_token", rem); err != nil {
			t.Fatal(err)
		}
		// A reload: the new configuration is provisioned, then the old one
		// cleaned up.
		changed := provisionedIn(t, dir, &Handler{API: "b2", Upstream: realm, LocalState: local, MaxDepth: 12})
		if err := old.Cleanup(); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := changed.tokens.Lookup(ctx, "4_token", now); !ok || err != nil {
			t.Errorf("local_state %v: the reloaded configuration forgot the token (%v)", local, err)
		}
		// A restart: the process's memory is gone; only storage remains.
		if err := changed.Cleanup(); err != nil {
			t.Fatal(err)
		}
		restarted := provisionedIn(t, dir, &Handler{API: "b2", Upstream: realm, LocalState: local})
		_, ok, _ := restarted.tokens.Lookup(ctx, "4_token", now)
		if ok == local {
			t.Errorf("local_state %v: after a restart the token is known: %v", local, ok)
		}
		_ = restarted.Cleanup()
		if local {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, auth.TokenStorePrefix)); err != nil {
			t.Errorf("nothing in storage: %v", err)
		}
	}
}

// stuckWriter is a client that never reads its answer: its first write
// blocks until release is closed.
type stuckWriter struct {
	*httptest.ResponseRecorder
	writing chan struct{}
	release chan struct{}
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	close(w.writing)
	<-w.release
	return w.ResponseRecorder.Write(p)
}

// TestLocksReleasedBeforeTheAnswer: the bucket's locks, in process and in
// storage, are released before the client's answer is written, so a client
// that reads its answer slowly, or never, holds up no other update.
func TestLocksReleasedBeforeTheAnswer(t *testing.T) {
	h := provisionedIn(t, t.TempDir(), &Handler{API: "flashback"})
	up := newFakeFlashback()
	stuck := &stuckWriter{ResponseRecorder: httptest.NewRecorder(), writing: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- h.ServeHTTP(stuck, put(`{"name":"First"}`), up) }()
	select {
	case <-stuck.writing:
	case <-time.After(10 * time.Second):
		t.Fatal("the first update never began its answer")
	}
	if !lockFree(t, h, fbID) {
		t.Error("the storage lock is held while the answer is written")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	unlock, derr := lockBucket(ctx, fbID)
	if derr != nil {
		t.Error("the in-process lock is held while the answer is written")
	} else {
		unlock()
	}
	close(stuck.release)
	if err := <-done; err != nil || stuck.Code != 200 {
		t.Fatalf("first update: %v, %d %s", err, stuck.Code, stuck.Body)
	}
	if w := serveFB(t, h, up, put(`{"name":"Second"}`)); w.Code != 200 {
		t.Fatalf("second update: %d %s", w.Code, w.Body)
	}
}

// TestAbandonedLockIsBroken: a bucket's lock in storage whose holder is gone
// frees itself within the holder's deadline plus lockGrace, even when the
// storage keeps it fresh for ever. certmagic's FileStorage does just that
// here: a lock taken and released by this process starts a goroutine that
// rewrites the lock file by name, so a holder that takes the same lock
// within seconds and then dies (it never unlocks) leaves a lock that never
// goes stale. A holder within its deadline keeps its lock; one that took the
// lock and died before writing its record loses it after the longest update
// plus lockGrace.
func TestAbandonedLockIsBroken(t *testing.T) {
	grace, poll := lockGrace, lockPoll
	lockGrace, lockPoll = 500*time.Millisecond, 100*time.Millisecond
	t.Cleanup(func() { lockGrace, lockPoll = grace, poll })

	dir := t.TempDir()
	h := provisionedIn(t, dir, &Handler{API: "flashback", UpstreamTimeout: caddy.Duration(5 * time.Second)})
	name := h.bucketLockName(fbID)
	holder := func(deadline time.Time, record bool) *storageLock {
		// Another instance, on the same storage.
		other := provisionedIn(t, dir, &Handler{API: "flashback"})
		sl := &storageLock{storage: other.storage, name: name, logger: zap.NewNop(), longest: time.Second}
		if record {
			if err := sl.lock(context.Background(), deadline); err != nil {
				t.Fatal(err)
			}
		} else if err := other.storage.Lock(context.Background(), name); err != nil {
			t.Fatal(err)
		}
		return sl
	}
	up := newFakeFlashback()

	// Taken and released here, then taken by a holder that dies with it: the
	// first holding's goroutine keeps the file fresh.
	w := serveFB(t, h, up, put(`{"name":"First"}`))
	if w.Code != 200 {
		t.Fatalf("first update: %d %s", w.Code, w.Body)
	}
	holder(time.Now().Add(time.Second), true)
	start := time.Now()
	w = serveFB(t, h, up, put(`{"name":"After a crash"}`))
	took := time.Since(start)
	if w.Code != 200 || up.bucket["name"] != "After a crash" {
		t.Fatalf("after the holder died: %d %s", w.Code, w.Body)
	}
	if bound := time.Second + lockGrace + 2*lockPoll + 500*time.Millisecond; took > bound {
		t.Errorf("the abandoned lock was broken after %v, past the bound %v", took, bound)
	}
	if !lockFree(t, h, fbID) {
		t.Error("the lock outlived the update that broke in")
	}

	// A holder within its deadline keeps its lock: the update times out.
	live := holder(time.Now().Add(time.Hour), true)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	w = serveFB(t, h, up, put(`{"name":"Waited"}`).WithContext(ctx))
	cancel()
	if w.Code != http.StatusGatewayTimeout || up.bucket["name"] != "After a crash" {
		t.Errorf("while a live holder has the lock: %d %s", w.Code, w.Body)
	}
	live.unlock()

	// Taken, and no record written: broken after the longest update plus
	// lockGrace, as this process sees it.
	holder(time.Time{}, false)
	h.UpstreamTimeout = caddy.Duration(500 * time.Millisecond)
	var last *httptest.ResponseRecorder
	for range 10 {
		if last = serveFB(t, h, up, put(`{"name":"No record"}`)); last.Code == 200 {
			break
		}
	}
	if last.Code != 200 || up.bucket["name"] != "No record" {
		t.Errorf("a lock held with no record: %d %s", last.Code, last.Body)
	}
}
