package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"sync/atomic"
	"time"

	"github.com/caddyserver/certmagic"
)

// TokenStorePrefix is where passthrough token entries live in Caddy's
// storage, under one directory per realm.
const TokenStorePrefix = "bucketgate/tokens"

// sweepEvery is how often, at most, a TokenStore clears expired entries out
// of storage. Sweeps follow sign-ins, the only thing that adds entries, so
// storage holds at most about one sweep period plus one token lifetime of
// sign-ins.
const sweepEvery = time.Hour

// TokenStore is passthrough mode's memory of upstream tokens: a bounded
// in-process TokenMemory in front of Caddy's configured storage, so that
// every instance sharing the storage knows a token any of them saw signed
// in, and a configuration reload forgets nothing. With no storage it is the
// in-process memory alone.
//
// Storage holds, per token, the hex SHA-256 digest of the token as the key
// and what the gateway must know about it as the value; never the token.
// The digest is unkeyed so that instances need no shared secret to find
// each other's entries: B2 tokens are long random strings, so their digest
// can be neither reversed nor guessed, and a digest is no credential
// upstream. What storage says a token may do is trusted as Caddy trusts it
// with certificate keys: anyone who can write there can already take over
// the server's TLS.
type TokenStore struct {
	local   *TokenMemory
	storage certmagic.Storage
	prefix  string
	// lastSweep is when this process last started a sweep, in Unix
	// nanoseconds; zero before the first.
	lastSweep atomic.Int64
}

// storedToken is a token's entry in storage: Remembered, field for field.
type storedToken struct {
	APIURL       string    `json:"apiUrl"`
	AccountID    string    `json:"accountId"`
	KeyID        string    `json:"keyId"`
	Capabilities []string  `json:"capabilities"`
	Buckets      []string  `json:"buckets"` // null: every bucket
	Expires      time.Time `json:"expires"`
}

// NewTokenStore returns a store that caches in local and shares through
// storage (nil: nothing leaves the process). Entries are kept apart per
// namespace, the realm the tokens were signed in at, so gateways in front of
// different services never take each other's tokens.
func NewTokenStore(local *TokenMemory, storage certmagic.Storage, namespace string) *TokenStore {
	ns := sha256.Sum256([]byte(namespace))
	return &TokenStore{local: local, storage: storage, prefix: path.Join(TokenStorePrefix, hex.EncodeToString(ns[:8]))}
}

// Shared reports whether the store writes through to Caddy's storage.
func (s *TokenStore) Shared() bool { return s.storage != nil }

// Len returns the number of tokens in this process's memory; storage may
// hold more.
func (s *TokenStore) Len() int { return s.local.Len() }

func (s *TokenStore) key(token string) string {
	d := sha256.Sum256([]byte(token))
	return path.Join(s.prefix, hex.EncodeToString(d[:]))
}

// Remember records r for token here and in storage. An error means only
// this process knows the token.
func (s *TokenStore) Remember(ctx context.Context, token string, r Remembered) error {
	s.local.Remember(token, r)
	if s.storage == nil {
		return nil
	}
	data, err := json.Marshal(storedToken(r))
	if err != nil {
		return err
	}
	if err := s.storage.Store(ctx, s.key(token), data); err != nil {
		return err
	}
	s.maybeSweep(time.Now())
	return nil
}

// Lookup returns what is known of token: from this process's memory, or
// else from storage, where another instance (or this one, before a reload
// or restart) remembered it. An error means storage could not be read, so
// the token may well be valid.
func (s *TokenStore) Lookup(ctx context.Context, token string, now time.Time) (Remembered, bool, error) {
	if r, ok := s.local.Lookup(token, now); ok {
		return r, true, nil
	}
	if s.storage == nil {
		return Remembered{}, false, nil
	}
	key := s.key(token)
	data, err := s.storage.Load(ctx, key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Remembered{}, false, nil
	case err != nil:
		return Remembered{}, false, err
	}
	var st storedToken
	if json.Unmarshal(data, &st) != nil {
		// Not an entry this code wrote; the sweep clears it.
		return Remembered{}, false, nil
	}
	if !now.Before(st.Expires) {
		_ = s.storage.Delete(ctx, key)
		return Remembered{}, false, nil
	}
	r := Remembered(st)
	s.local.Remember(token, r)
	return r, true, nil
}

// maybeSweep starts a sweep in the background if this process has not
// started one within sweepEvery.
func (s *TokenStore) maybeSweep(now time.Time) {
	last := s.lastSweep.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < sweepEvery {
		return
	}
	if !s.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return // another request started it
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_, _ = s.Sweep(ctx, time.Now())
	}()
}

// isDigest reports whether name is the hex SHA-256 digest entries are named by.
func isDigest(name string) bool {
	b, err := hex.DecodeString(name)
	return err == nil && len(b) == sha256.Size
}

// Sweep deletes from storage the entries of this store's namespace that
// have expired or cannot be read, and reports how many it deleted. Several
// instances sweeping at once only repeat each other's deletes.
func (s *TokenStore) Sweep(ctx context.Context, now time.Time) (int, error) {
	if s.storage == nil {
		return 0, nil
	}
	keys, err := s.storage.List(ctx, s.prefix, false)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, key := range keys {
		if !isDigest(path.Base(key)) {
			// Not an entry: a file storage's temporary file for an entry
			// being written, say, which must be left alone.
			continue
		}
		data, err := s.storage.Load(ctx, key)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return deleted, err
		}
		var st storedToken
		if json.Unmarshal(data, &st) == nil && now.Before(st.Expires) {
			continue
		}
		if err := s.storage.Delete(ctx, key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return deleted, err
		}
		deleted++
	}
	return deleted, nil
}
