package emulator

import (
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestRegistersBothEmulators(t *testing.T) {
	for _, id := range []string{"http.handlers.b2_emulator", "http.handlers.flashback_emulator"} {
		if _, err := caddy.GetModule(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
