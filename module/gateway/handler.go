package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/bucketgate/bucketgate/internal/auth"
	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Defaults for the size settings.
const (
	DefaultMaxBodySize     = 512 << 10
	DefaultMaxResponseSize = 1 << 20
	// DefaultUpstreamTimeout bounds everything the gateway does upstream for
	// one call. B2 and Flashback answer bucket calls in well under a second;
	// 30 seconds leaves room for a slow sign-in and a read-back while still
	// answering before most clients give up on their own.
	DefaultUpstreamTimeout = 30 * time.Second
)

// Handler is admission control for the buckets of one storage API. Each
// write (a creation, an update, a deletion) is read, authenticated,
// validated against the API's JSON Schema and rules, authorised, judged by
// the operator's policies and checked against its revision precondition,
// and only then passed to the next handler; the upstream's answer is read
// once and comes back with an ETag. The API's other calls are answered,
// routed or passed on as the identity mode needs.
//
// The next handler (normally reverse_proxy, which holds the upstream's
// address) is called once for each upstream call a request needs: the
// gateway's own sign-in, a read of the bucket for a precondition, a policy
// or a translation, the write itself, and a read-back where the answer does
// not carry the new revision, all within the one deadline upstream_timeout
// sets. A handler placed between bucketgate and reverse_proxy runs on every
// one of those calls, not once per client request.
//
// Refusals are written in the API's own error shape (B2:
// {"status","code","message"}; Flashback: {"success":false,"message"}), so
// they do not go through handle_errors.
type Handler struct {
	// API is the API the clients of this handler speak. Required. One of:
	// "b2" (Backblaze B2 native API, b2_update_bucket on /b2api/v1 to v4), or
	// "flashback" (Flashback platform API, PUT /bucket/{bucketId}).
	API string `json:"api,omitempty"`

	// UpstreamAPI is the API of the upstream, when it is not API: the gateway
	// then translates each update from the client's API into the upstream's
	// and the answer back (see the mapping in docs/translation.md). Needs mode
	// gateway, since the gateway holds the upstream credentials. Default: API.
	UpstreamAPI string `json:"upstream_api,omitempty"`

	// NameInfoKey and WorkspaceInfoKey are the B2 bucketInfo entries that
	// hold a Flashback bucket's display name and workspace in translation:
	// two different keys that B2 accepts in bucketInfo (1 to 50 letters,
	// digits, - and _, not starting with b2-), or the configuration does not
	// load. Defaults: "name" and "workspaceId".
	NameInfoKey      string `json:"name_info_key,omitempty"`
	WorkspaceInfoKey string `json:"workspace_info_key,omitempty"`

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
	// an ETag, map a failed revision test, filter a bucket list, or read the
	// bucket state it derives revisions from. A larger answer to a call the
	// gateway handles is refused with 502. Default: 1 MiB.
	MaxResponseSize int64 `json:"max_response_size,omitempty"`

	// UpstreamTimeout is how long the gateway waits on the upstream for one
	// call it handles (updates, and the sign-ins and lists it answers): all
	// of that call's upstream requests together (its sign-in, the bucket
	// reads, the update itself, the read-back) and its wait for the bucket's
	// lock. On expiry the client gets 504 in its API's shape, saying whether
	// the update may have been applied. Calls the gateway only routes are not
	// bounded by it. Default: 30s.
	UpstreamTimeout caddy.Duration `json:"upstream_timeout,omitempty"`

	// Mode says whose credentials clients hold. "passthrough" (default):
	// the upstream's own; the gateway checks what it can, the credential goes
	// upstream, and the upstream has the last word. "gateway": keys this
	// gateway issued (keys, keys_file); the gateway signs in to the upstream
	// with its own credentials (upstream), which clients never see.
	Mode string `json:"mode,omitempty"`

	// Keys are the gateway keys clients use in gateway mode.
	Keys []auth.Key `json:"keys,omitempty"`

	// KeysFile is a JSON file of more gateway keys (a list of keys, or
	// {"keys": [...]}), read when the configuration loads.
	KeysFile string `json:"keys_file,omitempty"`

	// SigningSecret signs the tokens the gateway issues to B2 clients in
	// gateway mode; gateways that share it accept each other's tokens, with
	// no shared store. At least 32 bytes. Use a placeholder such as
	// {env.BUCKETGATE_SIGNING_SECRET} to keep it out of the configuration.
	SigningSecret string `json:"signing_secret,omitempty"`

	// ExternalURL is the gateway's address as B2 clients reach it, handed to
	// them as apiUrl when they sign in through the gateway. Default: the
	// scheme and Host of each sign-in request.
	ExternalURL string `json:"external_url,omitempty"`

	// TokenLifetime is how long a B2 token lasts at the gateway: the tokens it
	// issues in gateway mode, and how long it remembers an upstream token in
	// passthrough mode. Clients sign in again when it runs out. Default and
	// maximum: 24h, as B2's own tokens.
	TokenLifetime caddy.Duration `json:"token_lifetime,omitempty"`

	// Upstream is where the gateway signs in upstream, and with what.
	Upstream *UpstreamCredentials `json:"upstream,omitempty"`

	// Policies are the operator's own rules over the writes (creations,
	// updates, deletions), in CEL, each with the action a failing write
	// gets: deny, warn or audit. They run after the contract's validation
	// and the caller's authorisation, in the order written. See Policy and
	// docs/policies.md.
	Policies []Policy `json:"policies,omitempty"`

	// PublicKeyIDs reserves making a B2 bucket public (bucketType allPublic)
	// in passthrough mode to the upstream application key ids listed; others
	// are refused. Needs upstream.realm, which is how the gateway learns the
	// key id behind a token. In gateway mode the reservation is always on:
	// only keys with allow_public may.
	PublicKeyIDs []string `json:"public_key_ids,omitempty"`

	// LocalState keeps what instances otherwise share through Caddy's
	// configured storage in this process alone: passthrough mode's memory of
	// upstream tokens, and the per-bucket lock around updates under derived
	// revisions (Flashback, and B2 clients of a Flashback upstream). For a
	// single instance that wants no storage reads or writes. Instances that
	// set it do not know each other's tokens and can lose each other's
	// updates. The token memory survives configuration reloads either way.
	// Default: off, so that every instance sharing the storage (as Caddy's
	// certificate management does) behaves as one gateway.
	LocalState bool `json:"local_state,omitempty"`

	// clientSide is the API the clients speak, upstreamSide the upstream's: the
	// same side unless translating.
	clientSide, upstreamSide side
	keyring                  *auth.Keyring
	signer                   *auth.Signer
	tokens                   *auth.TokenStore
	// tokensKey is the token memory's key in tokenMemories; empty without one.
	tokensKey string
	// storage is Caddy's configured storage, where what instances share
	// lives; nil with local_state, or when the handler shares nothing.
	storage certmagic.Storage
	// serialised is true when updates hold the bucket's lock (derived revisions).
	serialised bool
	// session is the gateway's own sign-in at the realm of an upstream that
	// has a sign-in call; only gateway mode signs in with it.
	session *upstreamSession
	// chain is the handler chain after this one, kept from its first call
	// for the audit, which is made outside any call.
	chain *chain
	// policies are the compiled policies, in order, and byOp those that
	// judge each write.
	policies []*compiledPolicy
	byOp     map[dialect.Op][]*compiledPolicy
	// vars are what policies read that is the same for many writes.
	vars   policyConstants
	logger *zap.Logger
}

// UpstreamCredentials holds the upstream's sign-in address and the
// gateway's own credentials there. Secrets may be placeholders such as
// {env.B2_APP_KEY}, expanded when the configuration loads.
type UpstreamCredentials struct {
	// Realm is the B2 sign-in address, such as https://api.backblazeb2.com.
	// In passthrough mode, setting it makes the gateway proxy
	// b2_authorize_account there, point the answer's apiUrl at itself, and
	// remember each token's account, so that it can refuse what a token may
	// not do and route the token's calls to its account's apiUrl. Without
	// it, a B2 gateway in passthrough mode refuses sign-ins: passed through,
	// B2's answer would hand clients B2's own apiUrl, and their updates would
	// bypass the gateway. Required in gateway mode for B2.
	Realm string `json:"realm,omitempty"`
	// KeyID and ApplicationKey are the gateway's own B2 key (gateway mode).
	KeyID          string `json:"key_id,omitempty"`
	ApplicationKey string `json:"application_key,omitempty"`
	// Token is the gateway's own Flashback bearer token (gateway mode).
	Token string `json:"token,omitempty"`
}

// Modes.
const (
	modePassthrough = "passthrough"
	modeGateway     = "gateway"
)

// maxTokenLifetime is how long B2's own tokens last.
const maxTokenLifetime = 24 * time.Hour

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.bucketgate",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision checks the settings (config.go), sets the defaults, builds the
// two sides' dialects and compiles their schemas, and prepares the identity
// mode's keys, signer and token memory, once.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if err := h.checkSettings(); err != nil {
		return err
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("registering metrics: %v", err)
	}
	if h.MaxBodySize == 0 {
		h.MaxBodySize = DefaultMaxBodySize
	}
	if h.MaxDepth == 0 {
		h.MaxDepth = jsonscan.DefaultLimits.MaxDepth
	}
	if h.MaxResponseSize == 0 {
		h.MaxResponseSize = DefaultMaxResponseSize
	}
	if h.UpstreamTimeout == 0 {
		h.UpstreamTimeout = caddy.Duration(DefaultUpstreamTimeout)
	}
	if h.UpstreamAPI == "" {
		h.UpstreamAPI = h.API
	}
	if err := h.provisionSides(); err != nil {
		return err
	}
	if err := h.provisionIdentity(ctx); err != nil {
		return err
	}
	policies, err := compilePolicies(h.Policies, h.policyBound())
	if err != nil {
		return err
	}
	h.policies, h.byOp, h.chain = policies, make(map[dialect.Op][]*compiledPolicy), new(chain)
	for _, p := range policies {
		for _, op := range p.ops {
			h.byOp[op] = append(h.byOp[op], p)
		}
	}
	if len(policies) > 0 {
		h.vars = h.newPolicyConstants()
	}
	loaded.add(h)
	return nil
}

// Validate checks what only the provisioned handler knows: that a gateway
// has keys once its keys file is read.
func (h *Handler) Validate() error {
	if h.Mode == modeGateway && h.keyring.Len() == 0 {
		return errors.New("mode gateway needs at least one key (key or keys_file)")
	}
	return nil
}

// Cleanup takes h out of the admin API's and the metrics' view when its
// configuration stops, and lets go of its token memory, which the
// configuration that replaces it already holds, so a reload forgets nothing.
func (h *Handler) Cleanup() error {
	loaded.remove(h)
	if h.tokensKey != "" {
		_, err := tokenMemories.Delete(h.tokensKey)
		return err
	}
	return nil
}

// ServeHTTP recognises the calls of the client's API and hands each to the
// step that judges it (serve, in exchange.go); every other request goes to
// next untouched. next is normally reverse_proxy, and the gateway calls it
// once per upstream request it makes for a call: its sign-in, the reads of
// the bucket, the write and the read-back (see Handler).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	call, ok := h.clientSide.Match(r)
	if !ok {
		return next.ServeHTTP(w, r)
	}
	h.chain.keep(next)
	return h.serve(w, r, next, call)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddyfile.Unmarshaler       = (*Handler)(nil)
)
