package b2emulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/Backblaze/blazer/b2"
)

type loggedCall struct {
	name   string
	status int
}

// callLog records every call a client makes, to see what blazer did behind
// its API.
type callLog struct {
	mu    sync.Mutex
	calls []loggedCall
}

func (l *callLog) all() []loggedCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func blazerServer(t *testing.T, h *Emulator) (*httptest.Server, *callLog) {
	t.Helper()
	log := &callLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		_ = h.ServeHTTP(sw, r, failNext)
		log.mu.Lock()
		log.calls = append(log.calls, loggedCall{path.Base(r.URL.Path), sw.status})
		log.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv, log
}

func bucketNames(t *testing.T, buckets []*b2.Bucket) []string {
	t.Helper()
	var out []string
	for _, b := range buckets {
		out = append(out, b.Name())
	}
	return out
}

func TestBlazerAgainstEmulator(t *testing.T) {
	h := newEmulator(t)
	srv, _ := blazerServer(t, h)
	ctx := context.Background()
	client, err := b2.NewClient(ctx, "master-id", "master-secret", b2.APIBase(srv.URL))
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}

	buckets, err := client.ListBuckets(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if got, want := bucketNames(t, buckets), []string{"alpha-bucket", "beta-bucket", "locked-bucket", "snap-bucket"}; !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}

	alpha, err := client.Bucket(ctx, "alpha-bucket")
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := alpha.Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Type != b2.Private || !reflect.DeepEqual(attrs.Info, map[string]string{"owner": "demo"}) || len(attrs.LifecycleRules) != 0 {
		t.Errorf("seeded attrs %+v", attrs)
	}

	rules := []b2.LifecycleRule{{Prefix: "logs/", DaysHiddenUntilDeleted: 7}, {Prefix: "tmp/", DaysNewUntilHidden: 1, DaysHiddenUntilDeleted: 2}}
	if err := alpha.Update(ctx, &b2.BucketAttrs{Type: b2.Public, Info: map[string]string{"team": "storage"}, LifecycleRules: rules}); err != nil {
		t.Fatalf("update: %v", err)
	}
	attrs, err = alpha.Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Type != b2.Public || !reflect.DeepEqual(attrs.Info, map[string]string{"team": "storage"}) || !reflect.DeepEqual(attrs.LifecycleRules, rules) {
		t.Errorf("updated attrs %+v", attrs)
	}
	tok := login(t, h, "master-id", "master-secret")
	if b := getBucket(t, h, tok, bucketID(t, h, "alpha-bucket")); b["revision"] != float64(2) {
		t.Errorf("revision %v after one blazer update, want 2", b["revision"])
	}

	// Two handles read at the same revision: the second writer loses.
	first, err := client.Bucket(ctx, "beta-bucket")
	if err != nil {
		t.Fatal(err)
	}
	second, err := client.Bucket(ctx, "beta-bucket")
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"by": "first"}}); err != nil {
		t.Fatalf("first update: %v", err)
	}
	err = second.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"by": "second"}})
	if !b2.IsUpdateConflict(err) {
		t.Fatalf("stale update: %v, want an update conflict", err)
	}
	if attrs, err := second.Attrs(ctx); err != nil || attrs.Info["by"] != "first" {
		t.Errorf("after the conflict: %+v %v", attrs, err)
	}
	// Re-reading is blazer's documented way out of a conflict.
	if err := second.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"by": "second"}}); err != nil {
		t.Errorf("update after re-reading: %v", err)
	}

	made, err := client.NewBucket(ctx, "blazer-made", &b2.BucketAttrs{Type: b2.Private, Info: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := made.Delete(ctx); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := client.Bucket(ctx, "blazer-made"); !b2.IsNotExist(err) {
		t.Errorf("deleted bucket: %v, want not found", err)
	}
	if err := made.Delete(ctx); !b2.IsNotExist(err) {
		t.Errorf("second delete: %v, want blazer to see a missing bucket", err)
	}
}

// blazer reads fileLockConfiguration and replicationConfiguration from every
// update answer without checking them; whatever a bucket holds, and whatever
// the key may read, an update through blazer must not crash it.
func TestBlazerSurvivesEveryBucketSetting(t *testing.T) {
	h := newEmulator(t)
	srv, _ := blazerServer(t, h)
	tok := login(t, h, "master-id", "master-secret")
	wantOK(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+bucketID(t, h, "locked-bucket")+`",
		"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"},
		"defaultRetention":{"mode":"compliance","period":{"duration":3,"unit":"years"}}}`))
	wantOK(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+bucketID(t, h, "alpha-bucket")+`",
		"replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"r"}]}}}`))

	ctx := context.Background()
	for _, key := range [][2]string{{"master-id", "master-secret"}, {"writer-id", "writer-secret"}} {
		client, err := b2.NewClient(ctx, key[0], key[1], b2.APIBase(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"locked-bucket", "alpha-bucket", "beta-bucket"} {
			t.Run(key[0]+" "+name, func(t *testing.T) {
				bucket, err := client.Bucket(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				if err := bucket.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"key": key[0]}}); err != nil {
					t.Fatalf("update: %v", err)
				}
			})
		}
	}
}

func TestBlazerReauthorizesExpiredTokens(t *testing.T) {
	h := newEmulator(t)
	srv, log := blazerServer(t, h)
	ctx := context.Background()
	client, err := b2.NewClient(ctx, "master-id", "master-secret", b2.APIBase(srv.URL), b2.ExpireSomeAuthTokens())
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		run  func() error
	}{
		{"list", func() error { _, err := client.ListBuckets(ctx); return err }},
		{"update", func() error {
			b, err := client.Bucket(ctx, "alpha-bucket")
			if err != nil {
				return err
			}
			return b.Update(ctx, &b2.BucketAttrs{Type: b2.Public})
		}},
		{"attrs", func() error {
			b, err := client.Bucket(ctx, "alpha-bucket")
			if err != nil {
				return err
			}
			attrs, err := b.Attrs(ctx)
			if err == nil && attrs.Type != b2.Public {
				t.Errorf("type %v after update", attrs.Type)
			}
			return err
		}},
		{"list again", func() error { _, err := client.ListBuckets(ctx); return err }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			t.Fatalf("%s failed: %v", s.name, err)
		}
	}

	var authorizations, expired, updates int
	for _, c := range log.all() {
		switch {
		case c.name == "b2_authorize_account" && c.status == http.StatusOK:
			authorizations++
		case c.status == http.StatusUnauthorized:
			expired++
		case c.name == "b2_update_bucket" && c.status == http.StatusOK:
			updates++
		case c.status != http.StatusOK:
			t.Errorf("unexpected %d from %s", c.status, c.name)
		}
	}
	if expired < 2 || authorizations != expired+1 {
		t.Errorf("%d expired tokens and %d authorizations; want several expiries, each followed by one re-authorization: %v", expired, authorizations, log.all())
	}
	if updates != 1 {
		t.Errorf("%d updates applied, want exactly 1", updates)
	}
	if b := getBucket(t, h, login(t, h, "master-id", "master-secret"), bucketID(t, h, "alpha-bucket")); b["revision"] != float64(2) {
		t.Errorf("revision %v, want 2: the refused attempt must not have changed the bucket", b["revision"])
	}
}
