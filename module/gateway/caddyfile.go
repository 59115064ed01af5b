package gateway

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/bucketgate/bucketgate/module/auth"
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
//	}
//
// key may repeat; within its block, capabilities, buckets and workspace may
// too. Give secrets as {env.NAME} placeholders to keep them out of the
// adapted configuration.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
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
			err = oneArg(d, &h.API)
		case "upstream_api":
			err = oneArg(d, &h.UpstreamAPI)
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
			err = oneArg(d, &h.Mode)
		case "external_url":
			err = oneArg(d, &h.ExternalURL)
		case "token_lifetime":
			var v string
			if err = oneArg(d, &v); err == nil {
				dur, perr := caddy.ParseDuration(v)
				if perr != nil {
					return d.Errf("invalid token_lifetime '%s': %v", v, perr)
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
			err = h.unmarshalUpstream(d)
		case "public_key_ids":
			err = moreArgs(d, &h.PublicKeyIDs)
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
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "name":
			err = oneArg(d, &k.Name)
		case "capabilities":
			err = moreArgs(d, &k.Capabilities)
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
			k.Workspaces[ws] = role
		case "allow_public":
			if d.NextArg() {
				return d.ArgErr()
			}
			k.AllowPublic = true
		case "expires":
			err = oneArg(d, &k.Expires)
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

func (h *Handler) unmarshalUpstream(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	h.Upstream = new(Upstream)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "realm":
			err = oneArg(d, &h.Upstream.Realm)
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

func oneArg(d *caddyfile.Dispenser, dst *string) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.ArgErr()
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

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
