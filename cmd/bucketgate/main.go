// Command bucketgate is Caddy with its standard modules, the bucketgate
// gateway and the emulators: the binary
//
//	xcaddy build --with github.com/bucketgate/bucketgate \
//		--with github.com/bucketgate/bucketgate/module/emulator
//
// produces, built here with plain `go build ./cmd/bucketgate`. The emulators
// are in it because the demo Caddyfile runs on them.
package main

import (
	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/bucketgate/bucketgate"
	_ "github.com/bucketgate/bucketgate/module/emulator"
)

func init() {
	// `bucketgate version` then reads "bucketgate v0.1.0 on Caddy v2.x.y
	// h1:…": which gateway, and which Caddy it runs on.
	caddy.CustomVersion = "bucketgate v" + bucketgate.Version + " on Caddy"
}

func main() {
	caddycmd.Main()
}
