package gateway

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bucketgate/bucketgate/internal/b2"
	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/flashback"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// api is one API the gateway speaks.
type api struct {
	build func(dialect.Options) (dialect.Dialect, error)
	// typ is a nil value of the dialect's type: what the API can do, known
	// while the configuration is parsed, before any dialect is built.
	typ dialect.Dialect
	// checkOptions, if set, checks the options the dialect would be built
	// with, so that the Caddyfile adapter can report them at their line.
	checkOptions func(dialect.Options) error
}

// dialects are the APIs the gateway speaks, by configuration name.
var dialects = map[string]api{
	"b2":        {func(o dialect.Options) (dialect.Dialect, error) { return b2.New(o) }, (*b2.Dialect)(nil), b2.CheckOptions},
	"flashback": {func(o dialect.Options) (dialect.Dialect, error) { return flashback.New(o) }, (*flashback.Dialect)(nil), nil},
}

// signsIn reports whether the API named has a sign-in call.
func signsIn(name string) bool {
	_, ok := dialects[name].typ.(dialect.SignIn)
	return ok
}

// translates reports whether the API named takes part in translation.
func translates(name string) bool {
	_, ok := dialects[name].typ.(dialect.Translator)
	return ok
}

// dialectOptions are the options both sides' dialects are built with.
func (h *Handler) dialectOptions() dialect.Options {
	lim := jsonscan.DefaultLimits
	if h.MaxDepth > 0 {
		lim.MaxDepth = h.MaxDepth
	}
	return dialect.Options{Limits: lim, NameKey: h.NameInfoKey, WorkspaceKey: h.WorkspaceInfoKey}
}

// side is one API the handler speaks, the clients' or the upstream's: its
// dialect, and what else that dialect can do, each nil when the API has no
// such thing. Both sides are chosen once, at Provision; translating is the
// sides differing.
type side struct {
	dialect.Dialect
	// Exactly one of native and derived is set: how the API's revisions
	// work. derived reads the bucket the gateway derives a revision from.
	native  dialect.NativeRevisions
	derived dialect.BucketReader
	// workspaces is an API whose buckets live in workspaces (Flashback).
	workspaces dialect.Workspaces
	// signIn, scopes and accountLists are an API with accounts (B2).
	signIn       dialect.SignIn
	scopes       dialect.Scopes
	accountLists dialect.AccountLists
	// workspaceLists is an API that lists buckets by workspace (Flashback).
	workspaceLists dialect.WorkspaceLists
	// reader reads one bucket's state, translator takes part in translation.
	reader     dialect.BucketReader
	translator dialect.Translator
}

func newSide(d dialect.Dialect) side {
	s := side{Dialect: d}
	s.native, _ = d.(dialect.NativeRevisions)
	if s.native == nil {
		s.derived, _ = d.(dialect.BucketReader)
	}
	s.workspaces, _ = d.(dialect.Workspaces)
	s.signIn, _ = d.(dialect.SignIn)
	s.scopes, _ = d.(dialect.Scopes)
	s.accountLists, _ = d.(dialect.AccountLists)
	s.workspaceLists, _ = d.(dialect.WorkspaceLists)
	s.reader, _ = d.(dialect.BucketReader)
	s.translator, _ = d.(dialect.Translator)
	return s
}

// provisionSides builds the client's side from api and schema, and the
// upstream's from upstream_api when it differs.
func (h *Handler) provisionSides() error {
	opts := h.dialectOptions()
	client := opts
	client.Translated = h.UpstreamAPI != h.API
	d, err := newDialect("api", h.API, client, h.Schema)
	if err != nil {
		return err
	}
	h.clientSide = newSide(d)
	h.upstreamSide = h.clientSide
	if h.UpstreamAPI != h.API {
		// The user's schema is the client's; the upstream's built-in ones
		// check every translated write before it is sent.
		up, err := newDialect("upstream_api", h.UpstreamAPI, opts, "")
		if err != nil {
			return err
		}
		h.upstreamSide = newSide(up)
	}
	// The gateway compares derived revisions itself, so it serialises them.
	h.serialised = h.upstreamSide.derived != nil
	return nil
}

func newDialect(setting, name string, opts dialect.Options, schema string) (dialect.Dialect, error) {
	a, ok := dialects[name]
	if !ok {
		return nil, fmt.Errorf("%s: %q is not a known API (known: %s)", setting, name, knownAPIs())
	}
	opts.SchemaFile = schema
	d, err := a.build(opts)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", setting, name, err)
	}
	return d, nil
}

func knownAPIs() string {
	return strings.Join(knownAPINames(), ", ")
}

func knownAPINames() []string {
	names := make([]string, 0, len(dialects))
	for name := range dialects {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
