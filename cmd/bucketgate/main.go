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
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/bucketgate/bucketgate"
	_ "github.com/bucketgate/bucketgate/module/emulator"
)

func main() {
	caddycmd.Main()
}
