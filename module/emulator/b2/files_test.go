package b2emulator

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFileIDs(t *testing.T) {
	at := time.Date(2014, 1, 4, 3, 20, 22, 0, time.UTC)
	id := newFileID("b330e285948b7a6d4b1b0712", 0x472a, at)
	if id != "4_zb330e285948b7a6d4b1b0712_f000000000000472a_d20140104_m032022" {
		t.Errorf("id %s", id)
	}
	if len(id) > 200 {
		t.Errorf("B2 file ids are at most 200 characters; %s is %d", id, len(id))
	}
	for _, tc := range []struct {
		id     string
		bucket string
		seq    uint64
		ok     bool
	}{
		{id, "b330e285948b7a6d4b1b0712", 0x472a, true},
		{"4_zb330e285948b7a6d4b1b0712_f000000000000472a_d20140104_m032022_c001", "", 0, false},
		{"4_zB330e285948b7a6d4b1b0712_f000000000000472a_d20140104_m032022", "", 0, false},
		{"4_zb330e285948b7a6d4b1b0712_f00000000000047zz_d20140104_m032022", "", 0, false},
		{"4_zb330e285948b7a6d4b1b0712_g000000000000472a_d20140104_m032022", "", 0, false},
		// Real B2 ids have the same shape but other fields: they are not
		// this emulator's and name no file of it.
		{"4_zb330e285948b7a6d4b1b0712_f000000000000472a_d20140104_m032022_c001_v0000123_t0104", "", 0, false},
		{"", "", 0, false},
	} {
		bucket, seq, ok := parseFileID(tc.id)
		if bucket != tc.bucket || seq != tc.seq || ok != tc.ok {
			t.Errorf("parseFileID(%q) = %q, %x, %v", tc.id, bucket, seq, ok)
		}
	}
}

func TestFileNameProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string // "" when valid
	}{
		{"Kitten Videos", ""},
		{"users/beatrice/kitten.jpg", ""},
		{"自由.txt", ""},
		{"/leading/and/trailing/", ""}, // today's rules have no slash rules
		{strings.Repeat("é", 512), ""},
		{"", "at least one character"},
		{strings.Repeat("é", 512) + "x", "no more than 1024 bytes"},
		{"tab\there", "below 32"},
		{"del\x7f", "DEL"},
		{"bad\xffutf8", "valid UTF-8"},
	} {
		aerr := fileNameProblem(tc.name)
		switch {
		case tc.msg == "" && aerr != nil:
			t.Errorf("%q refused: %s", tc.name, aerr.message)
		case tc.msg != "" && (aerr == nil || aerr.code != "bad_request" || !strings.Contains(aerr.message, tc.msg)):
			t.Errorf("%q: %v, want bad_request %q", tc.name, aerr, tc.msg)
		}
	}
}

func TestFolderOf(t *testing.T) {
	for _, tc := range []struct{ name, prefix, delimiter, want string }{
		{"photos/cats/a.jpg", "photos/", "/", "photos/cats/"},
		{"photos/a.jpg", "photos/", "/", ""},
		{"photos/a.jpg", "", "/", "photos/"},
		{"photos/a.jpg", "", "", ""},
		{"a--b--c", "a--", "--", "a--b--"},
		{"photos/cats/a.jpg", "photos/c", "/", "photos/cats/"},
	} {
		if got := folderOf(tc.name, tc.prefix, tc.delimiter); got != tc.want {
			t.Errorf("folderOf(%q, %q, %q) = %q, want %q", tc.name, tc.prefix, tc.delimiter, got, tc.want)
		}
	}
}

// Uploads racing for the last of the storage cap never take more than it.
func TestStorageCapUnderConcurrency(t *testing.T) {
	h := newEmulator(t, func(h *Emulator) { h.StorageCap = 10 })
	path, token := getUploadURL(t, h, login(t, h, "master-id", "master-secret"), "alpha-bucket")
	var wg sync.WaitGroup
	codes := make([]int, 30)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = serve(h, uploadRequest(path, token, "f"+strconv.Itoa(i), "x")).Code
		}()
	}
	wg.Wait()
	stored, refused := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			stored++
		case http.StatusForbidden:
			refused++
		}
	}
	if stored != 10 || refused != 20 || h.storage.bytes != 10 {
		t.Errorf("%d stored, %d refused, %d bytes held; want 10, 20, 10", stored, refused, h.storage.bytes)
	}
	if n := len(listAll(t, h, "alpha-bucket")); n != 10 {
		t.Errorf("%d versions listed, want 10", n)
	}
}
