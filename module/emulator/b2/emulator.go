// Package b2emulator is an in-memory Backblaze B2 account service for tests:
// it answers b2_authorize_account, the bucket calls (b2_create_bucket,
// b2_list_buckets, b2_update_bucket, b2_delete_bucket) and the file calls
// (uploads, lists, downloads, hiding and deleting) the way B2 does, so that
// real B2 clients, and anything placed between them and B2, can be exercised
// without a B2 account.
//
// It deliberately shares no code with the rest of the repository: it judges
// what it receives on its own terms, as B2 would.
package b2emulator

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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

// Emulator serves the B2 native API calls that manage buckets and files, on
// every API version path from /b2api/v1 to /b2api/v4, from state it keeps in
// memory. One address is the account's apiUrl, its downloadUrl and the host
// of its upload URLs.
//
// It is a terminal handler: it answers every request it receives, and paths
// it does not know get B2's 404 not_found. Errors are written in B2's JSON
// error shape by the handler itself, so handle_errors does not see them.
//
// A configuration reload starts a new emulator: tokens issued before it are
// unknown afterwards (clients re-authorize, as they would with B2), files
// are gone, and without a state file the buckets return to their seeded
// settings.
type Emulator struct {
	// APIURL is the base URL that b2_authorize_account hands to clients as
	// apiUrl (and as downloadUrl and s3ApiUrl), and that the upload URLs of
	// b2_get_upload_url start with, for example "http://127.0.0.1:9100". It
	// must have no path. Default: the scheme and Host of each request, so
	// clients keep talking to whichever address reached the emulator. Set it
	// behind a proxy that keeps the Host header, as Caddy's reverse_proxy
	// does: the emulator would otherwise hand out the proxy's address.
	APIURL string `json:"api_url,omitempty"`

	// StateFile is a JSON file that keeps buckets across restarts. When it
	// exists at load time, its buckets replace the seeded ones; after every
	// successful create, update or delete it is rewritten atomically. Its
	// directory must exist. Default: none; buckets live in memory only.
	// Tokens and files are never written to it: a restart keeps the
	// buckets' settings and empties them, as the file is rewritten whole
	// after every change and files would make each change cost their size.
	StateFile string `json:"state_file,omitempty"`

	// StorageCap is how many bytes of file content the emulator holds, over
	// all accounts, so that a test or a demo user cannot exhaust its memory.
	// An upload past it is refused as B2 refuses one past an account's
	// storage cap: 403 storage_cap_exceeded. A version's bytes are freed
	// when it is deleted (hiding frees nothing). Default: 64MiB.
	StorageCap int64 `json:"storage_cap,omitempty"`

	// MaxFileVersions is how many file versions the emulator holds, over all
	// accounts, hide markers included; past it, uploads and hides are
	// refused with 403 storage_cap_exceeded too. It bounds the memory that
	// names and file info take. Default: 10000.
	MaxFileVersions int `json:"max_file_versions,omitempty"`

	// InitialRevision is the revision a new bucket starts at, seeded or
	// created. Each successful update adds one. Default: 1.
	InitialRevision int64 `json:"initial_revision,omitempty"`

	// Accounts are the B2 accounts served, each with its application keys
	// and the buckets it starts with. At least one is required.
	Accounts []Account `json:"accounts,omitempty"`

	logger    *zap.Logger
	now       func() time.Time
	keys      map[string]appKey
	tokens    *tokenStore
	uploads   *grants[uploadGrant]
	downloads *grants[downloadGrant]
	store     *store
	storage   *storage
}

const (
	defaultStorageCap      = 64 << 20
	defaultMaxFileVersions = 10000
)

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
	if h.StorageCap == 0 {
		h.StorageCap = defaultStorageCap
	}
	if h.MaxFileVersions == 0 {
		h.MaxFileVersions = defaultMaxFileVersions
	}
	h.tokens = newTokenStore(h.now)
	h.uploads = newGrants[uploadGrant](h.now)
	h.downloads = newGrants[downloadGrant](h.now)
	h.storage = &storage{maxBytes: h.StorageCap, maxVersions: h.MaxFileVersions}
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
	if h.StorageCap < 0 {
		return fmt.Errorf("storage_cap must be a positive number of bytes, got %d", h.StorageCap)
	}
	if h.MaxFileVersions < 0 {
		return fmt.Errorf("max_file_versions must be positive, got %d", h.MaxFileVersions)
	}
	if h.APIURL != "" {
		if err := checkAPIURL(h.APIURL); err != nil {
			return fmt.Errorf("api_url: %v", err)
		}
	}
	return validateAccounts(h.Accounts)
}

// ServeHTTP answers B2 API calls, uploads and downloads; it never calls
// next.
func (h *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if aerr := h.serve(w, r); aerr != nil {
		if c := h.logger.Check(zap.DebugLevel, "refused"); c != nil {
			c.Write(zap.String("path", r.URL.Path), zap.Int("status", aerr.status), zap.String("code", aerr.code), zap.String("message", aerr.message))
		}
		writeError(w, aerr)
	}
	return nil
}

// serve routes a request; an error it returns has not been written yet.
func (h *Emulator) serve(w http.ResponseWriter, r *http.Request) *apiError {
	// The escaped path: a download's file name may hold "%2F" or "%2B",
	// which decoding the whole path would confuse with "/" and "+".
	if rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/file/"); ok {
		if aerr := allow(w, r, http.MethodGet, http.MethodHead); aerr != nil {
			return aerr
		}
		return h.downloadByName(w, r, rest)
	}
	version, name, ok := parsePath(r.URL.Path)
	if !ok {
		if bucketID, uploadID, ok := parseUploadPath(r.URL.Path); ok {
			if aerr := allow(w, r, http.MethodPost); aerr != nil {
				return aerr
			}
			return h.uploadFile(w, r, bucketID, uploadID)
		}
		return newError(http.StatusNotFound, "not_found", "%s is not a B2 API call this service knows", r.URL.Path)
	}
	if name == "b2_download_file_by_id" {
		if aerr := allow(w, r, http.MethodGet, http.MethodHead, http.MethodPost); aerr != nil {
			return aerr
		}
		return h.downloadByID(w, r)
	}
	if aerr := allow(w, r, http.MethodGet, http.MethodPost); aerr != nil {
		return aerr
	}
	if name == "b2_authorize_account" {
		h.authorizeAccount(w, r, version)
		return nil
	}
	spec, ok := calls[name]
	if !ok {
		return newError(http.StatusNotFound, "not_found", "%s is not a B2 API call this service knows", r.URL.Path)
	}
	resp, aerr := h.call(r, version, spec)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// allow refuses a method the endpoint does not take.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) *apiError {
	if slices.Contains(methods, r.Method) {
		return nil
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	return newError(http.StatusMethodNotAllowed, "method_not_allowed", "%s takes %s", r.URL.Path, strings.Join(methods, " or "))
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
	return spec.run(h, &request{version: version, base: h.apiURL(r), p: p, params: params})
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

// parseUploadPath accepts the upload URLs that b2_get_upload_url hands out.
func parseUploadPath(path string) (bucketID, uploadID string, ok bool) {
	for version := 1; version <= 4; version++ {
		if rest, ok := strings.CutPrefix(path, uploadPathPrefix(version)); ok {
			bucketID, uploadID, ok = strings.Cut(rest, "/")
			return bucketID, uploadID, ok && bucketID != "" && uploadID != "" && !strings.Contains(uploadID, "/")
		}
	}
	return "", "", false
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
