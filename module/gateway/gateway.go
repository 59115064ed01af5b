// Package gateway is the bucketgate HTTP handler: it makes every bucket
// update safe before the next handler (normally reverse_proxy) sends it to the
// storage API.
package gateway

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/module/b2"
	"github.com/bucketgate/bucketgate/module/dialect"
	"github.com/bucketgate/bucketgate/module/flashback"
	"github.com/bucketgate/bucketgate/module/jsonscan"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Defaults for the size settings.
const (
	DefaultMaxBodySize     = 512 << 10
	DefaultMaxResponseSize = 1 << 20
)

// dialects are the APIs the gateway speaks, by configuration name.
var dialects = map[string]func(dialect.Options) (dialect.Dialect, error){
	"b2":        func(o dialect.Options) (dialect.Dialect, error) { return b2.New(o) },
	"flashback": func(o dialect.Options) (dialect.Dialect, error) { return flashback.New(o) },
}

// Handler gates bucket updates for one storage API. Each update is read,
// authenticated, validated against the API's JSON Schema and rules, checked
// against its revision precondition, and only then passed to the next handler;
// the upstream's answer comes back with an ETag. Requests that are not bucket
// updates pass to the next handler untouched.
//
// Refusals are written in the API's own error shape (B2:
// {"status","code","message"}; Flashback: {"success":false,"message"}), so
// they do not go through handle_errors.
type Handler struct {
	// API is the API the clients of this handler speak. Required. One of:
	// "b2" (Backblaze B2 native API, b2_update_bucket on /b2api/v1 to v4), or
	// "flashback" (Flashback platform API, PUT /bucket/{bucketId}).
	API string `json:"api,omitempty"`

	// Schema is the path of a JSON Schema (draft-07) file that replaces the
	// built-in schema of the API's update body. It is read and compiled once,
	// when the configuration loads; a file that does not compile fails the load.
	Schema string `json:"schema,omitempty"`

	// MaxBodySize is the largest update body accepted, in bytes; larger ones
	// are refused with 413. Default: 512 KiB, room for a B2 update with the
	// most CORS and lifecycle rules B2 allows.
	MaxBodySize int64 `json:"max_body_size,omitempty"`

	// MaxDepth is the deepest nesting of objects and arrays accepted in an
	// update body. Default: 10 (the deepest B2 field is at 5).
	MaxDepth int `json:"max_depth,omitempty"`

	// RequireRevision refuses, with 428, every update that carries no
	// revision precondition (an If-Match header, or B2's ifRevisionIs), so
	// that no client can overwrite a change it has not seen.
	RequireRevision bool `json:"require_revision,omitempty"`

	// MaxResponseSize is the largest upstream answer the gateway reads: to add
	// an ETag, map a failed revision test, or (for Flashback) read the bucket
	// list it derives revisions from. Larger update answers stream through
	// unchanged. Default: 1 MiB.
	MaxResponseSize int64 `json:"max_response_size,omitempty"`

	client  dialect.Dialect
	native  dialect.NativeRevisions
	derived dialect.DerivedRevisions
	logger  *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.bucketgate",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision sets defaults and compiles the API's schema once.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.MaxBodySize == 0 {
		h.MaxBodySize = DefaultMaxBodySize
	}
	if h.MaxDepth == 0 {
		h.MaxDepth = jsonscan.DefaultLimits.MaxDepth
	}
	if h.MaxResponseSize == 0 {
		h.MaxResponseSize = DefaultMaxResponseSize
	}
	newDialect, ok := dialects[h.API]
	if !ok {
		return fmt.Errorf("api: %q is not a known API (known: %s)", h.API, knownAPIs())
	}
	lim := jsonscan.DefaultLimits
	lim.MaxDepth = h.MaxDepth
	d, err := newDialect(dialect.Options{SchemaFile: h.Schema, Limits: lim})
	if err != nil {
		return fmt.Errorf("api %s: schema: %v", h.API, err)
	}
	h.client = d
	h.native, _ = d.(dialect.NativeRevisions)
	h.derived, _ = d.(dialect.DerivedRevisions)
	return nil
}

// Validate checks the settings once they are provisioned.
func (h *Handler) Validate() error {
	switch {
	case h.MaxBodySize < 0:
		return fmt.Errorf("max_body_size must be positive, got %d", h.MaxBodySize)
	case h.MaxDepth < 1:
		return fmt.Errorf("max_depth must be at least 1, got %d", h.MaxDepth)
	case h.MaxResponseSize < 0:
		return fmt.Errorf("max_response_size must be positive, got %d", h.MaxResponseSize)
	}
	return nil
}

func knownAPIs() string {
	names := make([]string, 0, len(dialects))
	for name := range dialects {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// ServeHTTP runs the update pipeline for calls the API's dialect gates and
// passes every other request to next untouched.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	call, ok := h.client.Match(r)
	if !ok {
		return next.ServeHTTP(w, r)
	}
	start := time.Now()
	d := &decision{api: h.client.Name()}
	err := h.update(w, r, next, call, d)
	d.log(h.logger, time.Since(start))
	return err
}

// update is the pipeline: read → authenticate → validate → check revision →
// send → answer. Each step either yields what the next needs or a refusal
// that the client's dialect renders; nothing is written before the end.
func (h *Handler) update(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, call dialect.Call, d *decision) error {
	read := func() ([]byte, *dialect.Error) { return readBody(w, r, h.MaxBodySize) }
	u, derr := h.client.Decode(r, call, read)
	if derr != nil {
		return h.refuse(w, d, derr)
	}
	d.bucketID, d.fields = h.client.BucketID(u), u.Fields()

	if _, derr := h.client.Credential(r); derr != nil {
		return h.refuse(w, d, derr)
	}

	if derr := h.client.Validate(u); derr != nil {
		return h.refuse(w, d, derr)
	}

	pre, derr := h.precondition(r, u)
	if derr != nil {
		return h.refuse(w, d, derr)
	}

	out, err := u.Body()
	if err != nil {
		return h.refuse(w, d, dialect.Errorf(dialect.BadRequest, "update cannot be encoded"))
	}
	h.client.Outbound(r, u, out)
	prepareUpstream(r)

	if h.derived != nil {
		// The gateway compares derived revisions itself, so no other update
		// of this bucket through this process may come between the check,
		// the write and the read of the new revision.
		defer lockBucket(d.bucketID)()
		if pre.set {
			current, derr := h.readRevision(r, next, d.bucketID)
			if derr != nil {
				return h.refuse(w, d, derr)
			}
			if current != pre.rev {
				return h.refuse(w, d, errStale)
			}
		}
	}
	return h.send(w, r, next, pre, d)
}

// refuse writes a refusal in the client's dialect.
func (h *Handler) refuse(w http.ResponseWriter, d *decision, e *dialect.Error) error {
	d.refused(e)
	h.client.WriteError(w, e)
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
