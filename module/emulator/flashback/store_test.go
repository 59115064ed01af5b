package flashbackemulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func withStateFile(t *testing.T) (*Emulator, string) {
	t.Helper()
	e := testConfig()
	e.StateFile = filepath.Join(t.TempDir(), "state.json")
	return e, e.StateFile
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestStatePersistsAcrossInstances(t *testing.T) {
	cfg, path := withStateFile(t)
	e := start(t, cfg)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file written before any change: %v", err)
	}
	if a := call(t, e, http.MethodPut, "/bucket/"+bucketA, "tok-writer", `{"region":"eu-west-1","secret":"rotated-secret"}`); a.status != http.StatusOK {
		t.Fatalf("update: %d %s", a.status, a.raw)
	}
	created := call(t, e, http.MethodPost, "/bucket", "tok-admin",
		`{"name":"New","storageType":"GCS","bucket":"new-bucket","workspaceId":"`+wsOther+`","apiKeyUuid":"0f8fad5b-d9cb-469f-a165-70867728950e"}`)
	if created.status != http.StatusOK {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	if a := call(t, e, http.MethodDelete, "/bucket/"+bucketB, "tok-admin", ""); a.status != http.StatusOK {
		t.Fatalf("delete: %d %s", a.status, a.raw)
	}
	want := listed(t, e, "tok-admin", "")

	// The second instance's seed differs; the file must win.
	again := testConfig()
	again.StateFile = path
	again.Buckets = again.Buckets[1:]
	e2 := start(t, again)
	got := listed(t, e2, "tok-admin", "")
	if len(got) != len(want) {
		t.Fatalf("new instance lists %d buckets, want %d", len(got), len(want))
	}
	for id, b := range want {
		for _, k := range []string{"name", "region", "bucket", "storageType", "workspaceId", "createdAt", "key", "secret"} {
			if fmt.Sprint(got[id][k]) != fmt.Sprint(b[k]) {
				t.Errorf("bucket %s: %s = %v after reload, want %v", id, k, got[id][k], b[k])
			}
		}
	}
	if e2.store.buckets[bucketA].SecretSHA256 != digest("rotated-secret") {
		t.Error("the rotated secret's digest did not survive the reload")
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"rotated-secret", seedSecret} {
		if strings.Contains(string(data), secret) {
			t.Errorf("state file holds a secret in clear")
		}
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", info.Mode().Perm())
	}
	if names := dirEntries(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("directory holds %v, want only the state file", names)
	}
}

func TestStateWriteIsAtomic(t *testing.T) {
	cfg, path := withStateFile(t)
	e := start(t, cfg)
	if a := call(t, e, http.MethodPut, "/bucket/"+bucketA, "tok-writer", `{"name":"First"}`); a.status != http.StatusOK {
		t.Fatalf("update: %d %s", a.status, a.raw)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// Stop every write after the temporary file is complete, where a crash
	// would hurt most.
	var stopped []string
	rename = func(from, _ string) error {
		stopped = append(stopped, from)
		return errors.New("simulated crash")
	}
	t.Cleanup(func() { rename = os.Rename })

	for _, c := range []struct{ method, path, body string }{
		{http.MethodPut, "/bucket/" + bucketA, `{"name":"Second"}`},
		{http.MethodPost, "/bucket", `{"name":"n","storageType":"S3","bucket":"lost-bucket","workspaceId":"` + wsMain + `","key":"k","secret":"s"}`},
		{http.MethodDelete, "/bucket/" + bucketA, ""},
	} {
		a := call(t, e, c.method, c.path, "tok-writer", c.body)
		if a.status != http.StatusInternalServerError || !strings.HasPrefix(a.Message, "Failed to") {
			t.Errorf("%s %s with a failing write: %d %s, want 500", c.method, c.path, a.status, a.raw)
		}
	}
	if len(stopped) != 3 || filepath.Dir(stopped[0]) != filepath.Dir(path) {
		t.Fatalf("temporary files %v, want three beside the state file", stopped)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("a failed write changed the state file")
	}
	if names := dirEntries(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("a failed write left %v behind", names)
	}
	got := listed(t, e, "tok-admin", "")
	if len(got) != 2 || got[bucketA]["name"] != "First" {
		t.Errorf("memory moved ahead of the file: %v", got)
	}
}

func TestConcurrentUpdatesKeepFileAndMemoryAgreed(t *testing.T) {
	cfg, path := withStateFile(t)
	e := start(t, cfg)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			// Not call(): it may t.Fatal, which must not run off the test's goroutine.
			req := httptest.NewRequest(http.MethodPut, "/bucket/"+bucketA, strings.NewReader(fmt.Sprintf(`{"name":"writer %d"}`, i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer tok-writer")
			rec := httptest.NewRecorder()
			if err := e.ServeHTTP(rec, req, nil); err != nil || rec.Code != http.StatusOK {
				t.Errorf("update %d: %v %d %s", i, err, rec.Code, rec.Body)
			}
		})
	}
	wg.Wait()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("state file is not whole: %v", err)
	}
	var onDisk string
	for _, r := range doc.Buckets {
		if r.ID == bucketA {
			onDisk = r.Name
		}
	}
	if inMemory := e.store.buckets[bucketA].Name; onDisk != inMemory {
		t.Errorf("file says %q, memory %q", onDisk, inMemory)
	}
}

func TestBadStateFileFailsLoad(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"not JSON", `{"buckets":[`, "state_file"},
		{"unknown field", `{"buckets":[],"version":2}`, "unknown field"},
		{"undeclared workspace", `{"buckets":[{"id":"` + bucketA + `","workspaceId":"gone"}]}`, `workspace "gone" is not declared`},
		{"bad id", `{"buckets":[{"id":"1","workspaceId":"` + wsMain + `"}]}`, "not a lowercase UUID"},
		{"duplicate id", `{"buckets":[{"id":"` + bucketA + `","workspaceId":"` + wsMain + `"},{"id":"` + bucketA + `","workspaceId":"` + wsMain + `"}]}`, "appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, path := withStateFile(t)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			err := e.Provision(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Provision = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
