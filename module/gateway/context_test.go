package gateway

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/filestorage"
)

// testContext is a Caddy context as a loaded configuration gives handlers,
// with Caddy's storage on the file system in a directory of the test's own.
func testContext(tb testing.TB) (caddy.Context, context.CancelFunc) {
	tb.Helper()
	return testContextIn(tb, tb.TempDir())
}

// testContextIn is testContext with Caddy's storage in dir, which several
// contexts may share, as instances of a cluster do.
func testContextIn(tb testing.TB, storageDir string) (caddy.Context, context.CancelFunc) {
	tb.Helper()
	dir, err := json.Marshal(storageDir)
	if err != nil {
		tb.Fatal(err)
	}
	base, err := caddy.ProvisionContext(&caddy.Config{StorageRaw: json.RawMessage(`{"module":"file_system","root":` + string(dir) + `}`)})
	if err != nil {
		tb.Fatal(err)
	}
	return caddy.NewContext(base)
}
