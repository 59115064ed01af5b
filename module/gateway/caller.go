package gateway

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/internal/auth"
	"github.com/bucketgate/bucketgate/internal/dialect"
)

// Who sent a call, and what it may do: authentication and authorisation, the
// pipeline's second and fourth steps.

// caller is who sent a call, as far as the gateway can tell.
type caller struct {
	// key is the gateway key (gateway mode).
	key *auth.Principal
	// remembered is what the upstream granted the client's token
	// (passthrough mode with a realm).
	remembered *auth.Remembered
}

// id names the caller in logs: a key id, never a secret or token.
func (c *caller) id() string {
	switch {
	case c.key != nil:
		return c.key.KeyID
	case c.remembered != nil:
		return c.remembered.KeyID
	}
	return ""
}

func (c *caller) has(capability string) bool {
	switch {
	case c.key != nil:
		return c.key.Has(capability)
	case c.remembered != nil:
		return c.remembered.Has(capability)
	}
	return true // the upstream decides
}

// limited reports whether the caller may use only some buckets.
func (c *caller) limited() bool {
	switch {
	case c.key != nil:
		return c.key.Buckets != nil
	case c.remembered != nil:
		return c.remembered.Buckets != nil
	}
	return false
}

func (c *caller) mayUseBucket(id string) bool {
	switch {
	case c.key != nil:
		return c.key.MayUseBucket(id)
	case c.remembered != nil:
		return c.remembered.MayUseBucket(id)
	}
	return true
}

// authenticate finds out who sent r: a gateway key (gateway mode), an
// upstream token the gateway has seen signed in (passthrough with a realm),
// or a credential it can only check for form (plain passthrough).
func (h *Handler) authenticate(r *http.Request) (*caller, *dialect.Error) {
	cred, derr := h.clientSide.Credential(r)
	if derr != nil {
		return nil, derr
	}
	now := time.Now()
	switch {
	case h.Mode == modeGateway && h.signer != nil:
		keyID, err := h.signer.Verify(cred, now)
		if errors.Is(err, auth.ErrTokenExpired) {
			return nil, dialect.NewError(dialect.Expired, "authorization token has expired; sign in again")
		}
		if err != nil {
			return nil, dialect.NewError(dialect.Unauthenticated, "authorization token is not valid here; sign in again through this gateway")
		}
		return h.keyCaller(h.keyring.Lookup(keyID, now))
	case h.Mode == modeGateway:
		return h.keyCaller(h.keyring.Bearer(cred, now))
	case h.tokens != nil:
		rem, ok, err := h.tokens.Lookup(r.Context(), cred, now)
		if err != nil {
			// The token may be good; telling the client to sign in again
			// would not help while storage is down.
			h.logger.Error("could not look the token up in storage", zap.Error(err))
			return nil, dialect.NewError(dialect.UpstreamFailed, "the gateway's storage, where it remembers tokens, could not be read")
		}
		if !ok {
			// Never signed in through a gateway sharing this one's storage,
			// or expired: B2 clients sign in again on this code.
			return nil, dialect.NewError(dialect.Unauthenticated, "authorization token unknown to this gateway; sign in again through it")
		}
		return &caller{remembered: &rem}, nil
	}
	return &caller{}, nil
}

func (h *Handler) keyCaller(p *auth.Principal, err error) (*caller, *dialect.Error) {
	switch {
	case errors.Is(err, auth.ErrKeyExpired):
		return nil, dialect.NewError(dialect.Expired, "this gateway key has expired")
	case err != nil:
		return nil, dialect.NewError(dialect.Unauthenticated, "unknown gateway key")
	}
	return &caller{key: p}, nil
}

// authorise checks what can be checked from the write itself: the bucket,
// the capabilities the write and each of its fields need, the account, who
// may make a bucket public, and, for a creation, the role it needs in its
// workspace. Grants on an existing bucket's workspace need the bucket's
// state and are checked where it is read (readCurrent).
func (h *Handler) authorise(x *exchange) *dialect.Error {
	c, doc := x.who, x.doc
	op := doc.Call.Op
	switch {
	case op == dialect.OpCreate && c.limited():
		return dialect.NewError(dialect.Forbidden, "a key limited to some buckets cannot create one")
	case op != dialect.OpCreate && !c.mayUseBucket(h.clientSide.BucketID(doc)):
		return dialect.NewError(dialect.Forbidden, "this key may not use this bucket")
	}
	if op == dialect.OpCreate && h.clientSide.workspaces != nil && h.workspaced() {
		target, _ := h.clientSide.workspaces.Workspace(doc)
		if derr := authoriseWorkspace(c, op, dialect.Bucket{}, target, true); derr != nil {
			return derr
		}
	}
	if h.clientSide.scopes == nil {
		return nil
	}
	var missing []string
	for _, need := range h.clientSide.scopes.Needs(doc) {
		if !c.has(need) {
			missing = append(missing, need)
		}
	}
	if len(missing) > 0 {
		return dialect.NewError(dialect.Forbidden, "this key lacks the capabilities this "+opNames[op]+" needs: "+strings.Join(missing, ", "))
	}
	if c.remembered != nil {
		if acct := h.clientSide.scopes.Account(doc); acct != "" && acct != c.remembered.AccountID {
			return dialect.NewError(dialect.Forbidden, "accountId is not the account of this token")
		}
	}
	if h.clientSide.scopes.MakesPublic(doc) {
		switch {
		case c.key != nil && !c.key.AllowPublic:
			return dialect.NewError(dialect.Forbidden, "making a bucket public is reserved to keys granted it (allow_public), and this key is not")
		case c.remembered != nil && len(h.PublicKeyIDs) > 0 && !slices.Contains(h.PublicKeyIDs, c.remembered.KeyID):
			return errPublicKeyIDs
		}
	}
	return h.sameAccount(x)
}

// opNames name each write in messages.
var opNames = map[dialect.Op]string{dialect.OpCreate: "creation", dialect.OpUpdate: "update", dialect.OpDelete: "deletion"}

var errPublicKeyIDs = dialect.NewError(dialect.Forbidden, "making a bucket public is reserved to the application keys listed in public_key_ids, and this token's key is not")

// authoriseWorkspace checks a gateway key's workspace grants for a write
// op: creating a bucket needs WRITE (or ADMIN) on the workspace it goes in
// (target); changing or deleting one needs the same on its workspace, as
// the upstream reports it (current), and moving it needs it on the target
// too. A Flashback key's role is its right to write; what a workspace holds
// is the upstream's to say.
func authoriseWorkspace(c *caller, op dialect.Op, current dialect.Bucket, target string, moves bool) *dialect.Error {
	if c.key == nil {
		return nil
	}
	if op == dialect.OpCreate {
		if c.key.Role(target) < auth.RoleWrite {
			return dialect.NewError(dialect.Forbidden, "creating a bucket needs WRITE or ADMIN on its workspace")
		}
		return nil
	}
	if c.key.Role(current.Workspace) < auth.RoleWrite {
		return dialect.NewError(dialect.Forbidden, "this key needs WRITE or ADMIN on the bucket's workspace")
	}
	if moves && target != current.Workspace && c.key.Role(target) < auth.RoleWrite {
		return dialect.NewError(dialect.Forbidden, "moving a bucket needs WRITE or ADMIN on the target workspace too")
	}
	return nil
}

// sameAccount refuses, for a gateway key, a write naming another account
// than the one its sign-in answer showed (the upstream's, or the gateway's
// own name for an upstream without accounts), as B2 refuses an accountId
// that is not the token's. The gateway would otherwise put its own account
// in and apply an update B2 itself refuses.
func (h *Handler) sameAccount(x *exchange) *dialect.Error {
	if x.who.key == nil || h.clientSide.scopes == nil {
		return nil
	}
	acct := h.clientSide.scopes.Account(x.doc)
	if acct == "" {
		return nil
	}
	want := h.upstreamAccount()
	if h.session != nil {
		g, derr := h.upstreamGrant(x)
		if derr != nil {
			return derr
		}
		want = g.AccountID
	}
	if acct != want {
		return dialect.NewError(dialect.Forbidden, "accountId is not the account of this token")
	}
	return nil
}
