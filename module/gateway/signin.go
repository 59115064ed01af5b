package gateway

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/internal/auth"
	"github.com/bucketgate/bucketgate/internal/dialect"
)

// The sign-in calls of APIs that have them (B2's b2_authorize_account):
// answered with a gateway token in gateway mode, and in passthrough mode
// with a realm, proxied to the realm so that the gateway learns what each
// token may do.

// signIn answers a sign-in with a gateway key (gateway mode) with a signed
// token that any gateway sharing the signing secret accepts.
func (h *Handler) signIn(x *exchange) error {
	keyID, secret, derr := h.clientSide.signIn.SignIn(x.r)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.d.key = unverifiedKey(keyID)
	now := time.Now()
	p, err := h.keyring.Basic(keyID, secret, now)
	switch {
	case errors.Is(err, auth.ErrKeyExpired):
		return h.refuse(x, dialect.NewError(dialect.Forbidden, "this gateway key has expired"))
	case err != nil:
		return h.refuse(x, dialect.NewError(dialect.Forbidden, "applicationKeyId or applicationKey is wrong"))
	}
	x.verified(p.KeyID)
	// The account B2 clients see: the upstream's, or, with an upstream
	// without accounts, one the gateway names.
	g := dialect.Grant{AccountID: h.upstreamAccount()}
	if h.session != nil {
		var derr *dialect.Error
		if g, derr = h.upstreamGrant(x); derr != nil {
			return h.refuse(x, derr)
		}
	}
	buckets, derr := h.bucketRefs(x, p.Buckets)
	if derr != nil {
		return h.refuse(x, derr)
	}
	ext := h.externalURL(x.r)
	// Gateway tokens are good only here, for bucket calls; downloads are
	// the storage's (public files need no token), so clients get the
	// upstream's own download URL, or, for an upstream that has none, the
	// gateway's, which refuses them.
	download := g.DownloadURL
	if download == "" {
		download = ext
	}
	derr = h.clientSide.signIn.WriteGrant(x.w, x.call, dialect.Grant{
		Token:     h.signer.Issue(p.KeyID, now, time.Duration(h.TokenLifetime)),
		AccountID: g.AccountID,
		APIURL:    ext, DownloadURL: download, S3APIURL: g.S3APIURL,
		Capabilities: p.Capabilities,
		Buckets:      buckets,
	})
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.d.outcome = outcomeAccepted
	return nil
}

// bucketRefs names a key's buckets for its sign-in answer: clients treat a
// listed bucket without a name as deleted.
func (h *Handler) bucketRefs(x *exchange, ids []string) ([]dialect.BucketRef, *dialect.Error) {
	if ids == nil {
		return nil, nil
	}
	buckets, derr := h.readBuckets(x)
	if derr != nil {
		return nil, derr
	}
	names := make(map[string]string, len(buckets))
	for _, b := range buckets {
		names[b.ID] = b.ProviderName
	}
	refs := make([]dialect.BucketRef, 0, len(ids))
	for _, id := range ids {
		refs = append(refs, dialect.BucketRef{ID: id, Name: names[id]})
	}
	return refs, nil
}

// errNoRealm refuses a sign-in in passthrough mode without a realm. Passed
// through, B2's answer would give the client B2's own apiUrl, and its
// updates would go there, around the gateway.
var errNoRealm = dialect.NewError(dialect.Forbidden, "this gateway passes no sign-in through without an upstream realm: the answer would send your calls straight to B2, around the gateway; its operator sets upstream { realm https://api.backblazeb2.com }")

// proxySignIn passes a sign-in to the realm (passthrough mode), remembers
// what the upstream granted the token, and points the answer's API URL at
// the gateway so the client's later calls come through it.
func (h *Handler) proxySignIn(x *exchange) error {
	keyID, _, derr := h.clientSide.signIn.SignIn(x.r)
	if derr != nil {
		return h.refuse(x, derr)
	}
	// The upstream has not vouched for the key id yet.
	x.d.key = unverifiedKey(keyID)
	routeTo(x.r, h.Upstream.Realm)
	prepareUpstream(x.r)
	ans, derr := h.roundTrip(x.next, x.r)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.d.forwarded(ans.status)
	if ans.status != http.StatusOK {
		return ans.writeTo(x.w, ans.body.Bytes())
	}
	// The grant remembered and the answer relayed come from one parse.
	read := h.read(ans)
	g, derr := h.clientSide.signIn.ReadGrant(read)
	if derr != nil {
		return h.failUpstream(x, derr)
	}
	body, derr := h.clientSide.signIn.RedirectGrant(read, h.externalURL(x.r))
	if derr != nil {
		return h.failUpstream(x, derr)
	}
	rem := auth.Remembered{APIURL: g.APIURL, AccountID: g.AccountID, KeyID: keyID, Capabilities: g.Capabilities,
		Expires: time.Now().Add(time.Duration(h.TokenLifetime))}
	if g.Buckets != nil {
		rem.Buckets = []string{}
		for _, b := range g.Buckets {
			rem.Buckets = append(rem.Buckets, b.ID)
		}
	}
	if err := h.tokens.Remember(x.r.Context(), g.Token, rem); err != nil {
		// The sign-in stands: this instance knows the token, and clients
		// of the others sign in again, as they would without storage.
		h.logger.Error("could not share the token through storage; only this instance knows it", zap.Error(err))
	}
	x.verified(keyID)
	return ans.writeTo(x.w, body)
}
