// Command bucketgate is Caddy with its standard modules and the bucketgate
// modules: the binary `xcaddy build --with github.com/bucketgate/bucketgate`
// produces, built here with plain `go build ./cmd/bucketgate`.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/bucketgate/bucketgate"
)

func main() {
	caddycmd.Main()
}
