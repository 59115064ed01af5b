package auth

import (
	"container/list"
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// Remembered is what the gateway learnt about an upstream B2 token when it
// proxied the b2_authorize_account that returned it.
type Remembered struct {
	// APIURL is the upstream apiUrl for the token's account.
	APIURL    string
	AccountID string
	// KeyID is the upstream applicationKeyId that was authorized.
	KeyID        string
	Capabilities []string
	// Buckets are the allowed bucket ids; nil means every bucket, and an
	// empty, non-nil list none.
	Buckets []string
	// Expires is when the token stops being valid upstream.
	Expires time.Time
}

// Has reports whether the token holds the B2 capability.
func (r *Remembered) Has(capability string) bool {
	return slices.Contains(r.Capabilities, capability)
}

// MayUseBucket reports whether the token may act on the bucket.
func (r *Remembered) MayUseBucket(bucketID string) bool {
	return r.Buckets == nil || slices.Contains(r.Buckets, bucketID)
}

// clone keeps the memory's copy apart from the slices of its callers.
func (r Remembered) clone() Remembered {
	r.Capabilities = slices.Clone(r.Capabilities)
	r.Buckets = slices.Clone(r.Buckets)
	return r
}

// TokenMemory remembers, in passthrough mode, what the gateway learnt about
// upstream B2 tokens, until each expires. A token is kept only as its SHA-256
// digest. The memory is bounded: when full, expired entries are dropped, and
// then the oldest. It is safe for concurrent use.
type TokenMemory struct {
	mu      sync.Mutex
	max     int
	entries map[[sha256.Size]byte]*list.Element
	// order holds the *memoryEntry values, least recently remembered first.
	order list.List
}

type memoryEntry struct {
	digest [sha256.Size]byte
	r      Remembered
}

// NewTokenMemory returns an empty memory for at most max tokens; max must
// be positive.
func NewTokenMemory(max int) *TokenMemory {
	if max <= 0 {
		panic("auth: NewTokenMemory needs a positive bound")
	}
	return &TokenMemory{max: max, entries: make(map[[sha256.Size]byte]*list.Element)}
}

// Remember records r for token, replacing what was known of it. An entry
// with a zero Expires is never found.
func (m *TokenMemory) Remember(token string, r Remembered) {
	d := sha256.Sum256([]byte(token))
	r = r.clone()
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[d]; ok {
		el.Value.(*memoryEntry).r = r
		m.order.MoveToBack(el)
		return
	}
	if len(m.entries) >= m.max {
		m.sweep(time.Now())
		for len(m.entries) >= m.max {
			m.remove(m.order.Front())
		}
	}
	m.entries[d] = m.order.PushBack(&memoryEntry{digest: d, r: r})
}

// Lookup returns what is remembered of token, and false if nothing is or
// the token has expired.
func (m *TokenMemory) Lookup(token string, now time.Time) (Remembered, bool) {
	d := sha256.Sum256([]byte(token))
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.entries[d]
	if !ok {
		return Remembered{}, false
	}
	r := el.Value.(*memoryEntry).r
	if !now.Before(r.Expires) {
		m.remove(el)
		return Remembered{}, false
	}
	return r.clone(), true
}

// Len returns the number of tokens remembered, expired ones not yet
// dropped included.
func (m *TokenMemory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// sweep drops the expired entries. It runs only when the memory is full,
// which follows an upstream authorization, far slower than the walk.
func (m *TokenMemory) sweep(now time.Time) {
	for el := m.order.Front(); el != nil; {
		next := el.Next()
		if !now.Before(el.Value.(*memoryEntry).r.Expires) {
			m.remove(el)
		}
		el = next
	}
}

func (m *TokenMemory) remove(el *list.Element) {
	delete(m.entries, el.Value.(*memoryEntry).digest)
	m.order.Remove(el)
}
