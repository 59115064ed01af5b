package b2emulator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func withStateFile(path string) func(*Emulator) {
	return func(h *Emulator) { h.StateFile = path }
}

func TestStatePersistsAcrossInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	h := newEmulator(t, withStateFile(path))
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("provisioning wrote the state file: %v", err)
	}
	tok := login(t, h, "master-id", "master-secret")
	alpha := bucketID(t, h, "alpha-bucket")
	beta := bucketID(t, h, "beta-bucket")

	wantOK(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+alpha+`","bucketInfo":{"saved":"yes"},"ifRevisionIs":1,
		"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"},"lifecycleRules":[{"fileNamePrefix":"a/","daysFromHidingToDeleting":2}]}`))
	created := wantOK(t, post(h, tok, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"made-at-runtime","bucketType":"allPublic"}`))
	wantOK(t, post(h, tok, "/b2api/v3/b2_delete_bucket", `{"accountId":"acct-one","bucketId":"`+beta+`"}`))
	before := listBuckets(t, h, tok, "/b2api/v3/b2_list_buckets", `{"accountId":"acct-one","bucketTypes":["all"]}`)

	// A new instance with the same seed loads the file instead of the seed.
	h2 := newEmulator(t, withStateFile(path))
	tok2 := login(t, h2, "master-id", "master-secret")
	after := listBuckets(t, h2, tok2, "/b2api/v3/b2_list_buckets", `{"accountId":"acct-one","bucketTypes":["all"]}`)
	if jsonOf(t, after) != jsonOf(t, before) {
		t.Fatalf("reloaded buckets differ:\n%s\n%s", jsonOf(t, before), jsonOf(t, after))
	}
	got := names(after)
	if strings.Contains(strings.Join(got, ","), "beta-bucket") || !strings.Contains(strings.Join(got, ","), "made-at-runtime") {
		t.Errorf("reloaded names %v: the deleted seed bucket must stay deleted and the created one must exist", got)
	}
	if b := getBucket(t, h2, tok2, alpha); b["revision"] != float64(2) {
		t.Errorf("reloaded revision %v, want 2", b["revision"])
	}
	// The reloaded state carries on: revisions continue, and the stale
	// precondition still fails.
	wantError(t, post(h2, tok2, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+alpha+`","ifRevisionIs":1}`), 409, "conflict", "")
	wantOK(t, post(h2, tok2, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+created["bucketId"].(string)+`","ifRevisionIs":1,"bucketType":"allPrivate"}`))
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestStateFileWriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	h := newEmulator(t, withStateFile(path))
	tok := login(t, h, "master-id", "master-secret")
	alpha := bucketID(t, h, "alpha-bucket")
	update := `{"bucketId":"` + alpha + `","bucketType":"allPublic"}`

	wantOK(t, post(h, tok, "/b2api/v3/b2_update_bucket", update))
	first := inode(t, path)
	wantOK(t, post(h, tok, "/b2api/v3/b2_update_bucket", update))
	// A new inode means the file was replaced by a rename, not rewritten in
	// place where a crash could leave it half-written.
	if inode(t, path) == first {
		t.Error("the state file was rewritten in place")
	}
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// Fail the final rename: the old file must survive untouched, no
	// temporary file may remain, and the change must not stick in memory.
	rename = func(string, string) error { return errors.New("disk on fire") }
	defer func() { rename = os.Rename }()
	wantError(t, post(h, tok, "/b2api/v3/b2_update_bucket", update), 500, "internal_error", "")
	wantError(t, post(h, tok, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"never-saved","bucketType":"allPrivate"}`), 500, "internal_error", "")
	wantError(t, post(h, tok, "/b2api/v3/b2_delete_bucket", `{"accountId":"acct-one","bucketId":"`+alpha+`"}`), 500, "internal_error", "")
	rename = os.Rename

	if now, _ := os.ReadFile(path); string(now) != string(saved) {
		t.Errorf("a failed write changed the state file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the state file", len(entries))
	}
	if b := getBucket(t, h, tok, alpha); b["revision"] != float64(3) {
		t.Errorf("revision %v after failed saves, want 3", b["revision"])
	}
	if bs := listBuckets(t, h, tok, "/b2api/v3/b2_list_buckets", `{"accountId":"acct-one","bucketName":"never-saved"}`); len(bs) != 0 {
		t.Errorf("unsaved bucket exists: %v", bs)
	}
	wantOK(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+alpha+`","ifRevisionIs":3}`))
}

func TestStateFileLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content, msg string
	}{
		{"not JSON", `{"buckets":`, "state_file"},
		{"unknown field", `{"buckets":[],"tokens":[]}`, "tokens"},
		{"unknown account", `{"buckets":[{"accountId":"nobody","bucketId":"b1","bucketName":"some-bucket","bucketType":"allPrivate","revision":1}]}`, `account "nobody"`},
		{"duplicate id", `{"buckets":[{"accountId":"acct-one","bucketId":"b1","bucketName":"some-bucket","revision":1},{"accountId":"acct-one","bucketId":"b1","bucketName":"other-bucket","revision":1}]}`, "more than once"},
		{"duplicate name", `{"buckets":[{"accountId":"acct-one","bucketId":"b1","bucketName":"some-bucket","revision":1},{"accountId":"acct-two","bucketId":"b2","bucketName":"Some-Bucket","revision":1}]}`, "more than once"},
		{"no revision", `{"buckets":[{"accountId":"acct-one","bucketId":"b1","bucketName":"some-bucket"}]}`, "revision"},
		{"retention without period", `{"buckets":[{"accountId":"acct-one","bucketId":"b1","bucketName":"some-bucket","revision":1,"defaultRetention":{"mode":"governance"}}]}`, "period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			h := &Emulator{Accounts: testAccounts(), StateFile: path}
			err := provision(t, h)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one mentioning %q", err, tc.msg)
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		h := &Emulator{Accounts: testAccounts(), StateFile: filepath.Join(t.TempDir(), "nope", "state.json")}
		if err := provision(t, h); err == nil || !strings.Contains(err.Error(), "directory") {
			t.Errorf("error %v", err)
		}
	})
}
