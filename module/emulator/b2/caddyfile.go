package b2emulator

import (
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("b2_emulator", parseCaddyfile)
	// It answers every request itself, like respond, so it sits with the
	// terminal handlers and a Caddyfile needs no order line.
	httpcaddyfile.RegisterDirectiveOrder("b2_emulator", httpcaddyfile.Before, "respond")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	e := new(Emulator)
	err := e.UnmarshalCaddyfile(h.Dispenser)
	return e, err
}

// UnmarshalCaddyfile sets up the emulator from Caddyfile tokens. Syntax:
//
//	b2_emulator [<matcher>] {
//	    api_url          <url>
//	    state_file       <path>
//	    initial_revision <n>
//	    storage_cap      <size>
//	    max_file_versions <n>
//	    account <account_id> {
//	        key <key_id> <secret> {
//	            capabilities <capability...>
//	            bucket       <bucket_name_or_id>
//	            name_prefix  <prefix>
//	        }
//	        bucket <name> {
//	            id   <bucket_id>
//	            type <type>
//	            info <key> <value>
//	            file_lock
//	        }
//	    }
//	}
//
// account, key, bucket, capabilities and info may repeat; a bucket needs no
// block.
func (h *Emulator) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := make(map[string]bool)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		if name != "account" && seen[name] {
			return d.Errf("%s already specified", name)
		}
		seen[name] = true
		var err error
		switch name {
		case "api_url":
			err = oneArg(d, &h.APIURL)
		case "state_file":
			err = oneArg(d, &h.StateFile)
		case "initial_revision":
			var s string
			if err = oneArg(d, &s); err == nil {
				h.InitialRevision, err = strconv.ParseInt(s, 10, 64)
				if err != nil || h.InitialRevision < 1 {
					return d.Errf("initial_revision must be a whole number of at least 1, got '%s'", s)
				}
			}
		case "storage_cap":
			var size string
			if err = oneArg(d, &size); err == nil {
				n, perr := humanize.ParseBytes(size)
				if perr != nil || n == 0 || n > 1<<40 {
					return d.Errf("storage_cap must be a positive size such as 64MiB, got '%s'", size)
				}
				h.StorageCap = int64(n)
			}
		case "max_file_versions":
			var s string
			if err = oneArg(d, &s); err == nil {
				n, perr := strconv.Atoi(s)
				if perr != nil || n < 1 {
					return d.Errf("max_file_versions must be a whole number of at least 1, got '%s'", s)
				}
				h.MaxFileVersions = n
			}
		case "account":
			var a Account
			if a, err = parseAccount(d); err == nil {
				h.Accounts = append(h.Accounts, a)
			}
		default:
			return d.Errf("unrecognized subdirective '%s'", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseAccount(d *caddyfile.Dispenser) (Account, error) {
	var a Account
	if err := oneArg(d, &a.ID); err != nil {
		return a, err
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "key":
			k, err := parseKey(d)
			if err != nil {
				return a, err
			}
			a.Keys = append(a.Keys, k)
		case "bucket":
			b, err := parseBucket(d)
			if err != nil {
				return a, err
			}
			a.Buckets = append(a.Buckets, b)
		default:
			return a, d.Errf("unrecognized account subdirective '%s'", d.Val())
		}
	}
	return a, nil
}

func parseKey(d *caddyfile.Dispenser) (Key, error) {
	var k Key
	if !d.Args(&k.ID, &k.Secret) || d.NextArg() {
		return k, d.Err("key takes a key id and a secret")
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "capabilities":
			caps := d.RemainingArgs()
			if len(caps) == 0 {
				return k, d.ArgErr()
			}
			k.Capabilities = append(k.Capabilities, caps...)
		case "bucket":
			err = oneArg(d, &k.Bucket)
		case "name_prefix":
			err = oneArg(d, &k.NamePrefix)
		default:
			return k, d.Errf("unrecognized key subdirective '%s'", d.Val())
		}
		if err != nil {
			return k, err
		}
	}
	return k, nil
}

func parseBucket(d *caddyfile.Dispenser) (SeedBucket, error) {
	var b SeedBucket
	if err := oneArg(d, &b.Name); err != nil {
		return b, err
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "id":
			err = oneArg(d, &b.ID)
		case "type":
			err = oneArg(d, &b.Type)
		case "info":
			var key, value string
			if !d.Args(&key, &value) || d.NextArg() {
				return b, d.Err("info takes a key and a value")
			}
			if _, dup := b.Info[key]; dup {
				return b, d.Errf("info key '%s' already specified", key)
			}
			if b.Info == nil {
				b.Info = make(map[string]string)
			}
			b.Info[key] = value
		case "file_lock":
			if d.NextArg() {
				return b, d.ArgErr()
			}
			b.FileLock = true
		default:
			return b, d.Errf("unrecognized bucket subdirective '%s'", d.Val())
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// oneArg reads exactly one argument on the current line.
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

// Interface guard
var _ caddyfile.Unmarshaler = (*Emulator)(nil)
