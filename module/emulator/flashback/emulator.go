// Package flashbackemulator stands in for the Flashback platform backend's
// bucket-management calls. It imports nothing from the rest of bucketgate, so
// that it judges what the gateway sends the way the real backend would: a
// body the gateway should have refused comes back from here as a 400.
package flashbackemulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Emulator{})
}

// Emulator is an in-memory Flashback backend for the bucket-management calls:
//
//	GET    /bucket              list the buckets the caller can read
//	POST   /bucket              create a bucket
//	PUT    /bucket/{bucketId}   update some of a bucket's fields
//	DELETE /bucket/{bucketId}   delete a bucket
//
// Callers authenticate with `Authorization: Bearer <token>`; what they may do
// depends on their role (READ, WRITE or ADMIN) in the bucket's workspace.
// Answers and errors have the backend's JSON shapes, and the emulator writes
// them itself: it is a terminal handler, never calls the next one, and its
// errors do not go through handle_errors.
//
// A bucket in a workspace the caller cannot read is answered as not found,
// like a bucket that does not exist, so that ids cannot be probed.
type Emulator struct {
	// StateFile is the path of a JSON file holding the buckets. If the file
	// exists when the configuration loads, its buckets replace the seeded
	// ones (delete it to start again from the seed); every successful
	// create, update or delete rewrites it atomically. Without it, buckets
	// live in memory and go back to the seed on every reload. Secrets are
	// stored only as SHA-256 digests.
	StateFile string `json:"state_file,omitempty"`

	// Workspaces are the ids of the workspaces that exist. Roles and buckets
	// may only name these.
	Workspaces []string `json:"workspaces,omitempty"`

	// Users are the callers the emulator knows, each with a bearer token and
	// a role in some of the workspaces.
	Users []User `json:"users,omitempty"`

	// Buckets are the buckets that exist when the configuration loads
	// (unless the state file exists).
	Buckets []Bucket `json:"buckets,omitempty"`

	workspaces map[string]bool
	accounts   map[[32]byte]*account
	store      *store
	now        func() time.Time
	logger     *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Emulator) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.flashback_emulator",
		New: func() caddy.Module { return new(Emulator) },
	}
}

// Provision builds the token index and the bucket table, from the state file
// if there is one and from the seed otherwise.
func (e *Emulator) Provision(ctx caddy.Context) error {
	e.logger = ctx.Logger()
	if e.now == nil {
		e.now = time.Now
	}
	e.workspaces = make(map[string]bool, len(e.Workspaces))
	for _, ws := range e.Workspaces {
		e.workspaces[ws] = true
	}
	e.accounts = accountsOf(e.Users)

	created := e.timestamp()
	buckets := make(map[string]record, len(e.Buckets))
	for _, b := range e.Buckets {
		buckets[b.ID] = b.record(created)
	}
	if e.StateFile != "" {
		loaded, found, err := readState(e.StateFile, e.workspaces)
		if err != nil {
			return fmt.Errorf("state_file: %v", err)
		}
		if found {
			e.logger.Info("buckets loaded from the state file; configured buckets ignored",
				zap.String("state_file", e.StateFile), zap.Int("buckets", len(loaded)))
			buckets = loaded
		}
	}
	e.store = &store{buckets: buckets, file: e.StateFile}
	return nil
}

// Validate refuses a configuration that would make the emulator ambiguous:
// duplicate workspaces, tokens or bucket ids, roles or buckets in undeclared
// workspaces, and seeded buckets the API itself would refuse.
func (e *Emulator) Validate() error {
	seen := make(map[string]bool, len(e.Workspaces))
	for i, ws := range e.Workspaces {
		switch {
		case ws == "":
			return fmt.Errorf("workspaces[%d]: empty workspace id", i)
		case seen[ws]:
			return fmt.Errorf("workspace %q declared twice", ws)
		}
		seen[ws] = true
	}
	if err := checkUsers(e.Users, e.workspaces); err != nil {
		return err
	}
	return checkSeeds(e.Buckets, e.workspaces)
}

// timestamp is the emulator's clock at millisecond precision, the precision
// of a JavaScript Date, so that a time survives the state file and the wire
// unchanged.
func (e *Emulator) timestamp() time.Time {
	return e.now().UTC().Truncate(time.Millisecond)
}

// refusal is any answer other than success.
type refusal struct {
	status  int
	message string
	allow   string // the Allow header of a 405
}

func refuse(status int, format string, args ...any) *refusal {
	return &refusal{status: status, message: fmt.Sprintf(format, args...)}
}

// message is the body of every error and of a delete.
type message struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// operation is one API call; id is the bucket id from the path, if any.
type operation func(a *account, r *http.Request, id string) (any, *refusal)

// ServeHTTP answers the request itself; next is never called.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	reply, ref := e.handle(r)
	status := http.StatusOK
	if ref != nil {
		status, reply = ref.status, message{Message: ref.message}
		switch {
		case ref.allow != "":
			w.Header().Set("Allow", ref.allow)
		case status == http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="flashback"`)
		}
		e.logger.Debug("request refused",
			zap.String("method", r.Method), zap.String("path", r.URL.Path),
			zap.Int("status", status), zap.String("reason", ref.message))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(reply)
}

// handle routes the request, then authenticates it: an unknown path or method
// is answered before the token is looked at, as a router in front of the
// authentication middleware would.
func (e *Emulator) handle(r *http.Request) (any, *refusal) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	var id string
	if path != "/bucket" {
		rest, ok := strings.CutPrefix(path, "/bucket/")
		if !ok || rest == "" || strings.Contains(rest, "/") {
			return nil, refuse(http.StatusNotFound, "Not found")
		}
		id = rest
	}

	var fn operation
	allow := "GET, POST"
	if id == "" {
		switch r.Method {
		case http.MethodGet:
			fn = e.list
		case http.MethodPost:
			fn = e.create
		}
	} else {
		allow = "PUT, DELETE"
		switch r.Method {
		case http.MethodPut:
			fn = e.update
		case http.MethodDelete:
			fn = e.remove
		}
	}
	if fn == nil {
		return nil, &refusal{status: http.StatusMethodNotAllowed, message: "Method not allowed", allow: allow}
	}

	a, ref := e.authenticate(r)
	if ref != nil {
		return nil, ref
	}
	return fn(a, r, id)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Emulator)(nil)
	_ caddy.Validator             = (*Emulator)(nil)
	_ caddyhttp.MiddlewareHandler = (*Emulator)(nil)
)
