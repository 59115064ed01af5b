package b2emulator

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// keyToken signs in with one of the test keys, whose secrets follow their
// ids.
func keyToken(t *testing.T, h *Emulator, key string) string {
	t.Helper()
	return login(t, h, key, strings.TrimSuffix(key, "-id")+"-secret")
}

// entries renders a list answer as "action name" lines.
func entries(t *testing.T, m map[string]any) []string {
	t.Helper()
	var out []string
	for _, f := range m["files"].([]any) {
		f := f.(map[string]any)
		out = append(out, f["action"].(string)+" "+f["fileName"].(string))
	}
	return out
}

// The example of the b2_list_file_names docs ("Prefixes and Delimiters"),
// with a second version of one file and a hidden one.
func listFixture(t *testing.T) (*Emulator, map[string]string) {
	t.Helper()
	h := newEmulator(t)
	ids := make(map[string]string)
	for _, name := range []string{"photos/alice.jpg", "photos/alfred.jpg", "photos/cats/fluffy.jpg", "photos/cats/mittens.jpg", "photos/dogs/spot.jpg", "photos/lilly.jpg", "photos/dogs/spot.jpg", "top.txt"} {
		m := uploadFile(t, h, "alpha-bucket", name, name)
		ids[name] = m["fileId"].(string) // the newest
		if _, seen := ids[name+"#first"]; !seen {
			ids[name+"#first"] = m["fileId"].(string)
		}
	}
	master := login(t, h, "master-id", "master-secret")
	ids["hide"] = wantOK(t, post(h, master, "/b2api/v2/b2_hide_file", `{"bucketId":"`+bucketID(t, h, "alpha-bucket")+`","fileName":"photos/lilly.jpg"}`))["fileId"].(string)
	return h, ids
}

func TestListFiles(t *testing.T) {
	h, ids := listFixture(t)
	alpha := bucketID(t, h, "alpha-bucket")
	for _, tc := range []struct {
		name     string
		call     string
		body     string
		want     []string
		nextName any
		nextID   any
	}{
		{"every name", "b2_list_file_names", `{}`,
			[]string{"upload photos/alfred.jpg", "upload photos/alice.jpg", "upload photos/cats/fluffy.jpg", "upload photos/cats/mittens.jpg", "upload photos/dogs/spot.jpg", "upload top.txt"}, nil, nil},
		{"prefix photos/c", "b2_list_file_names", `{"prefix":"photos/c"}`,
			[]string{"upload photos/cats/fluffy.jpg", "upload photos/cats/mittens.jpg"}, nil, nil},
		{"prefix and delimiter, as in the docs", "b2_list_file_names", `{"prefix":"photos/","delimiter":"/"}`,
			[]string{"upload photos/alfred.jpg", "upload photos/alice.jpg", "folder photos/cats/", "folder photos/dogs/"}, nil, nil},
		{"delimiter alone", "b2_list_file_names", `{"delimiter":"/"}`, []string{"folder photos/", "upload top.txt"}, nil, nil},
		{"a page", "b2_list_file_names", `{"prefix":"photos/","delimiter":"/","maxFileCount":2}`,
			[]string{"upload photos/alfred.jpg", "upload photos/alice.jpg"}, "photos/cats/", nil},
		{"the next page starts at a folder", "b2_list_file_names", `{"prefix":"photos/","delimiter":"/","maxFileCount":1,"startFileName":"photos/cats/"}`,
			[]string{"folder photos/cats/"}, "photos/dogs/", nil},
		{"startFileName between names", "b2_list_file_names", `{"startFileName":"photos/b","maxFileCount":1}`,
			[]string{"upload photos/cats/fluffy.jpg"}, "photos/cats/mittens.jpg", nil},
		{"maxFileCount 0 is the default", "b2_list_file_names", `{"maxFileCount":0,"prefix":"top"}`, []string{"upload top.txt"}, nil, nil},
		{"nulls are absent", "b2_list_file_names", `{"startFileName":null,"maxFileCount":null,"prefix":null,"delimiter":null}`,
			[]string{"upload photos/alfred.jpg", "upload photos/alice.jpg", "upload photos/cats/fluffy.jpg", "upload photos/cats/mittens.jpg", "upload photos/dogs/spot.jpg", "upload top.txt"}, nil, nil},
		{"versions: newest first, hide markers included", "b2_list_file_versions", `{"prefix":"photos/dogs/"}`,
			[]string{"upload photos/dogs/spot.jpg", "upload photos/dogs/spot.jpg"}, nil, nil},
		{"versions of a hidden file", "b2_list_file_versions", `{"prefix":"photos/l"}`,
			[]string{"hide photos/lilly.jpg", "upload photos/lilly.jpg"}, nil, nil},
		{"a page of versions ends between two versions of a name", "b2_list_file_versions", `{"prefix":"photos/dogs/","maxFileCount":1}`,
			[]string{"upload photos/dogs/spot.jpg"}, "photos/dogs/spot.jpg", ids["photos/dogs/spot.jpg#first"]},
		{"startFileId", "b2_list_file_versions", `{"startFileName":"photos/dogs/spot.jpg","startFileId":"` + ids["photos/dogs/spot.jpg#first"] + `"}`,
			[]string{"upload photos/dogs/spot.jpg", "hide photos/lilly.jpg", "upload photos/lilly.jpg", "upload top.txt"}, nil, nil},
		{"versions by folder", "b2_list_file_versions", `{"prefix":"photos/","delimiter":"/","maxFileCount":3}`,
			[]string{"upload photos/alfred.jpg", "upload photos/alice.jpg", "folder photos/cats/"}, "photos/dogs/", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Replace(tc.body, "{", `{"bucketId":"`+alpha+`",`, 1)
			body = strings.Replace(body, ",}", "}", 1)
			m := wantOK(t, post(h, login(t, h, "master-id", "master-secret"), "/b2api/v2/"+tc.call, body))
			if got := entries(t, m); !slices.Equal(got, tc.want) {
				t.Errorf("listed\n %q\nwant\n %q", got, tc.want)
			}
			if m["nextFileName"] != tc.nextName {
				t.Errorf("nextFileName %v, want %v", m["nextFileName"], tc.nextName)
			}
			if id, ok := m["nextFileId"]; ok != (tc.call == "b2_list_file_versions") || id != tc.nextID {
				t.Errorf("nextFileId %v (present %v), want %v", id, ok, tc.nextID)
			}
		})
	}
}

// Paging through with what each answer says comes next sees every entry
// exactly once.
func TestListFilesPaging(t *testing.T) {
	h, _ := listFixture(t)
	master := login(t, h, "master-id", "master-secret")
	alpha := bucketID(t, h, "alpha-bucket")
	for _, call := range []string{"b2_list_file_names", "b2_list_file_versions"} {
		for _, delimiter := range []string{"", "/"} {
			all := entries(t, wantOK(t, post(h, master, "/b2api/v2/"+call, `{"bucketId":"`+alpha+`","delimiter":"`+delimiter+`"}`)))
			var paged []string
			next := map[string]any{}
			for range 20 {
				body := `{"bucketId":"` + alpha + `","maxFileCount":1,"delimiter":"` + delimiter + `"`
				if name, ok := next["nextFileName"].(string); ok {
					body += `,"startFileName":"` + name + `"`
				}
				if id, ok := next["nextFileId"].(string); ok {
					body += `,"startFileId":"` + id + `"`
				}
				next = wantOK(t, post(h, master, "/b2api/v2/"+call, body+"}"))
				paged = append(paged, entries(t, next)...)
				if next["nextFileName"] == nil {
					break
				}
			}
			if !slices.Equal(paged, all) {
				t.Errorf("%s, delimiter %q: paged\n %q\nat once\n %q", call, delimiter, paged, all)
			}
		}
	}
}

func TestListFilesShapesAndRestrictions(t *testing.T) {
	h, _ := listFixture(t)
	uploadFile(t, h, "alpha-bucket", "photos/mine.jpg", "x")
	alpha := bucketID(t, h, "alpha-bucket")
	files := keyToken(t, h, "files-id")

	m := wantOK(t, post(h, files, "/b2api/v2/b2_list_file_names", `{"bucketId":"`+alpha+`","prefix":"photos/m"}`))
	f := m["files"].([]any)[0].(map[string]any)
	for _, k := range []string{"accountId", "bucketId", "contentLength", "contentSha1", "contentMd5", "contentType", "fileId", "fileInfo", "fileName", "uploadTimestamp", "action", "fileRetention", "legalHold", "serverSideEncryption"} {
		if _, ok := f[k]; !ok {
			t.Errorf("v2 entry has no %s: %v", k, f)
		}
	}
	if !equalJSON(f["fileRetention"], map[string]any{"isClientAuthorizedToRead": false, "value": nil}) {
		t.Errorf("fileRetention for a key without readFileRetentions: %v", f["fileRetention"])
	}

	// v1 quietly narrows to the key's name prefix and has the v1 shape;
	// later versions refuse a list outside it.
	m = wantOK(t, post(h, files, "/b2api/v1/b2_list_file_names", `{"bucketId":"`+alpha+`","startFileName":"photos/m"}`))
	if got := entries(t, m); !slices.Equal(got, []string{"upload photos/mine.jpg"}) {
		t.Errorf("v1 list with a name prefix key: %q", got)
	}
	f = m["files"].([]any)[0].(map[string]any)
	if f["size"] != float64(1) || f["accountId"] != nil || f["bucketId"] != nil || f["fileRetention"] != nil {
		t.Errorf("v1 entry: %v", f)
	}
	wantError(t, post(h, files, "/b2api/v2/b2_list_file_names", `{"bucketId":"`+alpha+`"}`), 401, "unauthorized", `starting with "photos/"`)

	t.Run("GET", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_list_file_names?bucketId="+alpha+"&maxFileCount=1&prefix="+url.QueryEscape("photos/c"), nil)
		r.Header.Set("Authorization", files)
		if got := entries(t, wantOK(t, serve(h, r))); !slices.Equal(got, []string{"upload photos/cats/fluffy.jpg"}) {
			t.Errorf("GET list: %q", got)
		}
	})
}

func TestListFilesRefusals(t *testing.T) {
	h, ids := listFixture(t)
	alpha := `"bucketId":"` + bucketID(t, h, "alpha-bucket") + `"`
	for _, tc := range []struct {
		name, key, call, body string
		status                int
		code, msg             string
	}{
		{"no listFiles", "writer-id", "b2_list_file_names", `{` + alpha + `}`, 401, "unauthorized", "listFiles"},
		{"another bucket than the key's", "files-id", "b2_list_file_versions", `{"bucketId":"` + bucketID(t, h, "beta-bucket") + `","prefix":"photos/"}`, 401, "unauthorized", "restricted to bucket"},
		{"unknown bucket", "master-id", "b2_list_file_names", `{"bucketId":"000000000000000000000000"}`, 400, "invalid_bucket_id", "Invalid bucketId"},
		{"another account's bucket", "other-id", "b2_list_file_names", `{` + alpha + `}`, 400, "invalid_bucket_id", "Invalid bucketId"},
		{"no bucketId", "master-id", "b2_list_file_names", `{}`, 400, "bad_request", "bucketId is required"},
		{"maxFileCount past 10000", "master-id", "b2_list_file_names", `{` + alpha + `,"maxFileCount":10001}`, 400, "out_of_range", "maxFileCount out of range"},
		{"negative maxFileCount", "master-id", "b2_list_file_versions", `{` + alpha + `,"maxFileCount":-1}`, 400, "out_of_range", "maxFileCount out of range"},
		{"maxFileCount as a string", "master-id", "b2_list_file_names", `{` + alpha + `,"maxFileCount":"5"}`, 400, "bad_request", "maxFileCount must be an integer"},
		{"startFileId without startFileName", "master-id", "b2_list_file_versions", `{` + alpha + `,"startFileId":"` + ids["top.txt"] + `"}`, 400, "bad_request", "startFileId needs startFileName"},
		{"malformed startFileId", "master-id", "b2_list_file_versions", `{` + alpha + `,"startFileName":"a","startFileId":"nope"}`, 400, "invalid_file_id", "Invalid startFileId"},
		{"startFileId on list_file_names", "master-id", "b2_list_file_names", `{` + alpha + `,"startFileName":"a","startFileId":"` + ids["top.txt"] + `"}`, 400, "bad_request", "unknown field startFileId"},
		{"prefix not a string", "master-id", "b2_list_file_names", `{` + alpha + `,"prefix":3}`, 400, "bad_request", "prefix must be a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, keyToken(t, h, tc.key), "/b2api/v2/"+tc.call, tc.body), tc.status, tc.code, tc.msg)
		})
	}
}

func TestHideFile(t *testing.T) {
	h := newEmulator(t)
	uploadFile(t, h, "alpha-bucket", "photos/p.jpg", "p")
	uploadFile(t, h, "alpha-bucket", "docs/d.txt", "d")
	alpha := `"bucketId":"` + bucketID(t, h, "alpha-bucket") + `"`
	master := login(t, h, "master-id", "master-secret")

	m := wantOK(t, post(h, keyToken(t, h, "files-id"), "/b2api/v2/b2_hide_file", `{`+alpha+`,"fileName":"photos/p.jpg"}`))
	want := map[string]any{"action": "hide", "contentType": hideMarkerType, "contentLength": float64(0), "contentSha1": emptySHA1, "contentMd5": emptyMD5, "fileName": "photos/p.jpg", "fileInfo": map[string]any{}}
	for k, v := range want {
		if !equalJSON(m[k], v) {
			t.Errorf("hide answer %s = %v, want %v", k, m[k], v)
		}
	}
	for _, k := range []string{"fileRetention", "legalHold", "serverSideEncryption"} {
		if _, ok := m[k]; ok {
			t.Errorf("a hide marker has %s: %v", k, m)
		}
	}
	wantError(t, serve(h, authorized(http.MethodGet, "/file/alpha-bucket/photos/p.jpg", master)), 404, "not_found", "does not exist")

	for _, tc := range []struct {
		name, key, body string
		status          int
		code, msg       string
	}{
		{"already hidden", "master-id", `{` + alpha + `,"fileName":"photos/p.jpg"}`, 400, "already_hidden", "File already hidden: photos/p.jpg"},
		{"no such file", "master-id", `{` + alpha + `,"fileName":"nothing"}`, 400, "no_such_file", "File not present: nothing"},
		{"no writeFiles", "lister-id", `{` + alpha + `,"fileName":"docs/d.txt"}`, 401, "unauthorized", "writeFiles"},
		{"outside the key's name prefix", "files-id", `{` + alpha + `,"fileName":"docs/d.txt"}`, 401, "unauthorized", `starting with "photos/"`},
		{"snapshot bucket", "master-id", `{"bucketId":"` + bucketID(t, h, "snap-bucket") + `","fileName":"x"}`, 400, "bad_request", "Snapshot buckets are reserved"},
		{"unknown bucket", "master-id", `{"bucketId":"000000000000000000000000","fileName":"x"}`, 400, "bad_bucket_id", "does not exist"},
		{"no fileName", "master-id", `{` + alpha + `}`, 400, "bad_request", "fileName is required"},
		{"empty fileName", "master-id", `{` + alpha + `,"fileName":""}`, 400, "bad_request", "at least one character"},
		{"control character", "master-id", `{` + alpha + `,"fileName":"a\u0001"}`, 400, "bad_request", "below 32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, keyToken(t, h, tc.key), "/b2api/v2/b2_hide_file", tc.body), tc.status, tc.code, tc.msg)
		})
	}
}

func TestDeleteFileVersion(t *testing.T) {
	h := newEmulator(t)
	master := login(t, h, "master-id", "master-secret")
	first := uploadFile(t, h, "alpha-bucket", "photos/p.jpg", "first")["fileId"].(string)
	second := uploadFile(t, h, "alpha-bucket", "photos/p.jpg", "second")["fileId"].(string)
	docs := uploadFile(t, h, "alpha-bucket", "docs/d.txt", "d")["fileId"].(string)
	alphaID := bucketID(t, h, "alpha-bucket")

	for _, tc := range []struct {
		name, key, body string
		status          int
		code, msg       string
	}{
		{"no deleteFiles", "lister-id", `{"fileName":"docs/d.txt","fileId":"` + docs + `"}`, 401, "unauthorized", "deleteFiles"},
		{"outside the key's name prefix", "files-id", `{"fileName":"docs/d.txt","fileId":"` + docs + `"}`, 401, "unauthorized", `starting with "photos/"`},
		{"the id with another name", "master-id", `{"fileName":"docs/other.txt","fileId":"` + docs + `"}`, 400, "file_not_present", "File not present: docs/other.txt"},
		{"an id never issued", "master-id", `{"fileName":"docs/d.txt","fileId":"` + newFileID(alphaID, 999, h.now()) + `"}`, 400, "file_not_present", "File not present"},
		{"a malformed id", "master-id", `{"fileName":"docs/d.txt","fileId":"nope"}`, 400, "bad_request", "not a valid file id"},
		{"another account's file", "other-id", `{"fileName":"docs/d.txt","fileId":"` + docs + `"}`, 400, "bad_bucket_id", "does not exist"},
		{"bypassGovernance not a boolean", "master-id", `{"fileName":"docs/d.txt","fileId":"` + docs + `","bypassGovernance":"yes"}`, 400, "bad_request", "bypassGovernance must be true or false"},
		{"no fileId", "master-id", `{"fileName":"docs/d.txt"}`, 400, "bad_request", "fileId is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, keyToken(t, h, tc.key), "/b2api/v2/b2_delete_file_version", tc.body), tc.status, tc.code, tc.msg)
		})
	}

	// Deleting the newest version brings the older one back to downloads.
	m := wantOK(t, post(h, keyToken(t, h, "files-id"), "/b2api/v2/b2_delete_file_version", `{"fileName":"photos/p.jpg","fileId":"`+second+`","bypassGovernance":true}`))
	if !equalJSON(m, map[string]any{"fileId": second, "fileName": "photos/p.jpg"}) {
		t.Errorf("delete answer %v", m)
	}
	if rec := serve(h, authorized(http.MethodGet, "/file/alpha-bucket/photos/p.jpg", master)); rec.Code != 200 || rec.Body.String() != "first" || rec.Header().Get("X-Bz-File-Id") != first {
		t.Errorf("after deleting the newest version: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	wantError(t, post(h, master, "/b2api/v2/b2_delete_file_version", `{"fileName":"photos/p.jpg","fileId":"`+second+`"}`), 400, "file_not_present", "File not present")

	// Deleting a hide marker reveals the file.
	hide := wantOK(t, post(h, master, "/b2api/v2/b2_hide_file", `{"bucketId":"`+alphaID+`","fileName":"photos/p.jpg"}`))["fileId"].(string)
	wantOK(t, post(h, master, "/b2api/v2/b2_delete_file_version", `{"fileName":"photos/p.jpg","fileId":"`+hide+`"}`))
	if rec := serve(h, authorized(http.MethodGet, "/file/alpha-bucket/photos/p.jpg", master)); rec.Code != 200 {
		t.Errorf("after deleting the hide marker: %d %s", rec.Code, rec.Body)
	}
}

func TestGetFileInfo(t *testing.T) {
	h := newEmulator(t)
	master := login(t, h, "master-id", "master-secret")
	up := uploadFile(t, h, "alpha-bucket", "photos/p.jpg", "p", "X-Bz-Info-Color", "red")
	id := up["fileId"].(string)
	if got := wantOK(t, post(h, master, "/b2api/v2/b2_get_file_info", `{"fileId":"`+id+`"}`)); !equalJSON(got, up) {
		t.Errorf("file info\n %v\nupload answer\n %v", got, up)
	}
	// What a key may read of the retention settings depends on the key.
	got := wantOK(t, post(h, keyToken(t, h, "files-id"), "/b2api/v2/b2_get_file_info", `{"fileId":"`+id+`"}`))
	if !equalJSON(got["legalHold"], map[string]any{"isClientAuthorizedToRead": false, "value": nil}) || got["fileName"] != "photos/p.jpg" {
		t.Errorf("file info for a key without readFileLegalHolds: %v", got)
	}
	docs := uploadFile(t, h, "alpha-bucket", "docs/d.txt", "d")["fileId"].(string)
	for _, tc := range []struct {
		name, key, body string
		status          int
		code, msg       string
	}{
		{"no readFiles", "lister-id", `{"fileId":"` + id + `"}`, 401, "unauthorized", "readFiles"},
		{"outside the key's name prefix", "files-id", `{"fileId":"` + docs + `"}`, 401, "unauthorized", `starting with "photos/"`},
		{"an id never issued", "master-id", `{"fileId":"` + newFileID(bucketID(t, h, "alpha-bucket"), 999, h.now()) + `"}`, 404, "not_found", "does not exist"},
		{"a malformed id", "master-id", `{"fileId":"4_z_nope"}`, 400, "bad_request", "not a valid file id"},
		{"another account's file", "other-id", `{"fileId":"` + id + `"}`, 400, "bad_bucket_id", "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, keyToken(t, h, tc.key), "/b2api/v2/b2_get_file_info", tc.body), tc.status, tc.code, tc.msg)
		})
	}
}

func TestGetDownloadAuthorization(t *testing.T) {
	h := newEmulator(t)
	alpha := `"bucketId":"` + bucketID(t, h, "alpha-bucket") + `"`
	m := wantOK(t, post(h, keyToken(t, h, "files-id"), "/b2api/v2/b2_get_download_authorization", `{`+alpha+`,"fileNamePrefix":"photos/cats/","validDurationInSeconds":60}`))
	if m["bucketId"] != bucketID(t, h, "alpha-bucket") || m["fileNamePrefix"] != "photos/cats/" || m["authorizationToken"] == "" {
		t.Errorf("answer %v", m)
	}
	for _, tc := range []struct {
		name, key, body string
		status          int
		code, msg       string
	}{
		{"no shareFiles", "lister-id", `{` + alpha + `,"fileNamePrefix":"","validDurationInSeconds":60}`, 401, "unauthorized", "shareFiles"},
		{"a prefix wider than the key's", "files-id", `{` + alpha + `,"fileNamePrefix":"","validDurationInSeconds":60}`, 401, "unauthorized", `starting with "photos/"`},
		{"zero seconds", "master-id", `{` + alpha + `,"fileNamePrefix":"","validDurationInSeconds":0}`, 400, "bad_request", "between 1 and 604800"},
		{"more than a week", "master-id", `{` + alpha + `,"fileNamePrefix":"","validDurationInSeconds":604801}`, 400, "bad_request", "between 1 and 604800"},
		{"no prefix", "master-id", `{` + alpha + `,"validDurationInSeconds":60}`, 400, "bad_request", "fileNamePrefix is required"},
		{"no duration", "master-id", `{` + alpha + `,"fileNamePrefix":""}`, 400, "bad_request", "validDurationInSeconds is required"},
		{"an override that is not a string", "master-id", `{` + alpha + `,"fileNamePrefix":"","validDurationInSeconds":60,"b2ContentDisposition":1}`, 400, "bad_request", "b2ContentDisposition must be a string"},
		{"unknown bucket", "master-id", `{"bucketId":"000000000000000000000000","fileNamePrefix":"","validDurationInSeconds":60}`, 400, "bad_bucket_id", "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, keyToken(t, h, tc.key), "/b2api/v2/b2_get_download_authorization", tc.body), tc.status, tc.code, tc.msg)
		})
	}
}

// b2_delete_bucket refuses a bucket while it holds any version of any file,
// hide markers included.
func TestDeleteBucketWithFiles(t *testing.T) {
	h := newEmulator(t)
	master := login(t, h, "master-id", "master-secret")
	alpha := bucketID(t, h, "alpha-bucket")
	del := `{"accountId":"acct-one","bucketId":"` + alpha + `"}`
	id := uploadFile(t, h, "alpha-bucket", "f", "x")["fileId"].(string)
	wantError(t, post(h, master, "/b2api/v2/b2_delete_bucket", del), 400, "cannot_delete_non_empty_bucket", "holds file versions")
	wantOK(t, post(h, master, "/b2api/v2/b2_hide_file", `{"bucketId":"`+alpha+`","fileName":"f"}`))
	wantOK(t, post(h, master, "/b2api/v2/b2_delete_file_version", `{"fileName":"f","fileId":"`+id+`"}`))
	wantError(t, post(h, master, "/b2api/v2/b2_delete_bucket", del), 400, "cannot_delete_non_empty_bucket", "holds file versions")
	marker := entries(t, wantOK(t, post(h, master, "/b2api/v2/b2_list_file_versions", `{"bucketId":"`+alpha+`"}`)))
	if !slices.Equal(marker, []string{"hide f"}) {
		t.Fatalf("left: %q", marker)
	}
	hideID := wantOK(t, post(h, master, "/b2api/v2/b2_list_file_versions", `{"bucketId":"`+alpha+`"}`))["files"].([]any)[0].(map[string]any)["fileId"].(string)
	wantOK(t, post(h, master, "/b2api/v2/b2_delete_file_version", `{"fileName":"f","fileId":"`+hideID+`"}`))
	wantOK(t, post(h, master, "/b2api/v2/b2_delete_bucket", del))
}
