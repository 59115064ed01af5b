package bucketgate

import (
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// A binary built with only this package (xcaddy --with
// github.com/bucketgate/bucketgate) has the gateway and no emulator.
func TestGatewayOnly(t *testing.T) {
	if _, err := caddy.GetModule("http.handlers.bucketgate"); err != nil {
		t.Fatalf("gateway not registered: %v", err)
	}
	for _, id := range []string{"http.handlers.b2_emulator", "http.handlers.flashback_emulator"} {
		if _, err := caddy.GetModule(id); err == nil {
			t.Errorf("%s is registered by the gateway package; emulators must be opt-in", id)
		}
	}
}
