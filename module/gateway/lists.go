package gateway

import (
	"net/http"
	"strconv"

	"github.com/bucketgate/bucketgate/internal/auth"
	"github.com/bucketgate/bucketgate/internal/dialect"
)

// The bucket lists the gateway answers for its own keys (gateway mode):
// from the upstream's list, read with the gateway's credentials, less what
// the key may not see.

// listWorkspaces answers a gateway key's bucket list in an API that lists by
// workspace (Flashback's GET /bucket): the upstream's list, read with the
// gateway's credential, kept to the buckets the key may use in workspaces
// where it has READ or more, and to the call's filters, with no credential
// in it. Buckets of another upstream API are shown in the client's shape.
func (h *Handler) listWorkspaces(x *exchange) error {
	who, derr := h.authenticate(x.r)
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.verified(who.id())
	workspace, wallet := h.clientSide.workspaceLists.ListFilters(x.r)
	keep := func(b dialect.Bucket, bucketWallet string) bool {
		return who.mayUseBucket(b.ID) && who.key.Role(b.Workspace) >= auth.RoleRead &&
			(workspace == "" || b.Workspace == workspace) && (wallet == "" || bucketWallet == wallet)
	}
	if h.translating() {
		buckets, derr := h.readBuckets(x)
		if derr != nil {
			return h.refuse(x, derr)
		}
		visible := make([]dialect.Bucket, 0, len(buckets))
		for _, b := range buckets {
			if keep(b, "") {
				visible = append(visible, b)
			}
		}
		x.d.outcome = outcomeAnswered
		h.clientSide.workspaceLists.WriteList(x.w, visible)
		return nil
	}
	sub := subRequest(x.r)
	ans, derr := h.callUpstream(x, sub, func(g dialect.Grant) *dialect.Error {
		h.upstreamSide.reader.ReadRequest(sub, "", g.AccountID)
		return nil
	})
	if derr != nil {
		return h.refuse(x, derr)
	}
	body, derr := h.clientSide.workspaceLists.FilterList(h.read(ans), keep)
	if derr != nil {
		return h.failUpstream(x, derr)
	}
	x.d.outcome = outcomeAnswered
	x.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(http.StatusOK)
	_, err := x.w.Write(body)
	return err
}

// list answers a bucket list for a gateway key: the upstream's list, fetched
// with the gateway's own credentials, less the buckets the key may not see
// and the settings it may not read.
func (h *Handler) list(x *exchange) error {
	who, u, derr := h.listCall(x)
	if derr != nil {
		return h.refuse(x, derr)
	}
	ans, derr := h.callUpstream(x, x.r, func(g dialect.Grant) *dialect.Error {
		h.clientSide.scopes.SetAccount(u, g.AccountID)
		body, err := u.Body()
		if err != nil {
			return dialect.NewError(dialect.BadRequest, "list request cannot be encoded")
		}
		h.clientSide.accountLists.ListRequest(x.r, u, body)
		prepareUpstream(x.r)
		return nil
	})
	if derr != nil {
		return h.refuse(x, derr)
	}
	x.d.forwarded(ans.status)
	if ans.status != http.StatusOK {
		return ans.writeTo(x.w, h.read(ans).Body)
	}
	body, derr := h.clientSide.accountLists.FilterList(h.read(ans), who.key.MayUseBucket, who.key.Has)
	if derr != nil {
		return h.failUpstream(x, derr)
	}
	return ans.writeTo(x.w, body)
}

// listCall authenticates and decodes a list call for a gateway key.
func (h *Handler) listCall(x *exchange) (*caller, *dialect.Document, *dialect.Error) {
	who, derr := h.authenticate(x.r)
	if derr != nil {
		return nil, nil, derr
	}
	x.verified(who.id())
	if need := h.clientSide.accountLists.ListCapability(); !who.has(need) {
		return nil, nil, dialect.NewError(dialect.Forbidden, "this key lacks the "+need+" capability")
	}
	read := func() ([]byte, *dialect.Error) { return readBody(x.w, x.r, h.MaxBodySize) }
	u, derr := h.clientSide.accountLists.DecodeList(x.r, x.call, read)
	return who, u, derr
}

// listAcross answers a list call with the upstream's buckets in the
// client's terms, less those the key may not use or see.
func (h *Handler) listAcross(x *exchange) error {
	who, u, derr := h.listCall(x)
	if derr != nil {
		return h.refuse(x, derr)
	}
	buckets, derr := h.readBuckets(x)
	if derr != nil {
		return h.refuse(x, derr)
	}
	var visible []dialect.Bucket
	for _, b := range buckets {
		if b.AccountID == "" {
			b.AccountID = h.upstreamAccount()
		}
		if who.mayUseBucket(b.ID) && who.key.Role(b.Workspace) >= auth.RoleRead && h.clientSide.accountLists.ListMatches(u, b) {
			visible = append(visible, b)
		}
	}
	x.d.outcome = outcomeAnswered
	h.clientSide.accountLists.WriteBuckets(x.w, visible)
	return nil
}
