package flashbackemulator

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("flashback_emulator", parseCaddyfile)
	// It answers every request it gets, like respond, so it sits where
	// terminal handlers do; before respond so a catch-all respond in the
	// same site does not shadow it.
	httpcaddyfile.RegisterDirectiveOrder("flashback_emulator", httpcaddyfile.Before, "respond")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	e := new(Emulator)
	err := e.UnmarshalCaddyfile(h.Dispenser)
	return e, err
}

// UnmarshalCaddyfile sets up the emulator from Caddyfile tokens. Syntax:
//
//	flashback_emulator [<matcher>] {
//	    state_file <path>
//	    workspace  <id>...
//	    user <token> {
//	        name <name>
//	        role <workspace> READ|WRITE|ADMIN
//	    }
//	    bucket <display name> {
//	        id             <uuid>
//	        workspace      <workspace>
//	        storage_type   S3|GCS|BLOB|AZURE
//	        bucket         <provider bucket name>
//	        region         <region>
//	        endpoint       <url>
//	        key            <access key>
//	        secret         <secret>
//	        wallet_address <address>
//	        api_key_id     <uuid>
//	    }
//	}
//
// workspace, user and bucket may be repeated.
func (e *Emulator) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "state_file":
			if e.StateFile != "" {
				return d.Err("state_file already specified")
			}
			if err := oneArg(d, "state_file", &e.StateFile); err != nil {
				return err
			}
		case "workspace":
			ids := d.RemainingArgs()
			if len(ids) == 0 {
				return d.ArgErr()
			}
			e.Workspaces = append(e.Workspaces, ids...)
		case "user":
			u, err := parseUser(d)
			if err != nil {
				return err
			}
			e.Users = append(e.Users, u)
		case "bucket":
			b, err := parseBucket(d)
			if err != nil {
				return err
			}
			e.Buckets = append(e.Buckets, b)
		default:
			return d.Errf("unrecognized subdirective '%s'", d.Val())
		}
	}
	return nil
}

func parseUser(d *caddyfile.Dispenser) (User, error) {
	var u User
	if err := oneArg(d, "user", &u.Token); err != nil {
		return u, err
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "name":
			if u.Name != "" {
				return u, d.Err("name already specified")
			}
			if err := oneArg(d, "name", &u.Name); err != nil {
				return u, err
			}
		case "role":
			var ws, r string
			if !d.AllArgs(&ws, &r) {
				return u, d.Err("role takes a workspace and a role")
			}
			if _, dup := u.Roles[ws]; dup {
				return u, d.Errf("role in workspace '%s' already specified", ws)
			}
			if u.Roles == nil {
				u.Roles = make(map[string]string)
			}
			u.Roles[ws] = r
		default:
			return u, d.Errf("unrecognized user subdirective '%s'", d.Val())
		}
	}
	return u, nil
}

func parseBucket(d *caddyfile.Dispenser) (Bucket, error) {
	var b Bucket
	if err := oneArg(d, "bucket", &b.Name); err != nil {
		return b, err
	}
	dst := map[string]*string{
		"id": &b.ID, "workspace": &b.Workspace, "storage_type": &b.StorageType, "bucket": &b.Bucket,
		"region": &b.Region, "endpoint": &b.Endpoint, "key": &b.Key, "secret": &b.Secret,
		"wallet_address": &b.WalletAddress, "api_key_id": &b.APIKeyID,
	}
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		key := d.Val()
		p, ok := dst[key]
		switch {
		case !ok:
			return b, d.Errf("unrecognized bucket subdirective '%s'", key)
		case seen[key]:
			return b, d.Errf("%s already specified", key)
		}
		if err := oneArg(d, key, p); err != nil {
			return b, err
		}
		seen[key] = true
	}
	return b, nil
}

// oneArg reads the single argument of what into dst. Its error never quotes
// a token, since the argument may be a bearer token or a secret.
func oneArg(d *caddyfile.Dispenser, what string, dst *string) error {
	if !d.AllArgs(dst) {
		return d.Errf("%s takes exactly one argument", what)
	}
	return nil
}

// Interface guards
var _ caddyfile.Unmarshaler = (*Emulator)(nil)
