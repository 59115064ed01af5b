// Package bucketgate registers every bucketgate Caddy module. It is what
// `xcaddy build --with github.com/bucketgate/bucketgate` compiles in:
//
//   - http.handlers.bucketgate: the gateway (Caddyfile directive bucketgate)
//   - http.handlers.flashback_emulator: an in-memory Flashback backend
package bucketgate

import (
	_ "github.com/bucketgate/bucketgate/module/emulator/flashback"
	_ "github.com/bucketgate/bucketgate/module/gateway"
)
