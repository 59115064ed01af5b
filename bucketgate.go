// Package bucketgate registers every bucketgate Caddy module. It is what
// `xcaddy build --with github.com/bucketgate/bucketgate` compiles in:
//
//   - http.handlers.bucketgate: the gateway (Caddyfile directive bucketgate)
//   - http.handlers.b2_emulator: an in-memory Backblaze B2 account service
//   - http.handlers.flashback_emulator: an in-memory Flashback backend
package bucketgate

import (
	_ "github.com/bucketgate/bucketgate/module/emulator/b2"
	_ "github.com/bucketgate/bucketgate/module/emulator/flashback"
	_ "github.com/bucketgate/bucketgate/module/gateway"
)
