package b2emulator

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// authorized is a request carrying token in Authorization, if any.
func authorized(method, target, token string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	if token != "" {
		r.Header.Set("Authorization", token)
	}
	return r
}

func TestByteRange(t *testing.T) {
	for _, tc := range []struct {
		header     string
		size       int64
		start, end int64
		status     int
	}{
		{"", 10, 0, 10, 200},
		{"bytes=0-4", 10, 0, 5, 206},
		{"bytes=5-", 10, 5, 10, 206},
		{"bytes=5-100", 10, 5, 10, 206},
		{"bytes=-3", 10, 7, 10, 206},
		{"bytes=9-9", 10, 9, 10, 206},
		{" bytes=1-2", 10, 0, 10, 200},
		// A range that encloses the whole file is the whole file.
		{"bytes=0-", 10, 0, 10, 200},
		{"bytes=0-9", 10, 0, 10, 200},
		{"bytes=0-100", 10, 0, 10, 200},
		{"bytes=-30", 10, 0, 10, 200},
		{"bytes=0-", 0, 0, 0, 200},
		// Past the end.
		{"bytes=10-", 10, 0, 0, 416},
		{"bytes=10-20", 10, 0, 0, 416},
		{"bytes=1-", 0, 0, 0, 416},
		// Unreadable, or several ranges: the whole file.
		{"bytes=-0", 10, 0, 10, 200},
		{"bytes=4-2", 10, 0, 10, 200},
		{"bytes=0-1,3-4", 10, 0, 10, 200},
		{"items=0-1", 10, 0, 10, 200},
		{"bytes=a-b", 10, 0, 10, 200},
		{"bytes=5", 10, 0, 10, 200},
		{"bytes=-x", 10, 0, 10, 200},
	} {
		start, end, status := byteRange(tc.header, tc.size)
		if status != tc.status || (status != 416 && (start != tc.start || end != tc.end)) {
			t.Errorf("byteRange(%q, %d) = %d, %d, %d; want %d, %d, %d", tc.header, tc.size, start, end, status, tc.start, tc.end, tc.status)
		}
	}
}

func FuzzByteRange(f *testing.F) {
	for _, s := range []string{"bytes=0-4", "bytes=-3", "bytes=5-", "bytes=0-1,2-3", "bytes=-0"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			return
		}
		start, end, status := byteRange(header, size)
		if status != http.StatusRequestedRangeNotSatisfiable && (start < 0 || end > size || start > end) {
			t.Fatalf("byteRange(%q, %d) = [%d, %d) with %d", header, size, start, end, status)
		}
	})
}

func TestDownloadHeaders(t *testing.T) {
	h := newEmulator(t)
	master := login(t, h, "master-id", "master-secret")
	alpha := bucketID(t, h, "alpha-bucket")
	wantOK(t, post(h, master, "/b2api/v2/b2_update_bucket", `{"bucketId":"`+alpha+`","bucketInfo":{"Cache-Control":"max-age=600"},"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"}}`))
	plain := uploadFile(t, h, "alpha-bucket", "a b/c+d.txt", "0123456789", "X-Bz-Info-Color", "blue%20green")
	special := uploadFile(t, h, "alpha-bucket", "special", "s", "X-Bz-Info-b2-content-disposition", "attachment", "X-Bz-Info-b2-cache-control", "no-store")
	if !equalJSON(plain["serverSideEncryption"], sseB2) {
		t.Errorf("the bucket default SSE-B2 did not apply: %v", plain["serverSideEncryption"])
	}

	for _, tc := range []struct {
		name    string
		method  string
		target  string
		headers []string // request headers, name value pairs
		status  int
		body    string
		want    map[string]string // response headers; "" means absent
	}{
		{name: "by name, %20 and %2B", method: "GET", target: "/file/alpha-bucket/a%20b/c%2Bd.txt", status: 200, body: "0123456789",
			want: map[string]string{"Content-Type": "text/plain", "Content-Length": "10", "X-Bz-File-Id": plain["fileId"].(string), "X-Bz-File-Name": "a+b/c%2Bd.txt",
				"X-Bz-Content-Sha1": sha1Hex("0123456789"), "X-Bz-Upload-Timestamp": strconv.FormatInt(int64(plain["uploadTimestamp"].(float64)), 10),
				"X-Bz-Info-Color": "blue+green", "Cache-Control": "max-age=600", "Accept-Ranges": "bytes", "X-Bz-Server-Side-Encryption": "AES256"}},
		{name: "by name, + for the space, bucket name in other case", method: "GET", target: "/file/ALPHA-bucket/a+b/c%2Bd.txt", status: 200, body: "0123456789"},
		{name: "HEAD", method: "HEAD", target: "/file/alpha-bucket/a%20b/c%2Bd.txt", status: 200, body: "", want: map[string]string{"Content-Length": "10"}},
		{name: "range", method: "GET", target: "/file/alpha-bucket/a%20b/c%2Bd.txt", headers: []string{"Range", "bytes=2-4"}, status: 206, body: "234",
			want: map[string]string{"Content-Range": "bytes 2-4/10", "Content-Length": "3"}},
		{name: "b2- info sets headers and is not repeated", method: "GET", target: "/file/alpha-bucket/special", status: 200, body: "s",
			want: map[string]string{"Content-Disposition": "attachment", "Cache-Control": "no-store", "X-Bz-Info-B2-Content-Disposition": "", "X-Bz-Info-B2-Cache-Control": ""}},
		{name: "overrides", method: "GET", target: "/file/alpha-bucket/special?b2ContentDisposition=inline&b2ContentType=text/csv&b2CacheControl=max-age%3D1", status: 200,
			want: map[string]string{"Content-Disposition": "inline", "Content-Type": "text/csv", "Cache-Control": "max-age=1"}},
		{name: "by id, GET", method: "GET", target: "/b2api/v2/b2_download_file_by_id?fileId=" + special["fileId"].(string), status: 200, body: "s",
			want: map[string]string{"X-Bz-File-Name": "special", "Content-Disposition": "attachment"}},
		{name: "by id, HEAD, v1", method: "HEAD", target: "/b2api/v1/b2_download_file_by_id?fileId=" + special["fileId"].(string), status: 200, want: map[string]string{"Content-Length": "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := authorized(tc.method, tc.target, master)
			for i := 0; i+1 < len(tc.headers); i += 2 {
				r.Header.Set(tc.headers[i], tc.headers[i+1])
			}
			rec := serve(h, r)
			if rec.Code != tc.status || (tc.body != "" || tc.method == "HEAD") && rec.Body.String() != tc.body {
				t.Fatalf("%d %q, want %d %q", rec.Code, rec.Body, tc.status, tc.body)
			}
			for k, v := range tc.want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}

	t.Run("by id, POST", func(t *testing.T) {
		rec := post(h, master, "/b2api/v2/b2_download_file_by_id", `{"fileId":"`+plain["fileId"].(string)+`","b2ContentLanguage":"fr"}`)
		if rec.Code != 200 || rec.Body.String() != "0123456789" || rec.Header().Get("Content-Language") != "fr" {
			t.Errorf("%d %q %v", rec.Code, rec.Body, rec.Header())
		}
	})
	t.Run("range outside the file", func(t *testing.T) {
		r := authorized("GET", "/file/alpha-bucket/special", master)
		r.Header.Set("Range", "bytes=5-")
		rec := serve(h, r)
		wantError(t, rec, 416, "range_not_satisfiable", "outside the file's 1 bytes")
		if rec.Header().Get("Content-Range") != "bytes */1" || rec.Header().Get("X-Bz-File-Id") != "" {
			t.Errorf("416 headers %v", rec.Header())
		}
	})
}

func TestDownloadRefusals(t *testing.T) {
	var clock testClock
	h := newEmulator(t, withClock(&clock))
	master := login(t, h, "master-id", "master-secret")
	photo := uploadFile(t, h, "alpha-bucket", "photos/cat.jpg", "meow")["fileId"].(string)
	doc := uploadFile(t, h, "alpha-bucket", "docs/d.txt", "d")["fileId"].(string)
	uploadFile(t, h, "beta-bucket", "public.txt", "for all")
	hidden := uploadFile(t, h, "alpha-bucket", "gone", "g")["fileId"].(string)
	hideID := wantOK(t, post(h, master, "/b2api/v2/b2_hide_file", `{"bucketId":"`+bucketID(t, h, "alpha-bucket")+`","fileName":"gone"}`))["fileId"].(string)
	share := func(body string) string {
		return wantOK(t, post(h, master, "/b2api/v2/b2_get_download_authorization", `{"bucketId":"`+bucketID(t, h, "alpha-bucket")+`",`+body+`}`))["authorizationToken"].(string)
	}
	catsOnly := share(`"fileNamePrefix":"photos/","validDurationInSeconds":60`)
	withDisposition := share(`"fileNamePrefix":"","validDurationInSeconds":60,"b2ContentDisposition":"attachment"`)
	shortLived := share(`"fileNamePrefix":"","validDurationInSeconds":1`)
	betaShare := wantOK(t, post(h, master, "/b2api/v2/b2_get_download_authorization", `{"bucketId":"`+bucketID(t, h, "beta-bucket")+`","fileNamePrefix":"","validDurationInSeconds":60}`))["authorizationToken"].(string)
	clock.advance(2 * time.Second)

	for _, tc := range []struct {
		name, target, token string
		status              int
		code, msg           string
	}{
		{"public bucket, no token", "/file/beta-bucket/public.txt", "", 200, "", ""},
		{"public bucket, any token", "/file/beta-bucket/public.txt", "not-a-token", 200, "", ""},
		{"private bucket, no token", "/file/alpha-bucket/photos/cat.jpg", "", 401, "missing_auth_token", "private"},
		{"private bucket, bad token", "/file/alpha-bucket/photos/cat.jpg", "4_nope", 401, "bad_auth_token", "not valid"},
		{"by id, no token", "/b2api/v2/b2_download_file_by_id?fileId=" + photo, "", 401, "missing_auth_token", "private"},
		{"a key without readFiles", "/file/alpha-bucket/photos/cat.jpg", keyToken(t, h, "lister-id"), 401, "unauthorized", "readFiles"},
		{"a key of another account", "/file/alpha-bucket/photos/cat.jpg", keyToken(t, h, "other-id"), 401, "unauthorized", "not valid for the account"},
		{"readFiles alone is enough", "/file/alpha-bucket/docs/d.txt", keyToken(t, h, "nolist-id"), 200, "", ""},
		{"within the key's prefix", "/file/alpha-bucket/photos/cat.jpg", keyToken(t, h, "files-id"), 200, "", ""},
		{"outside the key's prefix", "/file/alpha-bucket/docs/d.txt", keyToken(t, h, "files-id"), 401, "unauthorized", `starting with "photos/"`},
		{"by id, outside the key's prefix", "/b2api/v2/b2_download_file_by_id?fileId=" + doc, keyToken(t, h, "files-id"), 401, "unauthorized", `starting with "photos/"`},
		{"by id, another bucket than the key's", "/b2api/v2/b2_download_file_by_id?fileId=" + newFileID(bucketID(t, h, "locked-bucket"), 1, clock.read()), keyToken(t, h, "files-id"), 401, "unauthorized", "restricted to bucket"},
		{"download authorization", "/file/alpha-bucket/photos/cat.jpg", catsOnly, 200, "", ""},
		{"download authorization in the query", "/file/alpha-bucket/photos/cat.jpg?Authorization=" + catsOnly, "", 200, "", ""},
		{"download authorization, outside its prefix", "/file/alpha-bucket/docs/d.txt", catsOnly, 401, "unauthorized", `starting with "photos/"`},
		{"download authorization of another bucket", "/file/alpha-bucket/photos/cat.jpg", betaShare, 401, "unauthorized", "another bucket"},
		{"download authorization, expired", "/file/alpha-bucket/photos/cat.jpg", shortLived, 401, "expired_auth_token", "expired"},
		{"download authorization by id", "/b2api/v2/b2_download_file_by_id?fileId=" + photo, catsOnly, 401, "unauthorized", "downloads by name only"},
		{"download authorization, override missing", "/file/alpha-bucket/docs/d.txt", withDisposition, 401, "unauthorized", "requires b2ContentDisposition=attachment"},
		{"download authorization, override repeated", "/file/alpha-bucket/docs/d.txt?b2ContentDisposition=attachment", withDisposition, 200, "", ""},
		{"an override with a control character", "/file/alpha-bucket/docs/d.txt?b2ContentDisposition=a%0Db", master, 400, "bad_request", "control character"},
		{"by id, an Expires override that is no date", "/b2api/v2/b2_download_file_by_id?fileId=" + doc + "&b2Expires=soon", master, 400, "bad_request", "HTTP date"},
		{"no such file", "/file/alpha-bucket/nothing", master, 404, "not_found", "does not exist"},
		{"a hidden file", "/file/alpha-bucket/gone", master, 404, "not_found", "does not exist"},
		{"a hidden file's version, by id", "/b2api/v2/b2_download_file_by_id?fileId=" + hidden, master, 200, "", ""},
		{"a hide marker, by id", "/b2api/v2/b2_download_file_by_id?fileId=" + hideID, master, 404, "not_found", "does not exist"},
		{"no such bucket", "/file/no-such-bucket/x", master, 404, "not_found", "Bucket no-such-bucket does not exist"},
		{"no file name", "/file/alpha-bucket", master, 400, "bad_request", "/file/<bucketName>/<fileName>"},
		{"by id, malformed id", "/b2api/v2/b2_download_file_by_id?fileId=x", master, 400, "bad_request", "not a valid file id"},
		{"by id, no id", "/b2api/v2/b2_download_file_by_id", master, 400, "bad_request", "fileId is required"},
		{"by id, the token in the query", "/b2api/v2/b2_download_file_by_id?fileId=" + photo + "&Authorization=" + master, "", 401, "missing_auth_token", "private"},
		{"by id, unknown parameter", "/b2api/v2/b2_download_file_by_id?fileId=" + photo + "&fileName=x", master, 400, "bad_request", "unknown field fileName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, authorized(http.MethodGet, tc.target, tc.token))
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("%d %s", rec.Code, rec.Body)
				}
				return
			}
			wantError(t, rec, tc.status, tc.code, tc.msg)
		})
	}
	t.Run("POST by name", func(t *testing.T) {
		rec := serve(h, authorized(http.MethodPost, "/file/alpha-bucket/photos/cat.jpg", master))
		wantError(t, rec, 405, "method_not_allowed", "GET or HEAD")
		if rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("Allow %q", rec.Header().Get("Allow"))
		}
	})
	t.Run("account tokens expire for downloads too", func(t *testing.T) {
		r := authorized(http.MethodGet, "/file/alpha-bucket/photos/cat.jpg", master)
		r.Header.Set(testModeHeader, expireTestMode)
		if rec := serve(h, r); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "expired_auth_token") {
			t.Errorf("second use of a token under the expiry test mode: %d %s", rec.Code, rec.Body)
		}
	})
}
