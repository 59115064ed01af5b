// Package emulator registers both storage API emulators, for the demo and for
// tests: http.handlers.b2_emulator (an in-memory Backblaze B2 account service)
// and http.handlers.flashback_emulator (an in-memory Flashback backend). Build
// them in with one more xcaddy argument:
//
//	xcaddy build --with github.com/bucketgate/bucketgate \
//		--with github.com/bucketgate/bucketgate/module/emulator
//
// The emulators import nothing from the gateway's side, so that they judge
// what it sends as the real services would.
package emulator

import (
	_ "github.com/bucketgate/bucketgate/module/emulator/b2"
	_ "github.com/bucketgate/bucketgate/module/emulator/flashback"
)
