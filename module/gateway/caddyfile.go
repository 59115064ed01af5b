package gateway

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/bucketgate/bucketgate/internal/auth"
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
//	}
//
// key may repeat; within its block, capabilities, buckets and workspace may
// too, and add up. Every other subdirective may appear once: a second one is
// an error, not a silent override. Names from a fixed list (api,
// upstream_api, mode, capabilities, roles), URLs, durations and times are
// checked here, so that mistakes are reported at their file and line, as are
// the settings mode gateway needs and lacks. Give secrets as {env.NAME}
// placeholders to keep them out of the adapted configuration.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	start := d.Token()
	var realmAt caddyfile.Token
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		if seen[name] {
			return d.Errf("%s already specified", name)
		}
		seen[name] = true
		var err error
		switch name {
		case "api":
			err = enumArg(d, &h.API, knownAPINames())
		case "upstream_api":
			err = enumArg(d, &h.UpstreamAPI, knownAPINames())
		case "name_info_key":
			err = oneArg(d, &h.NameInfoKey)
		case "workspace_info_key":
			err = oneArg(d, &h.WorkspaceInfoKey)
		case "schema":
			err = oneArg(d, &h.Schema)
		case "max_body_size":
			err = sizeArg(d, &h.MaxBodySize)
		case "max_response_size":
			err = sizeArg(d, &h.MaxResponseSize)
		case "max_depth":
			var s string
			if err = oneArg(d, &s); err == nil {
				h.MaxDepth, err = strconv.Atoi(s)
				if err != nil || h.MaxDepth < 1 {
					return d.Errf("max_depth must be a positive whole number, got '%s'", s)
				}
			}
		case "require_revision":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.RequireRevision = true
		case "mode":
			err = enumArg(d, &h.Mode, []string{modePassthrough, modeGateway})
		case "external_url":
			err = urlArg(d, &h.ExternalURL)
		case "upstream_timeout":
			var v string
			if err = oneArg(d, &v); err == nil {
				dur, perr := caddy.ParseDuration(v)
				if perr != nil || dur <= 0 {
					return d.Errf("upstream_timeout must be a positive duration such as 30s, got '%s'", v)
				}
				h.UpstreamTimeout = caddy.Duration(dur)
			}
		case "token_lifetime":
			var v string
			if err = oneArg(d, &v); err == nil {
				dur, perr := caddy.ParseDuration(v)
				if perr != nil {
					return d.Errf("invalid token_lifetime '%s': %v; write a duration such as 12h", v, perr)
				}
				if dur <= 0 || dur > maxTokenLifetime {
					return d.Errf("token_lifetime '%s' must be positive and at most 24h, as B2's own tokens", v)
				}
				h.TokenLifetime = caddy.Duration(dur)
			}
		case "signing_secret":
			err = oneArg(d, &h.SigningSecret)
		case "keys_file":
			err = oneArg(d, &h.KeysFile)
		case "key":
			delete(seen, name) // keys repeat
			err = h.unmarshalKey(d)
		case "upstream":
			err = h.unmarshalUpstream(d, &realmAt)
		case "public_key_ids":
			err = moreArgs(d, &h.PublicKeyIDs)
		case "local_state":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.LocalState = true
		default:
			return d.Errf("unrecognized subdirective '%s'", name)
		}
		if err != nil {
			return err
		}
	}
	if h.API == "" {
		return d.Err("missing required subdirective 'api'")
	}
	return h.checkParsed(start, realmAt)
}

// checkParsed reports, at the directive, the settings a handler needs and
// lacks, and, at the realm, a gateway key that would travel in clear: the
// same checks Validate makes, but while the file and line are still known.
func (h *Handler) checkParsed(start, realmAt caddyfile.Token) error {
	at := func(tok caddyfile.Token, format string, args ...any) error {
		return fmt.Errorf(format+", at %s:%d", append(args, tok.File, tok.Line)...)
	}
	upstreamAPI := h.UpstreamAPI
	if upstreamAPI == "" {
		upstreamAPI = h.API
	}
	up := h.Upstream
	if up == nil {
		up = new(UpstreamCredentials)
	}
	if up.Realm != "" && !signsIn(upstreamAPI) {
		return at(realmAt, "upstream realm: the %s API has no sign-in call; remove realm", upstreamAPI)
	}
	if h.Mode != modeGateway {
		switch {
		case upstreamAPI != h.API:
			return at(start, "upstream_api %s differs from api %s: translation needs 'mode gateway', since the gateway holds the upstream credentials", upstreamAPI, h.API)
		case len(h.Keys) > 0 || h.KeysFile != "" || h.SigningSecret != "":
			return at(start, "key, keys_file and signing_secret are for 'mode gateway'; clients in passthrough mode use the upstream's own credentials")
		case up.KeyID != "" || up.ApplicationKey != "" || up.Token != "":
			return at(start, "upstream key_id, application_key and token are for 'mode gateway'; in passthrough mode the client's own credentials go upstream")
		}
		return nil
	}
	if len(h.PublicKeyIDs) > 0 {
		return at(start, "public_key_ids is for passthrough mode; in 'mode gateway' grant allow_public to keys")
	}
	var missing []string
	if len(h.Keys) == 0 && h.KeysFile == "" {
		missing = append(missing, "key (or keys_file)")
	}
	if signsIn(h.API) && h.SigningSecret == "" {
		missing = append(missing, "signing_secret (such as signing_secret {env.BUCKETGATE_SIGNING_SECRET})")
	}
	if signsIn(upstreamAPI) {
		for _, s := range []struct{ name, value string }{{"realm", up.Realm}, {"key_id", up.KeyID}, {"application_key", up.ApplicationKey}} {
			if s.value == "" {
				missing = append(missing, "upstream "+s.name)
			}
		}
	} else if up.Token == "" {
		missing = append(missing, "upstream token (such as token {env.FLASHBACK_TOKEN})")
	}
	if len(missing) > 0 {
		return at(start, "mode gateway is missing %s", strings.Join(missing, ", "))
	}
	if err := clearRealm(up.Realm); err != nil {
		return at(realmAt, "%v", err)
	}
	return nil
}

func (h *Handler) unmarshalKey(d *caddyfile.Dispenser) error {
	var k auth.Key
	if !d.Args(&k.ID, &k.Secret) || d.NextArg() {
		return d.ArgErr()
	}
	for _, other := range h.Keys {
		if other.ID == k.ID {
			return d.Errf("key %s already specified", k.ID)
		}
	}
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		switch name {
		case "name", "allow_public", "expires":
			// capabilities, buckets and workspace add up; these do not.
			if seen[name] {
				return d.Errf("%s already specified for key %s", name, k.ID)
			}
			seen[name] = true
		}
		var err error
		switch name {
		case "name":
			err = oneArg(d, &k.Name)
		case "capabilities":
			n := len(k.Capabilities)
			if err = moreArgs(d, &k.Capabilities); err == nil {
				if _, cerr := auth.ExpandCapabilities(k.Capabilities[n:]); cerr != nil {
					return d.Errf("key %s: %v", k.ID, cerr)
				}
			}
		case "buckets":
			err = moreArgs(d, &k.Buckets)
		case "workspace":
			var ws, role string
			if !d.Args(&ws, &role) || d.NextArg() {
				return d.ArgErr()
			}
			if k.Workspaces == nil {
				k.Workspaces = make(map[string]string)
			}
			if _, dup := k.Workspaces[ws]; dup {
				return d.Errf("workspace %s already specified for key %s", ws, k.ID)
			}
			if _, rerr := auth.ParseRole(role); rerr != nil {
				return d.Errf("key %s, workspace %s: %v", k.ID, ws, rerr)
			}
			k.Workspaces[ws] = role
		case "allow_public":
			if d.NextArg() {
				return d.ArgErr()
			}
			k.AllowPublic = true
		case "expires":
			if err = oneArg(d, &k.Expires); err == nil {
				if _, terr := time.Parse(time.RFC3339, k.Expires); terr != nil {
					return d.Errf("key %s: expires '%s' is not an RFC 3339 time; write one such as 2027-01-31T00:00:00Z", k.ID, k.Expires)
				}
			}
		default:
			return d.Errf("unrecognized key subdirective '%s'", d.Val())
		}
		if err != nil {
			return err
		}
	}
	h.Keys = append(h.Keys, k)
	return nil
}

func (h *Handler) unmarshalUpstream(d *caddyfile.Dispenser, realmAt *caddyfile.Token) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	h.Upstream = new(UpstreamCredentials)
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if seen[d.Val()] {
			return d.Errf("upstream %s already specified", d.Val())
		}
		seen[d.Val()] = true
		var err error
		switch d.Val() {
		case "realm":
			*realmAt = d.Token()
			err = urlArg(d, &h.Upstream.Realm)
		case "key_id":
			err = oneArg(d, &h.Upstream.KeyID)
		case "application_key":
			err = oneArg(d, &h.Upstream.ApplicationKey)
		case "token":
			err = oneArg(d, &h.Upstream.Token)
		default:
			return d.Errf("unrecognized upstream subdirective '%s'", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// moreArgs appends the line's remaining arguments, at least one, to dst.
func moreArgs(d *caddyfile.Dispenser, dst *[]string) error {
	more := d.RemainingArgs()
	if len(more) == 0 {
		return d.ArgErr()
	}
	*dst = append(*dst, more...)
	return nil
}

// oneArg reads the setting's one argument (Dispenser.AllArgs). Its error
// names the setting and never quotes an argument, which may be a secret
// such as signing_secret or application_key.
func oneArg(d *caddyfile.Dispenser, dst *string) error {
	name := d.Val()
	if !d.AllArgs(dst) {
		return d.Errf("%s takes exactly one argument", name)
	}
	return nil
}

// enumArg reads one argument that must be one of known.
func enumArg(d *caddyfile.Dispenser, dst *string, known []string) error {
	name := d.Val()
	if err := oneArg(d, dst); err != nil {
		return err
	}
	if !slices.Contains(known, *dst) {
		return d.Errf("%s '%s' is not known: write %s", name, *dst, strings.Join(known, " or "))
	}
	return nil
}

// urlArg reads one absolute http or https URL with no path, unless it is a
// placeholder, which only the load can judge.
func urlArg(d *caddyfile.Dispenser, dst *string) error {
	name := d.Val()
	if err := oneArg(d, dst); err != nil {
		return err
	}
	if strings.Contains(*dst, "{") {
		return nil
	}
	if _, err := absoluteURL(*dst); err != nil {
		return d.Errf("%s: %v", name, err)
	}
	return nil
}

func sizeArg(d *caddyfile.Dispenser, dst *int64) error {
	var s string
	if err := oneArg(d, &s); err != nil {
		return err
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > 1<<40 {
		return d.Errf("invalid size '%s': want a positive size such as 512KiB", s)
	}
	*dst = int64(n)
	return nil
}
