package gateway

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/internal/auth"
	"github.com/bucketgate/bucketgate/internal/dialect"
)

// update is the pipeline, in the order it runs: authenticate → read →
// validate → authorise → precondition → (state) → write → answer. Each step
// either yields what the next needs or a refusal that the client's dialect
// renders; nothing is written before the end.
func (h *Handler) update(x *exchange) error {
	// Credentials first: a body is read only for a caller the gateway
	// could not already refuse, and nothing of it is logged otherwise.
	who, derr := h.authenticate(x.r)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.who = who
	x.verified(who.id())

	read := func() ([]byte, *dialect.Error) { return readBody(x.w, x.r, h.MaxBodySize) }
	u, derr := h.clientSide.Decode(x.r, x.call, read)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.u = u
	x.d.bucketID, x.d.fields = h.clientSide.BucketID(u), u.Fields()

	if derr := h.clientSide.Validate(u); derr != nil {
		return h.refuse(x, derr)
	}

	if derr := h.authorise(who, u); derr != nil {
		return h.refuse(x, derr)
	}
	if derr := h.sameAccount(x); derr != nil {
		return h.refuse(x, derr)
	}

	if x.pre, derr = h.precondition(x.r, u); derr != nil {
		return h.refuse(x, derr)
	}

	if h.translating() {
		return h.writeTranslated(x)
	}
	return h.write(x)
}

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

// authorise checks what can be checked from the update itself: the
// capabilities each field needs, the bucket, the account, and who may make
// a bucket public. Workspace grants need the bucket's state and are checked
// where it is read.
func (h *Handler) authorise(c *caller, u *dialect.Document) *dialect.Error {
	bucket := h.clientSide.BucketID(u)
	if !c.mayUseBucket(bucket) {
		return dialect.NewError(dialect.Forbidden, "this key may not use this bucket")
	}
	if h.clientSide.scopes == nil {
		return nil
	}
	var missing []string
	for _, need := range h.clientSide.scopes.Needs(u) {
		if !c.has(need) {
			missing = append(missing, need)
		}
	}
	if len(missing) > 0 {
		return dialect.NewError(dialect.Forbidden, "this key lacks the capabilities this update needs: "+strings.Join(missing, ", "))
	}
	if c.remembered != nil {
		if acct := h.clientSide.scopes.Account(u); acct != "" && acct != c.remembered.AccountID {
			return dialect.NewError(dialect.Forbidden, "accountId is not the account of this token")
		}
	}
	if h.clientSide.scopes.MakesPublic(u) {
		switch {
		case c.key != nil && !c.key.AllowPublic:
			return dialect.NewError(dialect.Forbidden, "making a bucket public is reserved to keys granted it (allow_public), and this key is not")
		case c.remembered != nil && len(h.PublicKeyIDs) > 0 && !slices.Contains(h.PublicKeyIDs, c.remembered.KeyID):
			return errPublicKeyIDs
		}
	}
	return nil
}

var errPublicKeyIDs = dialect.NewError(dialect.Forbidden, "making a bucket public is reserved to the application keys listed in public_key_ids, and this token's key is not")

// authoriseWorkspace checks a gateway key's workspace grants against the
// bucket as the upstream reports it: changing a bucket needs WRITE (or
// ADMIN) on its workspace, and moving it needs the same on the target.
func authoriseWorkspace(c *caller, state dialect.Bucket, target string, moves bool) *dialect.Error {
	if c.key == nil {
		return nil
	}
	if c.key.Role(state.Workspace) < auth.RoleWrite {
		return dialect.NewError(dialect.Forbidden, "this key needs WRITE or ADMIN on the bucket's workspace")
	}
	if moves && target != state.Workspace && c.key.Role(target) < auth.RoleWrite {
		return dialect.NewError(dialect.Forbidden, "moving a bucket needs WRITE or ADMIN on the target workspace too")
	}
	return nil
}

// sameAccount refuses, for a gateway key, an update naming another account
// than the one its sign-in answer showed (the upstream's, or the gateway's
// own name for an upstream without accounts), as B2 refuses an accountId
// that is not the token's. The gateway would otherwise put its own account
// in and apply an update B2 itself refuses.
func (h *Handler) sameAccount(x *exchange) *dialect.Error {
	if x.who.key == nil || h.clientSide.scopes == nil {
		return nil
	}
	acct := h.clientSide.scopes.Account(x.u)
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

// readBody reads the whole request body, refusing it cheaply when it is
// over the limit: by its declared length before reading anything, and by
// counting otherwise (chunked bodies declare none).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *dialect.Error) {
	if r.ContentLength > limit {
		return nil, bodyTooLarge(limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	// A declared length sizes the buffer once (one byte more, so the read
	// that finds the end needs no room); otherwise it grows as io.ReadAll's.
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, limit), make([]byte, 0, size))
	_ = r.Body.Close()
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, bodyTooLarge(limit)
		}
		return nil, dialect.NewError(dialect.BadRequest, "request body could not be read")
	}
	return body, nil
}

// readAll is io.ReadAll into buf.
func readAll(rd io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func bodyTooLarge(limit int64) *dialect.Error {
	return dialect.NewError(dialect.TooLarge, fmt.Sprintf("request body is larger than the %d bytes allowed", limit))
}

// write sends an update of the upstream's own API: as validated, after the
// state step where the gateway derives revisions itself.
func (h *Handler) write(x *exchange) error {
	if x.who.remembered != nil {
		routeTo(x.r, x.who.remembered.APIURL)
	}
	if derr := h.outbound(x.r, x.u); derr != nil {
		return h.refuse(x, derr)
	}
	if h.upstreamSide.derived != nil {
		// The gateway compares derived revisions itself, so no other update
		// of this bucket, through this process or another instance, may come
		// between the check, the write and the read of the new revision.
		unlock, derr := h.lockUpdate(x)
		if derr != nil {
			return h.refuse(x, derr)
		}
		defer unlock()
		if x.pre.set || x.who.key != nil {
			target, moves := h.upstreamSide.derived.MovesTo(x.u)
			if _, derr := h.readCurrent(x, target, moves); derr != nil {
				return h.refuse(x, derr)
			}
		}
	}
	return h.send(x)
}

// outbound makes r the upstream call carrying u, an update of the
// upstream's API (the client's own, unless translating), as it now stands.
func (h *Handler) outbound(r *http.Request, u *dialect.Document) *dialect.Error {
	out, err := u.Body()
	if err != nil {
		return dialect.NewError(dialect.BadRequest, "update cannot be encoded")
	}
	h.upstreamSide.Outbound(r, u, out)
	prepareUpstream(r)
	return nil
}

// send passes the validated update to next and answers the client from what
// comes back: the upstream's answer with an ETag on success, a failed
// revision test as 412 when the client asked with If-Match, and anything
// else as the upstream sent it.
func (h *Handler) send(x *exchange) error {
	var ans *answer
	var derr *dialect.Error
	if h.Mode == modeGateway {
		ans, derr = h.callUpstream(x, x.r, func(g dialect.Grant) *dialect.Error {
			if h.upstreamSide.scopes != nil {
				h.upstreamSide.scopes.SetAccount(x.u, g.AccountID)
			}
			return h.outbound(x.r, x.u)
		})
	} else {
		ans, derr = h.roundTrip(x.next, x.r)
	}
	if derr != nil {
		if ans != nil && ans.sent {
			derr = mayHaveApplied(derr)
		}
		return h.failUpstream(x, derr)
	}
	// Everything below is done with the answer when send returns: its body
	// is written to the client (which copies it) or replaced by a refusal.
	defer ans.release()
	x.d.forwarded(ans.status)
	read := h.read(ans)
	if derr := h.upstreamSide.CheckAnswer(read); derr != nil {
		return h.failUpstream(x, reportedSuccess(read, derr))
	}
	ans.header.Del("Etag")
	body := read.Body
	switch {
	case ans.status == http.StatusOK:
		rev, ok, derr := h.revisionAfter(x, read)
		if derr != nil {
			return h.failUpstream(x, reportedSuccess(read, derr))
		}
		if ok {
			ans.header.Set("ETag", etag(rev))
		}
		if x.who.key != nil && h.upstreamSide.scopes != nil {
			// What the key may not read never leaves: an answer that cannot
			// be filtered is not relayed.
			if body, derr = h.upstreamSide.scopes.FilterBucket(read, x.who.key.Has); derr != nil {
				return h.failUpstream(x, reportedSuccess(read, derr))
			}
		}
	case x.pre.ifMatch && h.upstreamSide.native != nil && h.upstreamSide.native.IsConflict(read):
		return h.refuse(x, errStale)
	}
	return ans.writeTo(x.w, body)
}

// reportedSuccess adds, to the refusal of an answer that said the write
// succeeded, that it most likely was applied.
func reportedSuccess(a *dialect.Answer, e *dialect.Error) *dialect.Error {
	if a.Status < 200 || a.Status >= 300 {
		return e
	}
	return &dialect.Error{Kind: e.Kind, Fields: e.Fields, Cause: e.Cause,
		Message: e.Message + "; it reported success, so the update was most likely applied: read the bucket before retrying"}
}

// mayHaveApplied says, on a failure after the update was sent, that the
// client cannot know whether it was applied; retrying blindly could apply
// it twice.
func mayHaveApplied(e *dialect.Error) *dialect.Error {
	return &dialect.Error{Kind: e.Kind, Fields: e.Fields, Cause: e.Cause,
		Message: e.Message + "; the update may or may not have been applied: read the bucket before retrying"}
}

// revisionAfter finds the bucket's revision after a successful update: in
// the answer where the API reports it (an answer that cannot be read is an
// error), otherwise by reading the bucket again. Not finding it by reading
// again leaves the answer without an ETag rather than failing an update the
// upstream has applied.
func (h *Handler) revisionAfter(x *exchange, a *dialect.Answer) (int64, bool, *dialect.Error) {
	if h.upstreamSide.native != nil {
		return h.upstreamSide.native.ResponseRevision(a)
	}
	if h.upstreamSide.derived == nil {
		return 0, false, nil
	}
	state, derr := h.readBucket(x, x.d.bucketID)
	if derr != nil {
		h.logger.Warn("could not read the bucket's revision after an update", zap.String("bucket_id", x.d.bucketID), zap.String("reason", derr.Message))
		return 0, false, nil
	}
	return state.Revision, true, nil
}

// maxMergeAttempts bounds how often a translated update reads, merges and
// writes again after another writer changed the bucket in between; past it
// the client gets the upstream's conflict.
const maxMergeAttempts = 5

// writeTranslated is the translate step and what follows it, when the
// client's API is not the upstream's: the update becomes a neutral change,
// is written as the upstream's update against the bucket as it stands, and
// the answer comes back in the client's terms. The whole exchange holds the
// bucket's lock, so updates through this gateway (and, when the upstream's
// revisions are derived, through every instance sharing its storage) never
// interleave.
func (h *Handler) writeTranslated(x *exchange) error {
	change := h.clientSide.translator.ToChange(x.u)
	unlock, derr := h.lockUpdate(x)
	if derr != nil {
		return h.refuse(x, derr)
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		current, derr := h.readCurrent(x, change.Workspace.Value, change.Workspace.Set)
		if derr != nil {
			return h.refuse(x, derr)
		}
		out, vs := h.upstreamSide.translator.FromChange(change, current)
		if len(vs) > 0 {
			return h.refuse(x, dialect.Invalid(vs))
		}
		if out == nil {
			// Nothing the upstream keeps would change (say, bucketType
			// allPrivate on a bucket that is private): answer as it stands.
			x.d.outcome = outcomeUnchanged
			return h.answerTranslated(x, current)
		}
		if derr := h.upstreamSide.Validate(out); derr != nil {
			derr.Message = "the translated update is not valid upstream: " + derr.Message
			return h.refuse(x, derr)
		}
		ans, derr := h.callUpstream(x, x.r, func(dialect.Grant) *dialect.Error { return h.outbound(x.r, out) })
		if derr != nil {
			if ans != nil && ans.sent {
				derr = mayHaveApplied(derr)
			}
			return h.failUpstream(x, derr)
		}
		x.d.forwarded(ans.status)
		read := h.read(ans)
		switch refusal := h.upstreamSide.translator.UpstreamError(read); {
		case ans.status >= 200 && ans.status < 300:
			updated, ok := h.upstreamSide.translator.UpdatedBucket(read)
			if !ok {
				if updated, derr = h.readBucket(x, x.d.bucketID); derr != nil {
					// Applied upstream; only the new revision is unknown.
					h.logger.Warn("could not read the bucket back after a translated update", zap.String("bucket_id", x.d.bucketID), zap.String("reason", derr.Message))
					h.clientSide.translator.WriteUpdated(x.w, current)
					return nil
				}
			}
			return h.answerTranslated(x, updated)
		case refusal.Kind == dialect.Conflict && x.pre.set:
			return h.refuse(x, stale(x.pre))
		case refusal.Kind == dialect.Conflict && attempt < maxMergeAttempts:
			// Another writer changed the bucket after it was read; nothing was
			// written, so read it again and merge onto its new state.
			h.logger.Info("bucket changed upstream during a translated update; merging again",
				zap.String("bucket_id", x.d.bucketID), zap.Int("attempt", attempt))
			if derr := backoff(x.r, attempt); derr != nil {
				return h.refuse(x, derr)
			}
			continue
		default:
			return h.refuse(x, refusal)
		}
	}
}

// backoff waits a little before the next merge attempt, more each time and
// by a random part, so the gateway and another writer that both read and
// write in a loop fall out of step instead of colliding again.
func backoff(r *http.Request, attempt int) *dialect.Error {
	wait := time.Duration(1<<attempt)*time.Millisecond + rand.N(2*time.Millisecond)
	select {
	case <-time.After(wait):
		return nil
	case <-r.Context().Done():
		return dialect.NewError(dialect.UpstreamFailed, "the client went away")
	}
}

// answerTranslated answers the client's update with the bucket's state, and
// its revision as the ETag.
func (h *Handler) answerTranslated(x *exchange, b dialect.Bucket) error {
	x.w.Header().Set("ETag", etag(b.Revision))
	h.clientSide.translator.WriteUpdated(x.w, b)
	return nil
}
