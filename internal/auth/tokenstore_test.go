package auth

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
)

// TestTokenStoreShares plays two instances (or one before and after a
// restart): each has its own in-process memory, and both the same storage.
func TestTokenStoreShares(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	storage := &certmagic.FileStorage{Path: dir}
	one := NewTokenStore(NewTokenMemory(10), storage, "http://b2.test")
	two := NewTokenStore(NewTokenMemory(10), storage, "http://b2.test")
	other := NewTokenStore(NewTokenMemory(10), storage, "http://another-realm.test")
	now := time.Now().UTC().Round(0) // as storage gives it back
	every := remembered(now.Add(time.Hour))
	every.Buckets = nil
	none := remembered(now.Add(time.Hour))
	none.Buckets = []string{}
	for token, r := range map[string]Remembered{"4_token-one": remembered(now.Add(time.Hour)), "4_every": every, "4_none": none} {
		if err := one.Remember(ctx, token, r); err != nil {
			t.Fatal(err)
		}
		got, ok, err := two.Lookup(ctx, token, now)
		if err != nil || !ok {
			t.Fatalf("%s: the second instance did not find it: %v %v", token, ok, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("%s: got %+v, want %+v (nil and empty bucket lists differ)", token, got, r)
		}
		if _, ok, _ := other.Lookup(ctx, token, now); ok {
			t.Errorf("%s: found under another realm", token)
		}
	}
	if _, ok, err := two.Lookup(ctx, "4_token-on", now); ok || err != nil {
		t.Errorf("an unknown token: found %v, error %v", ok, err)
	}
	// Nothing in storage holds a token.
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, token := range []string{"4_token-one", "4_every", "4_none"} {
			if strings.Contains(p, token) || strings.Contains(string(b), token) {
				t.Errorf("%s holds the token %s", p, token)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTokenStoreExpiry(t *testing.T) {
	ctx := context.Background()
	storage := &certmagic.FileStorage{Path: t.TempDir()}
	one := NewTokenStore(NewTokenMemory(10), storage, "realm")
	now := time.Now().UTC().Round(0) // as storage gives it back
	if err := one.Remember(ctx, "short", remembered(now.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if err := one.Remember(ctx, "long", remembered(now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	garbage := one.key("garbage")
	if err := storage.Store(ctx, garbage, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	// What a file storage writes an entry through first, under another name.
	if err := storage.Store(ctx, one.prefix+"/4269766944", []byte("{")); err != nil {
		t.Fatal(err)
	}
	two := NewTokenStore(NewTokenMemory(10), storage, "realm")
	if _, ok, _ := two.Lookup(ctx, "short", now.Add(time.Minute)); ok {
		t.Error("an expired entry was found")
	}
	if storage.Exists(ctx, one.key("short")) {
		t.Error("an expired entry found on lookup stays in storage")
	}
	if _, ok, _ := two.Lookup(ctx, "garbage", now); ok {
		t.Error("an unreadable entry was found")
	}
	if err := one.Remember(ctx, "short", remembered(now.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	deleted, err := two.Sweep(ctx, now.Add(2*time.Minute))
	if err != nil || deleted != 2 {
		t.Errorf("sweep deleted %d (%v), want the expired and the unreadable entry", deleted, err)
	}
	if !storage.Exists(ctx, one.prefix+"/4269766944") {
		t.Error("the sweep removed a file that is not an entry")
	}
	if _, ok, _ := NewTokenStore(NewTokenMemory(10), storage, "realm").Lookup(ctx, "long", now.Add(2*time.Minute)); !ok {
		t.Error("the sweep removed a live entry")
	}
	if n, err := NewTokenStore(NewTokenMemory(10), storage, "empty realm").Sweep(ctx, now); n != 0 || err != nil {
		t.Errorf("sweeping a realm with no entries: %d, %v", n, err)
	}
}

// brokenStorage fails every read, as a storage that is down does.
type brokenStorage struct{ certmagic.FileStorage }

func (brokenStorage) Load(context.Context, string) ([]byte, error) {
	return nil, errors.New("storage is down")
}

func TestTokenStoreStorageDown(t *testing.T) {
	ctx := context.Background()
	s := NewTokenStore(NewTokenMemory(10), &brokenStorage{certmagic.FileStorage{Path: t.TempDir()}}, "realm")
	now := time.Now().UTC().Round(0) // as storage gives it back
	if err := s.Remember(ctx, "known", remembered(now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Lookup(ctx, "known", now); !ok || err != nil {
		t.Errorf("a token this process remembers: %v, %v", ok, err)
	}
	if _, ok, err := s.Lookup(ctx, "unknown", now); ok || err == nil {
		t.Errorf("a token storage cannot be asked about: %v, %v; want an error, not a refusal", ok, err)
	}
}

func TestTokenStoreLocal(t *testing.T) {
	ctx := context.Background()
	mem := NewTokenMemory(10)
	s := NewTokenStore(mem, nil, "realm")
	now := time.Now().UTC().Round(0) // as storage gives it back
	if err := s.Remember(ctx, "tok", remembered(now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := NewTokenStore(mem, nil, "realm").Lookup(ctx, "tok", now); !ok || err != nil {
		t.Errorf("the same memory under a new store: %v, %v", ok, err)
	}
	if _, ok, _ := NewTokenStore(NewTokenMemory(10), nil, "realm").Lookup(ctx, "tok", now); ok {
		t.Error("found without storage in another memory")
	}
	if n, err := s.Sweep(ctx, now); n != 0 || err != nil {
		t.Errorf("sweep without storage: %d, %v", n, err)
	}
}
