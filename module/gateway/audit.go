package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// The audit of what exists, GET /bucketgate/audit on Caddy's admin API: for
// each handler in gateway mode, which holds upstream credentials, every
// bucket the upstream lists, checked against the handler's update policies
// as if its current configuration were written again, as Gatekeeper audits
// the objects a cluster already holds.

// chain is the handler chain after a gateway, as Caddy gives it with each
// call: what the audit, made outside any call, reaches the upstream through
// (the same reverse_proxy the calls use, configured once). Caddy builds it
// once per route, so the first call's is every call's.
type chain struct {
	next atomic.Pointer[caddyhttp.Handler]
}

// keep records next, the first time.
func (c *chain) keep(next caddyhttp.Handler) {
	if c.next.Load() == nil {
		c.next.CompareAndSwap(nil, &next)
	}
}

// auditStatus is one handler as /bucketgate/audit reports it. It holds no
// key, secret, token or bucket setting: bucket ids and names, and the
// policies each fails.
type auditStatus struct {
	Server      string `json:"server,omitempty"`
	API         string `json:"api"`
	UpstreamAPI string `json:"upstream_api"`
	// Checked is how many buckets were checked; Error why none could be.
	Checked  int            `json:"checked"`
	Error    string         `json:"error,omitempty"`
	Failures []auditFailure `json:"failures"`
}

// auditFailure is a bucket that fails one policy or more.
type auditFailure struct {
	BucketID   string          `json:"bucket_id"`
	BucketName string          `json:"bucket_name"`
	Policies   []auditedPolicy `json:"policies"`
}

type auditedPolicy struct {
	Name    string `json:"name"`
	Action  string `json:"action"`
	Result  string `json:"result"`
	Message string `json:"message"`
}

func (adminAPI) handleAudit(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	where := servers()
	out := []auditStatus{}
	loaded.each(func(h *Handler) {
		if h.Mode != modeGateway {
			return
		}
		srv := where[h]
		st := h.audit(r.Context(), srv.server)
		st.Server = srv.name
		out = append(out, st)
	})
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(struct {
		Handlers []auditStatus `json:"handlers"`
	}{out}); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
	}
	return nil
}

// audit checks every bucket the upstream lists against h's update policies:
// request and bucket are both the bucket's current state in the client's
// terms, and the principal is the audit itself (mode audit, no key).
func (h *Handler) audit(ctx context.Context, srv *caddyhttp.Server) auditStatus {
	st := auditStatus{API: h.API, UpstreamAPI: h.UpstreamAPI, Failures: []auditFailure{}}
	policies := h.policiesOn(dialect.OpUpdate)
	if len(policies) == 0 {
		return st
	}
	next := h.chain.next.Load()
	if next == nil || srv == nil {
		st.Error = "not audited yet: the handler reaches its upstream through the handlers after it, which Caddy hands it with its first call, and it has served none"
		return st
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(h.UpstreamTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	req.RemoteAddr = "127.0.0.1:0"
	req = caddyhttp.PrepareRequest(req, caddy.NewReplacer(), nil, srv)
	x := &exchange{r: req, next: *next, call: dialect.Call{Op: dialect.OpList}}
	buckets, derr := h.readBuckets(x)
	if derr != nil {
		st.Error = derr.Message
		return st
	}
	principal := celValue(emptyPrincipal("audit"))
	for _, b := range buckets {
		state := b.Entry
		name := b.ProviderName
		if h.translating() || state == nil {
			state = h.clientSide.translator.Describe(b)
		}
		if h.clientSide.workspaces != nil {
			name = b.Name
		}
		vars := h.policyVariables(dialect.OpUpdate, withoutNulls(state), state, principal)
		var failed []auditedPolicy
		for _, p := range policies {
			result, _ := evaluate(p.metered, vars)
			if result == resultPass {
				continue
			}
			msg := p.Message
			if result == resultError {
				msg = "the policy could not be evaluated on this bucket"
			}
			failed = append(failed, auditedPolicy{Name: p.Name, Action: p.action(), Result: result, Message: msg})
		}
		st.Checked++
		if len(failed) > 0 {
			st.Failures = append(st.Failures, auditFailure{BucketID: b.ID, BucketName: name, Policies: failed})
		}
	}
	return st
}

// withoutNulls is m without the members whose value is null, at every
// depth: a bucket's state read as a write's request, where a null is the
// field not sent.
func withoutNulls(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = nullsOut(v)
		}
	}
	return out
}

func nullsOut(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return withoutNulls(v)
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = nullsOut(e)
		}
		return a
	}
	return v
}
