package auth

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

const signingSecret = "0123456789abcdef0123456789abcdef-signing"

func mustSigner(t *testing.T, secret string) *Signer {
	t.Helper()
	s, err := NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignerRoundTrip(t *testing.T) {
	s := mustSigner(t, signingSecret)
	for _, id := range []string{"writer", "k", "id.with.dots_and-dashes", "ünïcode key", strings.Repeat("x", 300)} {
		tok := s.Issue(id, now, time.Hour)
		got, err := s.Verify(tok, now.Add(time.Hour-time.Millisecond))
		if err != nil || got != id {
			t.Errorf("Verify(Issue(%q)) = %q, %v", id, got, err)
		}
		if !strings.HasPrefix(tok, "bg1_") {
			t.Errorf("token %q lacks the bg1_ prefix", tok)
		}
		for _, c := range tok {
			if c <= ' ' || c > '~' {
				t.Errorf("token %q holds %q, not printable ASCII without spaces", tok, c)
				break
			}
		}
		if strings.Contains(tok, signingSecret) {
			t.Errorf("token %q shows the signing secret", tok)
		}
	}
}

func TestSignerReplicas(t *testing.T) {
	a, b := mustSigner(t, signingSecret), mustSigner(t, signingSecret)
	for _, pair := range [][2]*Signer{{a, b}, {b, a}} {
		got, err := pair[1].Verify(pair[0].Issue("writer", now, time.Hour), now)
		if err != nil || got != "writer" {
			t.Errorf("a replica refused another's token: %q, %v", got, err)
		}
	}
}

func TestSignerTokensAreDistinct(t *testing.T) {
	s := mustSigner(t, signingSecret)
	seen := map[string]bool{}
	for range 1000 {
		tok := s.Issue("writer", now, time.Hour)
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
}

func TestSignerExpiry(t *testing.T) {
	s := mustSigner(t, signingSecret)
	tok := s.Issue("writer", now, time.Hour)
	cases := []struct {
		at   time.Time
		want error
	}{
		{now, nil},
		{now.Add(-time.Hour), nil}, // replicas' clocks differ; the time of issue is not checked
		{now.Add(time.Hour - time.Millisecond), nil},
		{now.Add(time.Hour), ErrTokenExpired},
		{now.Add(48 * time.Hour), ErrTokenExpired},
	}
	for _, c := range cases {
		if _, err := s.Verify(tok, c.at); err != c.want {
			t.Errorf("at %v: %v, want %v", c.at.Sub(now), err, c.want)
		}
	}
	if _, err := s.Verify(s.Issue("writer", now, -time.Minute), now); err != ErrTokenExpired {
		t.Errorf("negative ttl: %v, want ErrTokenExpired", err)
	}
}

// flip changes the character at i to another from the base64url alphabet.
func flip(tok string, i int) string {
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

func TestSignerRefuses(t *testing.T) {
	s := mustSigner(t, signingSecret)
	other := mustSigner(t, signingSecret+"-other")
	tok := s.Issue("writer", now, time.Hour)
	dot := strings.IndexByte(tok, '.')
	// The signature's last character carries 4 bits then 2 zero bits; with
	// the lowest bit set, a lax decoder reads the same signature.
	lax := tok[:len(tok)-1] + string(b64Alphabet[strings.IndexByte(b64Alphabet, tok[len(tok)-1])+1])
	if a, _ := base64.RawURLEncoding.DecodeString(lax[dot+1:]); !bytes.Equal(a, s.sign(tok[:dot])) {
		t.Fatal("the non-canonical signature is not the same signature")
	}
	cases := map[string]string{
		"payload tampered":    flip(tok, dot-2),
		"prefix tampered":     "bg2_" + tok[4:],
		"signature tampered":  flip(tok, dot+5),
		"other secret":        other.Issue("writer", now, time.Hour),
		"truncated":           tok[:len(tok)-1],
		"signature dropped":   tok[:dot],
		"signature empty":     tok[:dot+1],
		"payload dropped":     "bg1_" + tok[dot:],
		"extra part":          tok + ".x",
		"padded":              tok + "=",
		"non-canonical":       lax,
		"garbage":             "not a token",
		"empty":               "",
		"B2 token":            "4_0022623512fc8f80000000001_01a7b2c9_a1b2c3_acct_abcdefghijklmnop=",
		"signed, short":       s.sealed("bg1_" + b64.EncodeToString(make([]byte, payloadHeader))),
		"signed, not base64":  s.sealed("bg1_!!!!"),
		"signed, other label": s.sealed("xx1_" + b64.EncodeToString(make([]byte, payloadHeader+3))),
	}
	for name, bad := range cases {
		if bad == tok {
			t.Fatalf("%s: the test did not change the token", name)
		}
		if id, err := s.Verify(bad, now); err != ErrBadToken {
			t.Errorf("%s: Verify(%q) = %q, %v; want ErrBadToken", name, bad, id, err)
		}
	}
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// sealed signs an arbitrary body as Issue would, to reach the checks made
// after the signature.
func (s *Signer) sealed(body string) string {
	return body + "." + b64.EncodeToString(s.sign(body))
}

func TestNewSignerRefuses(t *testing.T) {
	for name, secret := range map[string]string{
		"empty":       "",
		"31 bytes":    signingSecret[:31],
		"placeholder": "{env.BG_SIGNING_SECRET_THAT_IS_LONG_ENOUGH}",
	} {
		s, err := NewSigner(secret)
		if err == nil || s != nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if secret != "" && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error %q shows the secret", name, err)
		}
	}
	if _, err := NewSigner(signingSecret[:32]); err != nil {
		t.Errorf("32 bytes refused: %v", err)
	}
}

func TestSignerKeepsNoSecret(t *testing.T) {
	s := mustSigner(t, signingSecret)
	text := reachableText(s)
	if len(text) != 1 || len(text[0]) != 32 {
		t.Fatalf("the walk did not reach the signing key: %q", text)
	}
	if holds(s, signingSecret[:16]) {
		t.Error("the Signer holds the signing secret")
	}
}
