package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/module/auth"
	"github.com/bucketgate/bucketgate/module/dialect"
)

// The calls of APIs with accounts (B2) that the gateway answers or routes
// besides updates: sign-in and listing in gateway mode, and in passthrough
// mode with a realm, the sign-in it learns tokens from and the routing of
// every later call to the token's account.

// signIn answers a sign-in with a gateway key (gateway mode) with a signed
// token that any gateway sharing the signing secret accepts.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, call dialect.Call, d *decision) error {
	keyID, secret, derr := h.accounts.SignIn(r)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	d.key = unverifiedKey(keyID)
	now := time.Now()
	p, err := h.keyring.Basic(keyID, secret, now)
	switch {
	case errors.Is(err, auth.ErrKeyExpired):
		return h.refuse(w, d, dialect.Errorf(dialect.Forbidden, "this gateway key has expired"))
	case err != nil:
		return h.refuse(w, d, dialect.Errorf(dialect.Forbidden, "applicationKeyId or applicationKey is wrong"))
	}
	verified(r, d, p.KeyID)
	// The account B2 clients see: the upstream's, or, with an upstream
	// without accounts, one the gateway names.
	g := dialect.Grant{AccountID: translatedAccount}
	if h.b2 != nil {
		var derr *dialect.Error
		if g, derr = h.upstreamGrant(r, next); derr != nil {
			return h.refuse(w, d, derr)
		}
	}
	buckets, derr := h.bucketRefs(r, next, p.Buckets)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	ext := h.externalURL(r)
	derr = h.accounts.WriteGrant(w, call, dialect.Grant{
		Token:     h.signer.Issue(p.KeyID, now, time.Duration(h.TokenLifetime)),
		AccountID: g.AccountID,
		// Gateway tokens are good only here; downloads with them fail
		// upstream, so nothing points clients anywhere else with them.
		APIURL: ext, DownloadURL: ext, S3APIURL: g.S3APIURL,
		Capabilities: p.Capabilities,
		Buckets:      buckets,
	})
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	d.outcome = "accepted"
	return nil
}

// listWorkspaces answers a gateway key's bucket list in an API that lists by
// workspace (Flashback's GET /bucket): the upstream's list, read with the
// gateway's credential, kept to the buckets the key may use in workspaces
// where it has READ or more, and to the call's filters, with no credential
// in it. Buckets of another upstream API are shown in the client's shape.
func (h *Handler) listWorkspaces(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, d *decision) error {
	who, derr := h.authenticate(r)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	d.key = who.id()
	workspace, wallet := h.lists.ListFilters(r)
	keep := func(b dialect.Bucket, bucketWallet string) bool {
		return who.mayUseBucket(b.ID) && who.key.Role(b.Workspace) >= auth.RoleRead &&
			(workspace == "" || b.Workspace == workspace) && (wallet == "" || bucketWallet == wallet)
	}
	if h.translating {
		buckets, derr := h.readBuckets(r, next)
		if derr != nil {
			return h.refuse(w, d, derr)
		}
		visible := make([]dialect.Bucket, 0, len(buckets))
		for _, b := range buckets {
			if keep(b, "") {
				visible = append(visible, b)
			}
		}
		d.outcome = "answered"
		h.lists.WriteList(w, visible)
		return nil
	}
	sub := subRequest(r)
	ans, derr := h.callUpstream(sub, next, func(g dialect.Grant) *dialect.Error {
		h.upstreamTr.ReadRequest(sub, "", g.AccountID)
		return nil
	})
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	body, derr := h.lists.FilterList(ans.status, h.scrubAnswer(ans), keep)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	d.outcome = "answered"
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// translatedAccount is the account id B2 clients see when the upstream API
// has no accounts (Flashback).
const translatedAccount = "flashback"

// readBuckets lists the upstream's buckets with the gateway's credentials.
func (h *Handler) readBuckets(r *http.Request, next caddyhttp.Handler) ([]dialect.Bucket, *dialect.Error) {
	sub := subRequest(r)
	ans, derr := h.callUpstream(sub, next, func(g dialect.Grant) *dialect.Error {
		h.upstreamTr.ReadRequest(sub, "", g.AccountID)
		return nil
	})
	if derr != nil {
		return nil, derr
	}
	return h.upstreamTr.ReadBuckets(ans.status, h.scrubAnswer(ans))
}

// bucketRefs names a key's buckets for its sign-in answer: clients treat a
// listed bucket without a name as deleted.
func (h *Handler) bucketRefs(r *http.Request, next caddyhttp.Handler, ids []string) ([]dialect.BucketRef, *dialect.Error) {
	if ids == nil {
		return nil, nil
	}
	buckets, derr := h.readBuckets(r, next)
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
var errNoRealm = dialect.Errorf(dialect.Forbidden, "this gateway passes no sign-in through without an upstream realm: the answer would send your calls straight to B2, around the gateway; its operator sets upstream { realm https://api.backblazeb2.com }")

// proxySignIn passes a sign-in to the realm (passthrough mode), remembers
// what the upstream granted the token, and points the answer's API URL at
// the gateway so the client's later calls come through it.
func (h *Handler) proxySignIn(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, d *decision) error {
	keyID, _, derr := h.accounts.SignIn(r)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	// The upstream has not vouched for the key id yet.
	d.key = unverifiedKey(keyID)
	routeTo(r, h.Upstream.Realm)
	prepareUpstream(r)
	ans, derr := h.roundTrip(next, r)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	d.forwarded(ans.status)
	if ans.status != http.StatusOK {
		return ans.writeTo(w, ans.body.Bytes())
	}
	g, err := h.accounts.ReadGrant(ans.body.Bytes())
	if err != nil {
		return h.refuse(w, d, dialect.Errorf(dialect.UpstreamFailed, "the upstream's sign-in answer cannot be read"))
	}
	body, err := h.accounts.RedirectGrant(ans.body.Bytes(), h.externalURL(r))
	if err != nil {
		return h.refuse(w, d, dialect.Errorf(dialect.UpstreamFailed, "the upstream's sign-in answer cannot be read"))
	}
	rem := auth.Remembered{APIURL: g.APIURL, AccountID: g.AccountID, KeyID: keyID, Capabilities: g.Capabilities,
		Expires: time.Now().Add(time.Duration(h.TokenLifetime))}
	if g.Buckets != nil {
		rem.Buckets = []string{}
		for _, b := range g.Buckets {
			rem.Buckets = append(rem.Buckets, b.ID)
		}
	}
	if err := h.tokens.Remember(r.Context(), g.Token, rem); err != nil {
		// The sign-in stands: this instance knows the token, and clients
		// of the others sign in again, as they would without storage.
		h.logger.Error("could not share the token through storage; only this instance knows it", zap.Error(err))
	}
	verified(r, d, keyID)
	return ans.writeTo(w, body)
}

// list answers a bucket list for a gateway key: the upstream's list, fetched
// with the gateway's own credentials, less the buckets the key may not see
// and the settings it may not read.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, call dialect.Call, d *decision) error {
	who, u, derr := h.listCall(w, r, call, d)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	ans, derr := h.callUpstream(r, next, func(g dialect.Grant) *dialect.Error {
		h.accounts.SetAccount(u, g.AccountID)
		body, err := u.Body()
		if err != nil {
			return dialect.Errorf(dialect.BadRequest, "list request cannot be encoded")
		}
		h.accounts.ListRequest(r, u, body)
		prepareUpstream(r)
		return nil
	})
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	d.forwarded(ans.status)
	if ans.status != http.StatusOK {
		return ans.writeTo(w, h.scrubAnswer(ans))
	}
	body, err := h.accounts.FilterList(h.scrubAnswer(ans), who.key.MayUseBucket, who.key.Has)
	if err != nil {
		return h.refuse(w, d, dialect.Errorf(dialect.UpstreamFailed, "the upstream's bucket list cannot be read"))
	}
	return ans.writeTo(w, body)
}

// listCall authenticates and decodes a list call for a gateway key.
func (h *Handler) listCall(w http.ResponseWriter, r *http.Request, call dialect.Call, d *decision) (*caller, *dialect.Update, *dialect.Error) {
	who, derr := h.authenticate(r)
	if derr != nil {
		return nil, nil, derr
	}
	verified(r, d, who.id())
	if !who.has("listBuckets") {
		return nil, nil, dialect.Errorf(dialect.Forbidden, "this key lacks the listBuckets capability")
	}
	read := func() ([]byte, *dialect.Error) { return readBody(w, r, h.MaxBodySize) }
	u, derr := h.accounts.DecodeList(r, call, read)
	return who, u, derr
}

// create checks a bucket creation against public_key_ids (passthrough mode
// with a realm) and then routes it like any other call: a bucket created
// allPublic is as public as one updated to it.
func (h *Handler) create(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, call dialect.Call, d *decision) error {
	who, derr := h.authenticate(r)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	verified(r, d, who.id())
	var body []byte
	read := func() ([]byte, *dialect.Error) {
		var derr *dialect.Error
		body, derr = readBody(w, r, h.MaxBodySize)
		return body, derr
	}
	u, derr := h.accounts.DecodeCreate(r, call, read)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	if h.accounts.MakesPublic(u) && !slices.Contains(h.PublicKeyIDs, who.remembered.KeyID) {
		return h.refuse(w, d, errPublicKeyIDs)
	}
	// The body was read to judge it; the upstream gets it as sent.
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	d.outcome = "routed"
	routeTo(r, who.remembered.APIURL)
	return next.ServeHTTP(w, r)
}

// route sends a call the gateway does not otherwise handle to the account
// of the token it carries (passthrough mode with a realm), untouched.
func (h *Handler) route(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	who, derr := h.authenticate(r)
	if derr != nil {
		h.client.WriteError(w, derr)
		return nil
	}
	routeTo(r, who.remembered.APIURL)
	return next.ServeHTTP(w, r)
}
