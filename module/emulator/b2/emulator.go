// Package b2emulator is an in-memory Backblaze B2 account service for tests:
// it answers b2_authorize_account, b2_create_bucket, b2_list_buckets,
// b2_update_bucket and b2_delete_bucket the way B2 does, so that real B2
// clients, and anything placed between them and B2, can be exercised without
// a B2 account.
//
// It deliberately shares no code with the rest of the repository: it judges
// what it receives on its own terms, as B2 would.
package b2emulator

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Emulator{})
}

// Emulator serves the B2 native API calls that manage buckets, on every API
// version path from /b2api/v1 to /b2api/v4, from state it keeps in memory.
//
// It is a terminal handler: it answers every request it receives, and paths
// it does not know get B2's 404 not_found. Errors are written in B2's JSON
// error shape by the handler itself, so handle_errors does not see them.
//
// A configuration reload starts a new emulator: tokens issued before it are
// unknown afterwards (clients re-authorize, as they would with B2), and
// without a state file the buckets return to their seeded settings.
type Emulator struct {
	// APIURL is the base URL that b2_authorize_account hands to clients as
	// apiUrl (and as downloadUrl and s3ApiUrl), for example
	// "http://127.0.0.1:9100". It must have no path. Default: the scheme and
	// Host of each authorize request, so clients keep talking to whichever
	// address reached the emulator.
	APIURL string `json:"api_url,omitempty"`

	// StateFile is a JSON file that keeps buckets across restarts. When it
	// exists at load time, its buckets replace the seeded ones; after every
	// successful create, update or delete it is rewritten atomically. Its
	// directory must exist. Default: none; buckets live in memory only.
	// Tokens are never written to it.
	StateFile string `json:"state_file,omitempty"`

	// InitialRevision is the revision a new bucket starts at, seeded or
	// created. Each successful update adds one. Default: 1.
	InitialRevision int64 `json:"initial_revision,omitempty"`

	// Accounts are the B2 accounts served, each with its application keys
	// and the buckets it starts with. At least one is required.
	Accounts []Account `json:"accounts,omitempty"`

	logger *zap.Logger
	now    func() time.Time
	keys   map[string]appKey
	tokens *tokenStore
	store  *store
}

// CaddyModule returns the Caddy module information.
func (Emulator) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.b2_emulator",
		New: func() caddy.Module { return new(Emulator) },
	}
}

// Provision sets defaults, seeds the buckets and loads the state file, if one
// exists.
func (h *Emulator) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.InitialRevision == 0 {
		h.InitialRevision = 1
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.tokens = newTokenStore(h.now)
	h.keys = make(map[string]appKey)
	for _, a := range h.Accounts {
		for _, k := range a.Keys {
			h.keys[k.ID] = appKey{secret: k.Secret, p: a.principal(k)}
		}
	}
	h.store = newStore(h.StateFile)
	if h.StateFile == "" {
		h.seed()
		return nil
	}
	if fi, err := os.Stat(filepath.Dir(h.StateFile)); err != nil || !fi.IsDir() {
		return fmt.Errorf("state_file: directory of %s does not exist", h.StateFile)
	}
	loaded, err := h.store.load(h.accountIDs())
	if err != nil {
		return fmt.Errorf("state_file: %v", err)
	}
	if !loaded {
		h.seed()
	}
	return nil
}

func (h *Emulator) seed() {
	for _, a := range h.Accounts {
		for _, sb := range a.Buckets {
			h.store.put(sb.bucket(a.ID, h.InitialRevision))
		}
	}
}

func (h *Emulator) accountIDs() map[string]bool {
	ids := make(map[string]bool, len(h.Accounts))
	for _, a := range h.Accounts {
		ids[a.ID] = true
	}
	return ids
}

// Validate checks the configuration once it is provisioned.
func (h *Emulator) Validate() error {
	if h.InitialRevision < 1 {
		return fmt.Errorf("initial_revision must be at least 1, got %d", h.InitialRevision)
	}
	if h.APIURL != "" {
		if err := checkAPIURL(h.APIURL); err != nil {
			return fmt.Errorf("api_url: %v", err)
		}
	}
	return validateAccounts(h.Accounts)
}

// ServeHTTP answers B2 API calls; it never calls next.
func (h *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	version, name, ok := parsePath(r.URL.Path)
	if !ok {
		writeError(w, newError(http.StatusNotFound, "not_found", "%s is not a B2 API call this service knows", r.URL.Path))
		return nil
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, newError(http.StatusMethodNotAllowed, "method_not_allowed", "%s takes GET or POST", name))
		return nil
	}
	if name == "b2_authorize_account" {
		h.authorizeAccount(w, r, version)
		return nil
	}
	spec, ok := calls[name]
	if !ok {
		writeError(w, newError(http.StatusNotFound, "not_found", "%s is not a B2 API call this service knows", r.URL.Path))
		return nil
	}
	resp, aerr := h.call(r, version, spec)
	if aerr != nil {
		if c := h.logger.Check(zap.DebugLevel, "refused"); c != nil {
			c.Write(zap.String("call", name), zap.Int("status", aerr.status), zap.String("code", aerr.code), zap.String("message", aerr.message))
		}
		writeError(w, aerr)
		return nil
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (h *Emulator) call(r *http.Request, version int, spec callSpec) (any, *apiError) {
	p, aerr := h.authenticate(r)
	if aerr != nil {
		return nil, aerr
	}
	params, aerr := readParams(r, spec.jsonParams)
	if aerr != nil {
		return nil, aerr
	}
	return spec.run(h, &request{version: version, p: p, params: params})
}

// parsePath accepts /b2api/v<1-4>/<call> and nothing longer or shorter.
func parsePath(path string) (version int, name string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/b2api/v")
	if !ok {
		return 0, "", false
	}
	v, name, ok := strings.Cut(rest, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return 0, "", false
	}
	version, err := strconv.Atoi(v)
	if err != nil || version < 1 || version > 4 || v != strconv.Itoa(version) {
		return 0, "", false
	}
	return version, name, true
}

// apiURL is what clients are told to call next.
func (h *Emulator) apiURL(r *http.Request) string {
	if h.APIURL != "" {
		return h.APIURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Emulator)(nil)
	_ caddy.Validator             = (*Emulator)(nil)
	_ caddyhttp.MiddlewareHandler = (*Emulator)(nil)
)
