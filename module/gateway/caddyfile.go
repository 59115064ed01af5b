package gateway

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/bucketgate/bucketgate/internal/auth"
	"github.com/bucketgate/bucketgate/internal/dialect"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("bucketgate", parseCaddyfile)
	// After encode, so responses it writes are still compressed, and before
	// handle and route, so it runs when reverse_proxy sits inside them.
	httpcaddyfile.RegisterDirectiveOrder("bucketgate", httpcaddyfile.After, "encode")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	g := new(Handler)
	err := g.UnmarshalCaddyfile(h.Dispenser)
	return g, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	bucketgate [<matcher>] {
//	    api               b2|flashback
//	    upstream_api      b2|flashback
//	    name_info_key      <bucketInfo key>
//	    workspace_info_key <bucketInfo key>
//	    schema            <file>
//	    max_body_size     <size>
//	    max_depth         <levels>
//	    max_response_size <size>
//	    upstream_timeout  <duration>
//	    require_revision
//	    mode              passthrough|gateway
//	    external_url      <url>
//	    token_lifetime    <duration>
//	    signing_secret    <secret>
//	    keys_file         <file>
//	    key <id> <secret> {
//	        name         <name>
//	        capabilities <capability...>
//	        buckets      <bucket id...>
//	        workspace    <workspace id> READ|WRITE|ADMIN
//	        allow_public
//	        expires      <RFC 3339 time>
//	    }
//	    upstream {
//	        realm           <url>
//	        key_id          <B2 application key id>
//	        application_key <B2 application key>
//	        token           <Flashback token>
//	    }
//	    public_key_ids    <B2 application key id...>
//	    local_state
//	    policy <name> {
//	        on         create|update|delete...
//	        expression <CEL>
//	        message    <text>
//	        action     deny|warn|audit
//	    }
//	}
//
// key and policy may repeat; within a key's block, capabilities, buckets and workspace may
// too, and add up. Every other subdirective may appear once: a second one is
// an error, not a silent override. The parser reads each argument's form;
// the rules the settings obey are the ones Provision applies
// (checkSettings), run here as well so that a mistake is reported at the
// file and line of the setting at fault, with the closest known name for a
// misspelt subdirective. Give secrets as {env.NAME} placeholders to keep
// them out of the adapted configuration.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	p := &parse{d: d, at: map[string]caddyfile.Token{"": d.Token()}}
	if err := block(p, "", handlerSubdirectives, h); err != nil {
		return err
	}
	if err := h.checkSettings(); err != nil {
		return p.located(err)
	}
	return nil
}

// parse is the state of one directive's parsing: where each setting was
// written, for the errors of the rules that judge it afterwards.
type parse struct {
	d  *caddyfile.Dispenser
	at map[string]caddyfile.Token
}

// subdirective parses one subdirective of a block into its target.
type subdirective[T any] struct {
	parse func(p *parse, target T) error
	// repeats allows the subdirective more than once in its block.
	repeats bool
}

// block parses the block the dispenser is at with the subdirectives known
// there, recording where each was written under its name, after prefix.
func block[T any](p *parse, prefix string, known map[string]subdirective[T], target T) error {
	d := p.d
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		sub, ok := known[name]
		if !ok {
			return d.Errf("unrecognized %ssubdirective '%s'%s", prefix, name, suggest(name, slices.Collect(maps.Keys(known))))
		}
		if seen[name] && !sub.repeats {
			return d.Errf("%s%s already specified", prefix, name)
		}
		seen[name] = true
		p.at[prefix+name] = d.Token()
		if err := sub.parse(p, target); err != nil {
			return err
		}
	}
	return nil
}

// located puts a rule's refusal at the file and line of the setting it
// names: the setting itself, the block it is in, or the directive.
func (p *parse) located(err error) error {
	tok := p.at[""]
	if se, ok := errors.AsType[*dialect.SettingError](err); ok {
		for s := se.Setting; s != ""; {
			if t, ok := p.at[s]; ok {
				tok = t
				break
			}
			i := strings.LastIndexByte(s, ' ')
			if i < 0 {
				break
			}
			s = s[:i]
		}
	}
	return fmt.Errorf("%v, at %s:%d", err, tok.File, tok.Line)
}

var handlerSubdirectives map[string]subdirective[*Handler]

func init() {
	handlerSubdirectives = map[string]subdirective[*Handler]{
		"api":                {parse: func(p *parse, h *Handler) error { return p.enumArg(&h.API, knownAPINames()) }},
		"upstream_api":       {parse: func(p *parse, h *Handler) error { return p.enumArg(&h.UpstreamAPI, knownAPINames()) }},
		"name_info_key":      {parse: func(p *parse, h *Handler) error { return p.oneArg(&h.NameInfoKey) }},
		"workspace_info_key": {parse: func(p *parse, h *Handler) error { return p.oneArg(&h.WorkspaceInfoKey) }},
		"schema":             {parse: func(p *parse, h *Handler) error { return p.oneArg(&h.Schema) }},
		"max_body_size":      {parse: func(p *parse, h *Handler) error { return p.sizeArg(&h.MaxBodySize) }},
		"max_response_size":  {parse: func(p *parse, h *Handler) error { return p.sizeArg(&h.MaxResponseSize) }},
		"max_depth":          {parse: func(p *parse, h *Handler) error { return p.countArg(&h.MaxDepth) }},
		"require_revision":   {parse: func(p *parse, h *Handler) error { return p.flag(&h.RequireRevision) }},
		"mode":               {parse: func(p *parse, h *Handler) error { return p.enumArg(&h.Mode, []string{modePassthrough, modeGateway}) }},
		"external_url":       {parse: func(p *parse, h *Handler) error { return p.oneArg(&h.ExternalURL) }},
		"upstream_timeout":   {parse: func(p *parse, h *Handler) error { return p.durationArg(&h.UpstreamTimeout) }},
		"token_lifetime":     {parse: func(p *parse, h *Handler) error { return p.durationArg(&h.TokenLifetime) }},
		"signing_secret":     {parse: func(p *parse, h *Handler) error { return p.oneArg(&h.SigningSecret) }},
		"keys_file":          {parse: func(p *parse, h *Handler) error { return p.oneArg(&h.KeysFile) }},
		"key":                {parse: (*parse).key, repeats: true},
		"upstream": {parse: func(p *parse, h *Handler) error {
			if p.d.NextArg() {
				return p.d.ArgErr()
			}
			h.Upstream = new(UpstreamCredentials)
			return block(p, "upstream ", upstreamSubdirectives, h.Upstream)
		}},
		"public_key_ids": {parse: func(p *parse, h *Handler) error { return p.moreArgs(&h.PublicKeyIDs) }},
		"policy":         {parse: (*parse).policy, repeats: true},
		"local_state":    {parse: func(p *parse, h *Handler) error { return p.flag(&h.LocalState) }},
	}
}

var upstreamSubdirectives = map[string]subdirective[*UpstreamCredentials]{
	"realm":           {parse: func(p *parse, u *UpstreamCredentials) error { return p.oneArg(&u.Realm) }},
	"key_id":          {parse: func(p *parse, u *UpstreamCredentials) error { return p.oneArg(&u.KeyID) }},
	"application_key": {parse: func(p *parse, u *UpstreamCredentials) error { return p.oneArg(&u.ApplicationKey) }},
	"token":           {parse: func(p *parse, u *UpstreamCredentials) error { return p.oneArg(&u.Token) }},
}

// key parses key <id> <secret> [{...}]. The key's rules (auth.Key.Check)
// are checked with the others, at the key's line.
func (p *parse) key(h *Handler) error {
	d := p.d
	var k auth.Key
	if !d.Args(&k.ID, &k.Secret) || d.NextArg() {
		return d.ArgErr()
	}
	for _, other := range h.Keys {
		if other.ID == k.ID {
			return d.Errf("key %s already specified", k.ID)
		}
	}
	p.at["key "+k.ID] = d.Token()
	if err := block(p, "key "+k.ID+" ", keySubdirectives, &k); err != nil {
		return err
	}
	h.Keys = append(h.Keys, k)
	return nil
}

var keySubdirectives = map[string]subdirective[*auth.Key]{
	"name":         {parse: func(p *parse, k *auth.Key) error { return p.oneArg(&k.Name) }},
	"capabilities": {parse: func(p *parse, k *auth.Key) error { return p.moreArgs(&k.Capabilities) }, repeats: true},
	"buckets":      {parse: func(p *parse, k *auth.Key) error { return p.moreArgs(&k.Buckets) }, repeats: true},
	"workspace": {repeats: true, parse: func(p *parse, k *auth.Key) error {
		var ws, role string
		if !p.d.Args(&ws, &role) || p.d.NextArg() {
			return p.d.ArgErr()
		}
		if _, dup := k.Workspaces[ws]; dup {
			return p.d.Errf("workspace %s already specified for key %s", ws, k.ID)
		}
		if k.Workspaces == nil {
			k.Workspaces = make(map[string]string)
		}
		k.Workspaces[ws] = role
		return nil
	}},
	"allow_public": {parse: func(p *parse, k *auth.Key) error { return p.flag(&k.AllowPublic) }},
	"expires":      {parse: func(p *parse, k *auth.Key) error { return p.oneArg(&k.Expires) }},
}

// policy parses policy <name> {...}. Its rules (Policy.compile: the writes
// it names, its action, an expression that compiles to a bool) are checked
// with the others, at the line at fault.
func (p *parse) policy(h *Handler) error {
	d := p.d
	var pol Policy
	if !d.Args(&pol.Name) || d.NextArg() {
		return d.ArgErr()
	}
	for _, other := range h.Policies {
		if other.Name == pol.Name {
			return d.Errf("policy %s already specified", pol.Name)
		}
	}
	p.at["policy "+pol.Name] = d.Token()
	if err := block(p, "policy "+pol.Name+" ", policySubdirectives, &pol); err != nil {
		return err
	}
	h.Policies = append(h.Policies, pol)
	return nil
}

var policySubdirectives = map[string]subdirective[*Policy]{
	"on":         {parse: func(p *parse, pol *Policy) error { return p.moreArgs(&pol.On) }},
	"expression": {parse: func(p *parse, pol *Policy) error { return p.text(&pol.Expression) }},
	"message":    {parse: func(p *parse, pol *Policy) error { return p.text(&pol.Message) }},
	"action":     {parse: func(p *parse, pol *Policy) error { return p.oneArg(&pol.Action) }},
}

// text reads the line's remaining arguments, at least one, as one text
// joined by spaces, as Caddy's own expression matcher reads a CEL
// expression: quote it with backticks, or write a heredoc, to keep its
// double quotes; CEL's single-quoted strings need neither.
func (p *parse) text(dst *string) error {
	more := p.d.RemainingArgs()
	if len(more) == 0 {
		return p.d.ArgErr()
	}
	*dst = strings.Join(more, " ")
	return nil
}

// moreArgs appends the line's remaining arguments, at least one, to dst.
func (p *parse) moreArgs(dst *[]string) error {
	more := p.d.RemainingArgs()
	if len(more) == 0 {
		return p.d.ArgErr()
	}
	*dst = append(*dst, more...)
	return nil
}

// oneArg reads the setting's one argument (Dispenser.AllArgs). Its error
// names the setting and never quotes an argument, which may be a secret
// such as signing_secret or application_key.
func (p *parse) oneArg(dst *string) error {
	name := p.d.Val()
	if !p.d.AllArgs(dst) {
		return p.d.Errf("%s takes exactly one argument", name)
	}
	return nil
}

// flag reads a setting that takes no argument.
func (p *parse) flag(dst *bool) error {
	if p.d.NextArg() {
		return p.d.ArgErr()
	}
	*dst = true
	return nil
}

// enumArg reads one argument that must be one of known.
func (p *parse) enumArg(dst *string, known []string) error {
	name := p.d.Val()
	if err := p.oneArg(dst); err != nil {
		return err
	}
	if !slices.Contains(known, *dst) {
		return p.d.Errf("%s '%s' is not known: write %s%s", name, *dst, strings.Join(known, " or "), suggest(*dst, known))
	}
	return nil
}

// sizeArg reads a positive size such as 512KiB.
func (p *parse) sizeArg(dst *int64) error {
	var s string
	if err := p.oneArg(&s); err != nil {
		return err
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > 1<<40 {
		return p.d.Errf("invalid size '%s': want a positive size such as 512KiB", s)
	}
	*dst = int64(n)
	return nil
}

// countArg reads a positive whole number.
func (p *parse) countArg(dst *int) error {
	name := p.d.Val()
	var s string
	if err := p.oneArg(&s); err != nil {
		return err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return p.d.Errf("%s must be a positive whole number, got '%s'", name, s)
	}
	*dst = n
	return nil
}

// durationArg reads a positive duration such as 30s.
func (p *parse) durationArg(dst *caddy.Duration) error {
	name := p.d.Val()
	var s string
	if err := p.oneArg(&s); err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(s)
	if err != nil || dur <= 0 {
		return p.d.Errf("%s must be a positive duration such as 30s, got '%s'", name, s)
	}
	*dst = caddy.Duration(dur)
	return nil
}

// suggest names the known word closest to a misspelt one, as "; did you
// mean 'x'?", when one is close enough to be the likely intent.
func suggest(word string, known []string) string {
	best, bestDist := "", len(word)/3+2
	slices.Sort(known)
	for _, k := range known {
		if d := editDistance(word, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean '" + best + "'?"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
