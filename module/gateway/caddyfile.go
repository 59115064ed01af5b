package gateway

import (
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"
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
//	    api               b2
//	    schema            <file>
//	    max_body_size     <size>
//	    max_depth         <levels>
//	    max_response_size <size>
//	    require_revision
//	}
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
