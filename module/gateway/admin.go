package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI is the gateway's part of Caddy's admin API, as reverse_proxy has
// /reverse_proxy/upstreams: GET /bucketgate/status, for each bucketgate
// handler loaded, what it speaks, to what, in which mode, its policies, and
// whether it holds an upstream session, which tells an operator whether the
// gateway can sign in upstream without sending an update; and GET
// /bucketgate/audit (audit.go), the buckets that fail the handlers'
// policies. Neither reports a key, secret or token.
type adminAPI struct{}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.bucketgate",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Routes returns the routes of /bucketgate/status and /bucketgate/audit.
func (a adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/bucketgate/status", Handler: caddy.AdminHandlerFunc(a.handleStatus)},
		{Pattern: "/bucketgate/audit", Handler: caddy.AdminHandlerFunc(a.handleAudit)},
	}
}

// handlerStatus is one handler as /bucketgate/status reports it.
type handlerStatus struct {
	// Server and Listen name the HTTP server the handler is in, and its
	// addresses, when it is in one of the running configuration's routes.
	Server      string   `json:"server,omitempty"`
	Listen      []string `json:"listen,omitempty"`
	API         string   `json:"api"`
	UpstreamAPI string   `json:"upstream_api"`
	Mode        string   `json:"mode"`
	Realm       string   `json:"realm,omitempty"`
	ExternalURL string   `json:"external_url,omitempty"`
	// Keys is how many gateway keys the handler accepts (gateway mode).
	Keys int `json:"keys,omitempty"`
	// UpstreamSession is the gateway's own sign-in at a B2 upstream in
	// gateway mode.
	UpstreamSession *sessionStatus `json:"upstream_session,omitempty"`
	// RememberedTokens is how many upstream tokens the handler's process
	// remembers (B2 passthrough mode with a realm), out of at most
	// RememberedTokensMax; Caddy's storage, shared by every instance, may
	// hold more.
	RememberedTokens    *int `json:"remembered_tokens,omitempty"`
	RememberedTokensMax int  `json:"remembered_tokens_max,omitempty"`
	// Policies are the operator's policies, in the order they run, with the
	// writes each judges and its action.
	Policies []policyStatus `json:"policies,omitempty"`
}

// policyStatus is one policy as /bucketgate/status reports it.
type policyStatus struct {
	Name   string   `json:"name"`
	On     []string `json:"on"`
	Action string   `json:"action"`
}

func (adminAPI) handleStatus(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(struct {
		Handlers []handlerStatus `json:"handlers"`
	}{loaded.statuses()}); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
	}
	return nil
}

// loaded holds the handlers of the running configuration, in the order they
// were provisioned. During a reload, the old configuration's stay until
// they are cleaned up.
var loaded handlerSet

type handlerSet struct {
	mu       sync.Mutex
	handlers []*Handler
}

func (s *handlerSet) add(h *Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers = append(s.handlers, h)
}

func (s *handlerSet) remove(h *Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, other := range s.handlers {
		if other == h {
			s.handlers = append(s.handlers[:i], s.handlers[i+1:]...)
			return
		}
	}
}

func (s *handlerSet) each(f func(*Handler)) {
	s.mu.Lock()
	handlers := append([]*Handler(nil), s.handlers...)
	s.mu.Unlock()
	for _, h := range handlers {
		f(h)
	}
}

func (s *handlerSet) statuses() []handlerStatus {
	where := servers()
	out := []handlerStatus{}
	s.each(func(h *Handler) {
		st := h.status()
		if srv, ok := where[h]; ok {
			st.Server, st.Listen = srv.name, srv.listen
		}
		out = append(out, st)
	})
	return out
}

type server struct {
	name   string
	listen []string
	server *caddyhttp.Server
}

// servers finds the server of each handler in the running configuration's
// HTTP app, in its routes and the subroutes within them (handle, route).
func servers() map[*Handler]server {
	out := make(map[*Handler]server)
	app, err := caddy.ActiveContext().AppIfConfigured("http")
	if err != nil {
		return out
	}
	httpApp, ok := app.(*caddyhttp.App)
	if !ok {
		return out
	}
	for name, srv := range httpApp.Servers {
		walkRoutes(srv.Routes, func(h *Handler) { out[h] = server{name, srv.Listen, srv} })
	}
	return out
}

func walkRoutes(routes caddyhttp.RouteList, found func(*Handler)) {
	for _, r := range routes {
		for _, mh := range r.Handlers {
			switch h := mh.(type) {
			case *Handler:
				found(h)
			case *caddyhttp.Subroute:
				walkRoutes(h.Routes, found)
			}
		}
	}
}

// status reports h without its secrets: settings an operator wrote, counts,
// and the state of its upstream session.
func (h *Handler) status() handlerStatus {
	st := handlerStatus{API: h.API, UpstreamAPI: h.UpstreamAPI, Mode: h.Mode, ExternalURL: h.ExternalURL}
	if h.Upstream != nil {
		st.Realm = h.Upstream.Realm
	}
	if h.keyring != nil {
		st.Keys = h.keyring.Len()
	}
	if h.session != nil && h.Mode == modeGateway {
		session := h.session.status()
		st.UpstreamSession = &session
	}
	if h.tokens != nil {
		n := h.tokens.Len()
		st.RememberedTokens, st.RememberedTokensMax = &n, maxRememberedTokens
	}
	for _, p := range h.policies {
		on := make([]string, 0, len(p.ops))
		for _, op := range p.ops {
			on = append(on, callNames[op])
		}
		st.Policies = append(st.Policies, policyStatus{Name: p.Name, On: on, Action: p.action()})
	}
	return st
}

// Interface guard
var _ caddy.AdminRouter = (*adminAPI)(nil)
