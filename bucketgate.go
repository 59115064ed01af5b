// Package bucketgate registers the bucketgate gateway, http.handlers.bucketgate
// (Caddyfile directive bucketgate), and its admin API endpoints,
// admin.api.bucketgate (GET /bucketgate/status and GET /bucketgate/audit).
// It is what `xcaddy build --with github.com/bucketgate/bucketgate`
// compiles in.
//
// The emulators, in-memory stand-ins for the storage APIs used by the demo
// and the tests, are not part of it: they are one more, opt-in import,
// github.com/bucketgate/bucketgate/module/emulator, so that a production
// binary holds no fake storage service.
package bucketgate

import (
	_ "github.com/bucketgate/bucketgate/module/gateway"
)

// Version is this release of bucketgate, the one CHANGELOG.md describes.
// The binary built from cmd/bucketgate reports it first in `bucketgate
// version`; a binary built with xcaddy reports the module version Go
// recorded, in `caddy list-modules --versions`.
const Version = "0.1.0"
