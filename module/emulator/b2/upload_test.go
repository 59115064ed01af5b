package b2emulator

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// equalJSON compares values as their JSON.
func equalJSON(got, want any) bool {
	a, errA := json.Marshal(got)
	b, errB := json.Marshal(want)
	return errA == nil && errB == nil && string(a) == string(b)
}

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// getUploadURL asks for an upload URL as tok and returns its path and its
// upload authorization token.
func getUploadURL(t *testing.T, h *Emulator, tok, bucket string) (string, string) {
	t.Helper()
	m := wantOK(t, post(h, tok, "/b2api/v2/b2_get_upload_url", `{"bucketId":"`+bucketID(t, h, bucket)+`"}`))
	u, err := url.Parse(m["uploadUrl"].(string))
	if err != nil || m["bucketId"] != bucketID(t, h, bucket) {
		t.Fatalf("b2_get_upload_url answered %v", m)
	}
	return u.Path, m["authorizationToken"].(string)
}

// uploadRequest is an upload with the headers B2 requires, each of which
// headers (name, value pairs) replaces; an empty value removes it.
func uploadRequest(path, token, name, body string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Authorization", token)
	r.Header.Set("X-Bz-File-Name", url.QueryEscape(name))
	r.Header.Set("Content-Type", "text/plain")
	r.Header.Set("X-Bz-Content-Sha1", sha1Hex(body))
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			r.Header.Del(headers[i])
		} else {
			r.Header.Set(headers[i], headers[i+1])
		}
	}
	return r
}

// uploadAs uploads content as name into bucket with the key's token, and
// returns B2's answer.
func uploadAs(t *testing.T, h *Emulator, tok, bucket, name, content string, headers ...string) map[string]any {
	t.Helper()
	path, token := getUploadURL(t, h, tok, bucket)
	return wantOK(t, serve(h, uploadRequest(path, token, name, content, headers...)))
}

func uploadFile(t *testing.T, h *Emulator, bucket, name, content string, headers ...string) map[string]any {
	t.Helper()
	return uploadAs(t, h, login(t, h, "master-id", "master-secret"), bucket, name, content, headers...)
}

func TestUploadHeaders(t *testing.T) {
	h := newEmulator(t)
	master := login(t, h, "master-id", "master-secret")
	path, token := getUploadURL(t, h, master, "alpha-bucket")
	lockedPath, lockedToken := getUploadURL(t, h, master, "locked-bucket")
	longInfo := strings.Repeat("v", 7000)
	manyInfo := []string{}
	for i := range 11 {
		manyInfo = append(manyInfo, "X-Bz-Info-k"+strconv.Itoa(i), "v")
	}
	for _, tc := range []struct {
		name    string
		file    string
		body    string
		headers []string
		locked  bool
		status  int
		code    string
		msg     string
		want    map[string]any // fields of the answer
	}{
		{name: "plain", file: "docs/a b.txt", body: "hello",
			want: map[string]any{"fileName": "docs/a b.txt", "contentLength": float64(5), "contentSha1": sha1Hex("hello"), "contentMd5": "5d41402abc4b2a76b9719d911017c592", "contentType": "text/plain", "action": "upload"}},
		{name: "plus is a space, %2B a plus", file: "x", headers: []string{"X-Bz-File-Name", "a+b%2Bc"}, want: map[string]any{"fileName": "a b+c"}},
		{name: "upper-case SHA-1 is stored lower-case", file: "u", body: "hello", headers: []string{"X-Bz-Content-Sha1", strings.ToUpper(sha1Hex("hello"))}, want: map[string]any{"contentSha1": sha1Hex("hello")}},
		{name: "SHA-1 mismatch", file: "m", body: "hello", headers: []string{"X-Bz-Content-Sha1", sha1Hex("hullo")}, status: 400, code: "bad_request", msg: "Checksum did not match data received"},
		{name: "SHA-1 at the end", file: "e", body: "hello" + sha1Hex("hello"), headers: []string{"X-Bz-Content-Sha1", "hex_digits_at_end"}, want: map[string]any{"contentLength": float64(5), "contentSha1": sha1Hex("hello")}},
		{name: "wrong SHA-1 at the end", file: "e", body: "hello" + sha1Hex("hullo"), headers: []string{"X-Bz-Content-Sha1", "hex_digits_at_end"}, status: 400, code: "bad_request", msg: "Checksum did not match"},
		{name: "SHA-1 at the end of too short a body", file: "e", body: "short", headers: []string{"X-Bz-Content-Sha1", "hex_digits_at_end"}, status: 400, code: "bad_request", msg: "must count the 40 hex digits"},
		{name: "do_not_verify", file: "d", body: "hello", headers: []string{"X-Bz-Content-Sha1", "do_not_verify"}, want: map[string]any{"contentSha1": "unverified:" + sha1Hex("hello")}},
		{name: "no SHA-1", file: "n", headers: []string{"X-Bz-Content-Sha1", ""}, status: 400, code: "bad_request", msg: "X-Bz-Content-Sha1 must be"},
		{name: "short SHA-1", file: "n", headers: []string{"X-Bz-Content-Sha1", "abc"}, status: 400, code: "bad_request", msg: "X-Bz-Content-Sha1 must be"},
		{name: "no file name", headers: []string{"X-Bz-File-Name", ""}, status: 400, code: "bad_request", msg: "X-Bz-File-Name is required"},
		{name: "bad percent-encoding", headers: []string{"X-Bz-File-Name", "a%zz"}, status: 400, code: "bad_request", msg: "not valid percent-encoding"},
		{name: "control character", headers: []string{"X-Bz-File-Name", "a%0Ab"}, status: 400, code: "bad_request", msg: "below 32"},
		{name: "DEL", headers: []string{"X-Bz-File-Name", "a%7Fb"}, status: 400, code: "bad_request", msg: "DEL"},
		{name: "not UTF-8", headers: []string{"X-Bz-File-Name", "a%FFb"}, status: 400, code: "bad_request", msg: "UTF-8"},
		{name: "1024 bytes", file: strings.Repeat("n", 1024), want: map[string]any{"fileName": strings.Repeat("n", 1024)}},
		{name: "1025 bytes", file: strings.Repeat("n", 1025), status: 400, code: "bad_request", msg: "no more than 1024 bytes"},
		{name: "no Content-Type", file: "c", headers: []string{"Content-Type", ""}, status: 400, code: "bad_request", msg: "Content-Type is required"},
		{name: "b2/x-auto", file: "photo.JPG", headers: []string{"Content-Type", "b2/x-auto"}, want: map[string]any{"contentType": "image/jpeg"}},
		{name: "b2/x-auto, unknown extension", file: "archive.xyz", headers: []string{"Content-Type", "b2/x-auto"}, want: map[string]any{"contentType": "application/octet-stream"}},
		{name: "b2/x-auto, no extension", file: "README", headers: []string{"Content-Type", "b2/x-auto"}, want: map[string]any{"contentType": "application/octet-stream"}},
		{name: "file info, names lower-cased, values decoded", file: "i",
			headers: []string{"X-Bz-Info-Src_last_modified_millis", "1637248673875", "X-Bz-Info-Color", "blue%20green", "X-Bz-Info-b2-content-disposition", "attachment"},
			want:    map[string]any{"fileInfo": map[string]any{"src_last_modified_millis": "1637248673875", "color": "blue green", "b2-content-disposition": "attachment"}}},
		{name: "b2-expires, an HTTP date", file: "i", headers: []string{"X-Bz-Info-b2-expires", "Sun,%2006%20Nov%201994%2008:49:37%20GMT"},
			want: map[string]any{"fileInfo": map[string]any{"b2-expires": "Sun, 06 Nov 1994 08:49:37 GMT"}}},
		{name: "b2-expires, not a date", file: "i", headers: []string{"X-Bz-Info-b2-expires", "tomorrow"}, status: 400, code: "bad_request", msg: "must be an HTTP date"},
		{name: "b2- info with a newline", file: "i", headers: []string{"X-Bz-Info-b2-content-disposition", "attachment%0Ax"}, status: 400, code: "bad_request", msg: "control character"},
		{name: "other info may hold a newline", file: "i", headers: []string{"X-Bz-Info-note", "two%0Alines"}, want: map[string]any{"fileInfo": map[string]any{"note": "two\nlines"}}},
		{name: "unknown b2- info", file: "i", headers: []string{"X-Bz-Info-b2-colour", "x"}, status: 400, code: "bad_request", msg: "not one of the b2- file info names"},
		{name: "info name with a bad character", file: "i", headers: []string{"X-Bz-Info-a@b", "x"}, status: 400, code: "bad_request", msg: "file info names are letters"},
		{name: "info name of 51 bytes", file: "i", headers: []string{"X-Bz-Info-" + strings.Repeat("k", 51), "x"}, status: 400, code: "bad_request", msg: "at most 50 bytes"},
		{name: "info value badly encoded", file: "i", headers: []string{"X-Bz-Info-k", "%g0"}, status: 400, code: "bad_request", msg: "X-Bz-Info-K is not valid percent-encoding"},
		{name: "11 info headers", file: "i", headers: manyInfo, status: 400, code: "bad_request", msg: "at most 10 X-Bz-Info-*"},
		{name: "name and info past 7000 bytes", file: "i", headers: []string{"X-Bz-Info-k", longInfo}, status: 400, code: "bad_request", msg: "more than the 7000 allowed"},
		{name: "SSE-B2 asked for", file: "s", headers: []string{"X-Bz-Server-Side-Encryption", "AES256"}, want: map[string]any{"serverSideEncryption": map[string]any{"algorithm": "AES256", "mode": "SSE-B2"}}},
		{name: "SSE with another algorithm", file: "s", headers: []string{"X-Bz-Server-Side-Encryption", "aws:kms"}, status: 400, code: "bad_request", msg: "must be AES256"},
		{name: "SSE-C", file: "s", headers: []string{"X-Bz-Server-Side-Encryption-Customer-Algorithm", "AES256"}, status: 400, code: "bad_request", msg: "SSE-C"},
		{name: "custom upload timestamp", file: "t", headers: []string{"X-Bz-Custom-Upload-Timestamp", "1"}, status: 400, code: "custom_timestamp_not_allowed", msg: "not enabled"},
		{name: "legal hold without file lock", file: "l", headers: []string{"X-Bz-File-Legal-Hold", "on"}, status: 400, code: "bucket_missing_file_lock", msg: "not file lock enabled"},
		{name: "legal hold with file lock", file: "l", locked: true, headers: []string{"X-Bz-File-Legal-Hold", "on"}, status: 400, code: "bad_request", msg: "not modelled"},
		{name: "retention with file lock", file: "l", locked: true, headers: []string{"X-Bz-File-Retention-Mode", "governance"}, status: 400, code: "bad_request", msg: "not modelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, tok := path, token
			if tc.locked {
				p, tok = lockedPath, lockedToken
			}
			rec := serve(h, uploadRequest(p, tok, tc.file, tc.body, tc.headers...))
			if tc.status != 0 {
				wantError(t, rec, tc.status, tc.code, tc.msg)
				return
			}
			m := wantOK(t, rec)
			for k, want := range tc.want {
				if got := m[k]; !equalJSON(got, want) {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
		})
	}
}

func TestUploadBody(t *testing.T) {
	h := newEmulator(t)
	path, token := getUploadURL(t, h, login(t, h, "master-id", "master-secret"), "alpha-bucket")
	t.Run("chunked", func(t *testing.T) {
		r := uploadRequest(path, token, "c", "hello")
		r.ContentLength = -1
		wantError(t, serve(h, r), 400, "bad_request", "Content-Length is required")
	})
	t.Run("body shorter than Content-Length", func(t *testing.T) {
		r := uploadRequest(path, token, "c", "hello")
		r.ContentLength = 10
		wantError(t, serve(h, r), 400, "bad_request", "ended before Content-Length")
	})
	t.Run("empty file", func(t *testing.T) {
		if m := wantOK(t, serve(h, uploadRequest(path, token, "empty", ""))); m["contentLength"] != float64(0) || m["contentSha1"] != emptySHA1 {
			t.Errorf("empty file: %v", m)
		}
	})
	if h.storage.bytes != 0 || h.storage.versions != 1 {
		t.Errorf("after refused uploads and one empty file: %d bytes, %d versions held", h.storage.bytes, h.storage.versions)
	}
}

func TestUploadAuthorization(t *testing.T) {
	var clock testClock
	h := newEmulator(t, withClock(&clock))
	master := login(t, h, "master-id", "master-secret")
	files := login(t, h, "files-id", "files-secret")
	path, token := getUploadURL(t, h, master, "alpha-bucket")
	filesPath, filesToken := getUploadURL(t, h, files, "alpha-bucket")
	otherPath, _ := getUploadURL(t, h, master, "alpha-bucket")
	emptyPath, emptyToken := getUploadURL(t, h, master, "beta-bucket")
	wantOK(t, post(h, master, "/b2api/v2/b2_delete_bucket", `{"accountId":"acct-one","bucketId":"`+bucketID(t, h, "beta-bucket")+`"}`))

	for _, tc := range []struct {
		name        string
		path, token string
		file        string
		status      int
		code, msg   string
	}{
		{"no token", path, "", "f", 401, "missing_auth_token", "Authorization header"},
		{"the account token", path, master, "f", 401, "bad_auth_token", "not valid"},
		{"the token of another upload URL", otherPath, token, "f", 401, "bad_auth_token", "another upload URL"},
		{"a name outside the key's prefix", filesPath, filesToken, "docs/f", 401, "unauthorized", `starting with "photos/"`},
		{"a deleted bucket", emptyPath, emptyToken, "f", 400, "bad_bucket_id", "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, serve(h, uploadRequest(tc.path, tc.token, tc.file, "x")), tc.status, tc.code, tc.msg)
		})
	}
	wantOK(t, serve(h, uploadRequest(filesPath, filesToken, "photos/f", "x")))

	clock.advance(tokenLifetime)
	wantError(t, serve(h, uploadRequest(path, token, "late", "x")), 401, "expired_auth_token", "expired")
}

func TestGetUploadURL(t *testing.T) {
	h := newEmulator(t)
	master := login(t, h, "master-id", "master-secret")
	for _, tc := range []struct {
		name, key, body string
		status          int
		code, msg       string
	}{
		{"no writeFiles", "lister-id", `{"bucketId":"` + bucketID(t, h, "alpha-bucket") + `"}`, 401, "unauthorized", "writeFiles"},
		{"another bucket than the key's", "files-id", `{"bucketId":"` + bucketID(t, h, "beta-bucket") + `"}`, 401, "unauthorized", "restricted to bucket"},
		{"unknown bucket", "master-id", `{"bucketId":"000000000000000000000000"}`, 400, "bad_bucket_id", "does not exist"},
		{"another account's bucket", "master-id", `{"bucketId":"` + bucketID(t, h, "gamma-bucket") + `"}`, 400, "bad_bucket_id", "does not exist"},
		{"snapshot bucket", "master-id", `{"bucketId":"` + bucketID(t, h, "snap-bucket") + `"}`, 400, "bad_request", "Snapshot buckets are reserved"},
		{"no bucketId", "master-id", `{}`, 400, "bad_request", "bucketId is required"},
		{"unknown field", "master-id", `{"bucketId":"x","bucketName":"y"}`, 400, "bad_request", "unknown field bucketName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := master
			if tc.key != "master-id" {
				tok = login(t, h, tc.key, strings.TrimSuffix(tc.key, "-id")+"-secret")
			}
			wantError(t, post(h, tok, "/b2api/v2/b2_get_upload_url", tc.body), tc.status, tc.code, tc.msg)
		})
	}
	t.Run("GET, on the version asked", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://b2.test/b2api/v3/b2_get_upload_url?bucketId="+bucketID(t, h, "alpha-bucket"), nil)
		r.Header.Set("Authorization", master)
		m := wantOK(t, serve(h, r))
		if u := m["uploadUrl"].(string); !strings.HasPrefix(u, "http://b2.test/b2api/v3/b2_upload_file/"+bucketID(t, h, "alpha-bucket")+"/") {
			t.Errorf("uploadUrl %s", u)
		}
		if m["authorizationToken"] == master {
			t.Error("the upload token is the account token")
		}
	})
}

func TestStorageLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    func(*Emulator)
		sizes  []int
		refuse int // index of the first refused upload
		msg    string
	}{
		{"bytes", func(h *Emulator) { h.StorageCap = 10 }, []int{4, 6, 1}, 2, "at most 10 bytes"},
		{"one upload past the cap", func(h *Emulator) { h.StorageCap = 10 }, []int{11}, 0, "at most 10 bytes"},
		{"versions", func(h *Emulator) { h.MaxFileVersions = 2 }, []int{0, 0, 0}, 2, "at most 2 file versions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newEmulator(t, tc.set)
			path, token := getUploadURL(t, h, login(t, h, "master-id", "master-secret"), "alpha-bucket")
			var ids []string
			for i, size := range tc.sizes {
				rec := serve(h, uploadRequest(path, token, "f"+strconv.Itoa(i), strings.Repeat("x", size)))
				if i == tc.refuse {
					wantError(t, rec, 403, "storage_cap_exceeded", tc.msg)
					break
				}
				ids = append(ids, wantOK(t, rec)["fileId"].(string))
			}
			if len(ids) == 0 {
				return
			}
			// Deleting a version frees its room.
			master := login(t, h, "master-id", "master-secret")
			wantOK(t, post(h, master, "/b2api/v2/b2_delete_file_version", `{"fileName":"f0","fileId":"`+ids[0]+`"}`))
			wantOK(t, serve(h, uploadRequest(path, token, "again", strings.Repeat("x", tc.sizes[0]))))
		})
	}
}
