package auth

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func remembered(expires time.Time) Remembered {
	return Remembered{
		APIURL: "https://api002.backblazeb2.com", AccountID: "acct", KeyID: "upstream-key-id",
		Capabilities: []string{"listBuckets", "writeBuckets"}, Buckets: []string{"b1"}, Expires: expires,
	}
}

func TestTokenMemoryLookup(t *testing.T) {
	m := NewTokenMemory(10)
	start := time.Now()
	want := remembered(start.Add(time.Hour))
	m.Remember("4_token-one", want)
	m.Remember("4_token-zero", remembered(time.Time{}))
	cases := []struct {
		name, token string
		at          time.Time
		ok          bool
	}{
		{"known", "4_token-one", start, true},
		{"just before expiry", "4_token-one", start.Add(time.Hour - time.Nanosecond), true},
		{"unknown", "4_token-two", start, false},
		{"prefix of a known token", "4_token-on", start, false},
		{"zero expiry", "4_token-zero", start, false},
		{"expired", "4_token-one", start.Add(time.Hour), false},
		{"expired entries are forgotten", "4_token-one", start, false},
	}
	for _, c := range cases {
		got, ok := m.Lookup(c.token, c.at)
		if ok != c.ok {
			t.Errorf("%s: found %v, want %v", c.name, ok, c.ok)
			continue
		}
		if !ok && !reflect.DeepEqual(got, Remembered{}) {
			t.Errorf("%s: not found, yet returned %+v", c.name, got)
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, want)
		}
	}
}

func TestTokenMemoryReplaces(t *testing.T) {
	m := NewTokenMemory(10)
	expires := time.Now().Add(time.Hour)
	m.Remember("tok", remembered(expires))
	second := remembered(expires)
	second.Buckets = nil
	m.Remember("tok", second)
	if got, ok := m.Lookup("tok", time.Now()); !ok || got.Buckets != nil {
		t.Errorf("got %+v, %v; want the second entry", got, ok)
	}
}

func TestTokenMemoryCopies(t *testing.T) {
	m := NewTokenMemory(10)
	r := remembered(time.Now().Add(time.Hour))
	m.Remember("tok", r)
	r.Capabilities[0], r.Buckets[0] = "all", "b9"
	got, _ := m.Lookup("tok", time.Now())
	got.Capabilities[1], got.Buckets[0] = "all", "b8"
	again, _ := m.Lookup("tok", time.Now())
	if again.Has("all") || !again.MayUseBucket("b1") {
		t.Errorf("the memory shares slices with its callers: %+v", again)
	}
}

func TestTokenMemoryBound(t *testing.T) {
	live := time.Now().Add(time.Hour)
	cases := []struct {
		name     string
		remember []string // "name" is live, "name-" expired
		gone     []string
		kept     []string
	}{
		{"oldest dropped", []string{"a", "b", "c", "d"}, []string{"a"}, []string{"b", "c", "d"}},
		{"expired swept first", []string{"a", "b-", "c", "d"}, []string{"b-"}, []string{"a", "c", "d"}},
		{"all expired swept", []string{"a-", "b-", "c-", "d"}, []string{"a-", "b-", "c-"}, []string{"d"}},
		{"re-remembered is young", []string{"a", "b", "c", "a", "d"}, []string{"b"}, []string{"a", "c", "d"}},
		{"many past the bound", []string{"a", "b", "c", "d", "e", "f", "g"}, []string{"a", "b", "c", "d"}, []string{"e", "f", "g"}},
	}
	for _, c := range cases {
		m := NewTokenMemory(3)
		for _, tok := range c.remember {
			r := remembered(live)
			if tok[len(tok)-1] == '-' {
				r.Expires = time.Now().Add(-time.Second)
			}
			m.Remember(tok, r)
		}
		if len(m.entries) > 3 || m.order.Len() != len(m.entries) {
			t.Errorf("%s: %d entries, %d in order; bound 3", c.name, len(m.entries), m.order.Len())
		}
		// Expired entries would not be found anyway: look at what is held.
		for _, tok := range c.gone {
			if m.holdsToken(tok) {
				t.Errorf("%s: %s still held", c.name, tok)
			}
		}
		for _, tok := range c.kept {
			if !m.holdsToken(tok) {
				t.Errorf("%s: %s dropped", c.name, tok)
			}
		}
	}
}

func (m *TokenMemory) holdsToken(token string) bool {
	_, ok := m.entries[sha256.Sum256([]byte(token))]
	return ok
}

func TestNewTokenMemoryBound(t *testing.T) {
	for _, max := range []int{0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewTokenMemory(%d) took a bound that holds nothing", max)
				}
			}()
			NewTokenMemory(max)
		}()
	}
	if got := NewTokenMemory(5).max; got != 5 {
		t.Errorf("NewTokenMemory(5) holds %d", got)
	}
}

func TestRemembered(t *testing.T) {
	cases := []struct {
		buckets []string
		bucket  string
		may     bool
	}{
		{nil, "b1", true},
		{[]string{}, "b1", false},
		{[]string{"b1"}, "b1", true},
		{[]string{"b1"}, "b2", false},
	}
	for _, c := range cases {
		r := Remembered{Buckets: c.buckets}
		if got := r.MayUseBucket(c.bucket); got != c.may {
			t.Errorf("buckets %#v: MayUseBucket(%q) = %v", c.buckets, c.bucket, got)
		}
	}
	r := remembered(time.Time{})
	if !r.Has("writeBuckets") || r.Has("deleteBuckets") {
		t.Errorf("Has wrong for %q", r.Capabilities)
	}
}

func TestTokenMemoryKeepsNoToken(t *testing.T) {
	const token = "4_0022623512fc8f80000000001_01a7b2c9_a1b2c3_acct_rawtoken="
	m := NewTokenMemory(10)
	m.Remember(token, remembered(time.Now().Add(time.Hour)))
	if !holds(m, "upstream-key-id") {
		t.Fatal("the walk does not reach the entries")
	}
	if holds(m, token) || holds(m, token[:20]) || strings.Contains(fmt.Sprintf("%#v", m.entries), token) {
		t.Error("the memory holds the token in clear")
	}
}

func TestTokenMemoryConcurrent(t *testing.T) {
	m := NewTokenMemory(50)
	expires := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				tok := fmt.Sprintf("tok-%d-%d", g, i%80)
				m.Remember(tok, remembered(expires))
				if r, ok := m.Lookup(tok, time.Now()); ok && r.KeyID != "upstream-key-id" {
					t.Errorf("%s: got %+v", tok, r)
				}
			}
		})
	}
	wg.Wait()
	if len(m.entries) > 50 || m.order.Len() != len(m.entries) {
		t.Errorf("%d entries, %d in order; bound 50", len(m.entries), m.order.Len())
	}
}
