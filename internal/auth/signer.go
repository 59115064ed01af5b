package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// MinSigningSecretLength is the shortest signing secret accepted, in bytes:
// as many as the HMAC-SHA256 key it becomes.
const MinSigningSecretLength = 32

// tokenPrefix marks a gateway token and its format version; it is covered by
// the signature, so a token cannot be replayed as another version.
const tokenPrefix = "bg1_"

// Payload layout: issued and expires as big-endian Unix milliseconds, a
// random nonce, then the key id (the rest). The time of issue is not checked;
// it is there for whoever reads a token while investigating.
const (
	expiresOffset = 8
	nonceOffset   = 16
	payloadHeader = 32
)

// Strict decoding refuses the several spellings of one signature that
// non-zero trailing bits would otherwise allow.
var b64 = base64.RawURLEncoding.Strict()

// Signer issues and checks gateway tokens. A token is self-contained, so every
// gateway replica configured with the same signing secret accepts the tokens
// of the others, with no shared store. A Signer is read-only once built, so
// safe for concurrent use.
//
// A token is "bg1_" + base64url(payload) + "." + base64url(HMAC-SHA256 of
// everything before the dot), without padding; the payload holds the times of
// issue and expiry, a random nonce and the key id. It is printable ASCII
// without spaces, as B2 clients need to send it raw, and reveals nothing but
// the key id and its times.
type Signer struct {
	key [sha256.Size]byte
}

// NewSigner returns a Signer for a signing secret of at least
// MinSigningSecretLength bytes. The secret itself is not kept: tokens are
// signed with a key derived from it for this purpose only, so that the same
// secret used for something else could not produce a valid token.
func NewSigner(secret string) (*Signer, error) {
	if len(secret) < MinSigningSecretLength {
		return nil, fmt.Errorf("auth: signing secret shorter than %d bytes", MinSigningSecretLength)
	}
	if _, err := caddy.NewEmptyReplacer().ReplaceOrErr(secret, false, true); err != nil {
		return nil, errors.New("auth: signing secret holds a placeholder that was not expanded")
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("bucketgate gateway token signing key v1"))
	s := &Signer{}
	m.Sum(s.key[:0])
	return s, nil
}

// Issue returns a new token for keyID (not empty), valid from issued for ttl.
// Two calls never return the same token.
func (s *Signer) Issue(keyID string, issued time.Time, ttl time.Duration) string {
	p := make([]byte, payloadHeader, payloadHeader+len(keyID))
	binary.BigEndian.PutUint64(p, uint64(issued.UnixMilli()))
	binary.BigEndian.PutUint64(p[expiresOffset:], uint64(issued.Add(ttl).UnixMilli()))
	rand.Read(p[nonceOffset:payloadHeader])
	p = append(p, keyID...)
	body := tokenPrefix + b64.EncodeToString(p)
	return body + "." + b64.EncodeToString(s.sign(body))
}

// Verify checks a token and returns the key id it was issued for:
// ErrBadToken if it is malformed or not signed by this secret, ErrTokenExpired
// if it is past its expiry. The signature is checked before anything in the
// payload is trusted.
func (s *Signer) Verify(token string, now time.Time) (keyID string, err error) {
	body, sig, ok := strings.Cut(token, ".")
	if !ok || !strings.HasPrefix(body, tokenPrefix) {
		return "", ErrBadToken
	}
	mac, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, s.sign(body)) {
		return "", ErrBadToken
	}
	p, err := b64.DecodeString(body[len(tokenPrefix):])
	if err != nil || len(p) <= payloadHeader {
		return "", ErrBadToken
	}
	if now.UnixMilli() >= int64(binary.BigEndian.Uint64(p[expiresOffset:])) {
		return "", ErrTokenExpired
	}
	return string(p[payloadHeader:]), nil
}

func (s *Signer) sign(body string) []byte {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte(body))
	return m.Sum(nil)
}
