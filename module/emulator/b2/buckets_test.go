package b2emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// canon re-encodes JSON text with sorted keys, as jsonOf gives decoded
// answers.
func canon(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return jsonOf(t, v)
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var bucketKeys = []string{
	"accountId", "bucketId", "bucketInfo", "bucketName", "bucketType", "corsRules",
	"defaultServerSideEncryption", "fileLockConfiguration", "lifecycleRules", "options",
	"replicationConfiguration", "revision",
}

// checkBucketShape asserts what every bucket object must carry for clients
// not to break on it.
func checkBucketShape(t *testing.T, b map[string]any) {
	t.Helper()
	if got := keysOf(b); !slices.Equal(got, bucketKeys) {
		t.Fatalf("bucket keys %v, want %v", got, bucketKeys)
	}
	if _, ok := b["bucketInfo"].(map[string]any); !ok {
		t.Errorf("bucketInfo %v is not an object", b["bucketInfo"])
	}
	for _, k := range []string{"corsRules", "lifecycleRules", "options"} {
		if _, ok := b[k].([]any); !ok {
			t.Errorf("%s %v is not an array", k, b[k])
		}
	}
	if _, ok := b["revision"].(float64); !ok {
		t.Errorf("revision %v is not a number", b["revision"])
	}
	for _, k := range []string{"defaultServerSideEncryption", "fileLockConfiguration", "replicationConfiguration"} {
		g, ok := b[k].(map[string]any)
		if !ok || len(g) != 2 {
			t.Errorf("%s %v is not {isClientAuthorizedToRead, value}", k, b[k])
			continue
		}
		if _, ok := g["isClientAuthorizedToRead"].(bool); !ok {
			t.Errorf("%s.isClientAuthorizedToRead %v", k, g["isClientAuthorizedToRead"])
		}
		if _, ok := g["value"]; !ok {
			t.Errorf("%s has no value", k)
		}
	}
}

func listBuckets(t *testing.T, h *Emulator, token, path, body string) []map[string]any {
	t.Helper()
	m := wantOK(t, post(h, token, path, body))
	var out []map[string]any
	for _, b := range m["buckets"].([]any) {
		bm := b.(map[string]any)
		checkBucketShape(t, bm)
		out = append(out, bm)
	}
	return out
}

func names(buckets []map[string]any) []string {
	out := []string{}
	for _, b := range buckets {
		out = append(out, b["bucketName"].(string))
	}
	return out
}

func getBucket(t *testing.T, h *Emulator, token, id string) map[string]any {
	t.Helper()
	bs := listBuckets(t, h, token, "/b2api/v2/b2_list_buckets", `{"accountId":"acct-one","bucketId":"`+id+`","bucketTypes":["all"]}`)
	if len(bs) != 1 {
		t.Fatalf("bucket %s: listed %d buckets", id, len(bs))
	}
	return bs[0]
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestCreateListUpdateDelete(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "master-id", "master-secret")

	created := wantOK(t, post(h, tok, "/b2api/v2/b2_create_bucket", `{"accountId":"acct-one","bucketName":"New-Bucket-1","bucketType":"allPublic",
		"bucketInfo":{"k":"v"},"lifecycleRules":[{"fileNamePrefix":"logs/","daysFromHidingToDeleting":7}]}`))
	checkBucketShape(t, created)
	id, _ := created["bucketId"].(string)
	if !generatedID.MatchString(id) || created["bucketName"] != "New-Bucket-1" || created["bucketType"] != "allPublic" ||
		created["revision"] != float64(1) || created["accountId"] != acctOne {
		t.Fatalf("created %v", created)
	}
	if got := jsonOf(t, created["lifecycleRules"]); got != `[{"daysFromHidingToDeleting":7,"daysFromStartingToCancelingUnfinishedLargeFiles":null,"daysFromUploadingToHiding":null,"fileNamePrefix":"logs/"}]` {
		t.Errorf("lifecycleRules %s", got)
	}
	if jsonOf(t, created["options"]) != `["s3"]` || jsonOf(t, created["bucketInfo"]) != `{"k":"v"}` {
		t.Errorf("options %v bucketInfo %v", created["options"], created["bucketInfo"])
	}
	if listed := getBucket(t, h, tok, id); !reflect.DeepEqual(listed, created) {
		t.Errorf("listed %v\ncreated %v", listed, created)
	}

	updated := wantOK(t, post(h, tok, "/b2api/v4/b2_update_bucket", `{"accountId":"acct-one","bucketId":"`+id+`","bucketType":"allPrivate","ifRevisionIs":1}`))
	checkBucketShape(t, updated)
	if updated["revision"] != float64(2) || updated["bucketType"] != "allPrivate" || jsonOf(t, updated["bucketInfo"]) != `{"k":"v"}` {
		t.Errorf("updated %v", updated)
	}
	if listed := getBucket(t, h, tok, id); !reflect.DeepEqual(listed, updated) {
		t.Errorf("listed %v\nupdated %v", listed, updated)
	}

	deleted := wantOK(t, post(h, tok, "/b2api/v1/b2_delete_bucket", `{"accountId":"acct-one","bucketId":"`+id+`"}`))
	checkBucketShape(t, deleted)
	if deleted["bucketName"] != "New-Bucket-1" || deleted["revision"] != float64(3) {
		t.Errorf("deleted %v, want the bucket with the revision after its last", deleted)
	}
	if bs := listBuckets(t, h, tok, "/b2api/v2/b2_list_buckets", `{"accountId":"acct-one","bucketId":"`+id+`"}`); len(bs) != 0 {
		t.Errorf("deleted bucket still listed: %v", bs)
	}
	wantError(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+id+`","bucketType":"allPublic"}`), 400, "bad_bucket_id", "Bucket "+id+" does not exist")
	wantError(t, post(h, tok, "/b2api/v3/b2_delete_bucket", `{"accountId":"acct-one","bucketId":"`+id+`"}`), 400, "bad_bucket_id", "does not exist")
	// The name is free again.
	wantOK(t, post(h, tok, "/b2api/v2/b2_create_bucket", `{"accountId":"acct-one","bucketName":"new-bucket-1","bucketType":"allPrivate"}`))
}

func TestCreateBucketErrors(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "master-id", "master-secret")
	other := login(t, h, "other-id", "other-secret")
	for _, tc := range []struct {
		name, token, body, code, msg string
	}{
		{"duplicate name", tok, `{"accountId":"acct-one","bucketName":"alpha-bucket","bucketType":"allPrivate"}`, "duplicate_bucket_name", "already in use"},
		{"duplicate name in another case", tok, `{"accountId":"acct-one","bucketName":"ALPHA-Bucket","bucketType":"allPrivate"}`, "duplicate_bucket_name", ""},
		{"duplicate name of another account", other, `{"accountId":"acct-two","bucketName":"alpha-bucket","bucketType":"allPrivate"}`, "duplicate_bucket_name", ""},
		{"name too short", tok, `{"accountId":"acct-one","bucketName":"abc","bucketType":"allPrivate"}`, "bad_request", "bucketName"},
		{"name too long", tok, `{"accountId":"acct-one","bucketName":"` + fmt.Sprintf("%064d", 0) + `","bucketType":"allPrivate"}`, "bad_request", "bucketName"},
		{"name with underscore", tok, `{"accountId":"acct-one","bucketName":"bad_name","bucketType":"allPrivate"}`, "bad_request", "bucketName"},
		{"reserved prefix", tok, `{"accountId":"acct-one","bucketName":"B2-bucket","bucketType":"allPrivate"}`, "bad_request", "b2-"},
		{"no bucketType", tok, `{"accountId":"acct-one","bucketName":"some-bucket"}`, "bad_request", "bucketType is required"},
		{"snapshot type", tok, `{"accountId":"acct-one","bucketName":"some-bucket","bucketType":"snapshot"}`, "bad_request", "bucketType"},
		{"no accountId", tok, `{"bucketName":"some-bucket","bucketType":"allPrivate"}`, "bad_request", "accountId is required"},
		{"ifRevisionIs is not a create field", tok, `{"accountId":"acct-one","bucketName":"some-bucket","bucketType":"allPrivate","ifRevisionIs":1}`, "bad_request", "ifRevisionIs"},
		{"retention without file lock", tok, `{"accountId":"acct-one","bucketName":"some-bucket","bucketType":"allPrivate","defaultRetention":{"mode":"governance","period":{"duration":1,"unit":"days"}}}`, "bucket_missing_file_lock", "defaultRetention"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, tc.token, "/b2api/v3/b2_create_bucket", tc.body), 400, tc.code, tc.msg)
		})
	}

	// blazer sends bucketInfo and lifecycleRules as null when it has none.
	b := wantOK(t, post(h, tok, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"nulls-bucket","bucketType":"allPrivate","bucketInfo":null,"lifecycleRules":null}`))
	checkBucketShape(t, b)
	locked := wantOK(t, post(h, tok, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"locked-new","bucketType":"allPrivate","fileLockEnabled":true,
		"defaultRetention":{"mode":"compliance","period":{"duration":2,"unit":"years"}}}`))
	if got := jsonOf(t, locked["fileLockConfiguration"]); got != `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":"compliance","period":{"duration":2,"unit":"years"}},"isFileLockEnabled":true}}` {
		t.Errorf("fileLockConfiguration %s", got)
	}
}

func TestTooManyBuckets(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "other-id", "other-secret")
	for i := 1; i < maxBucketsPerAccount; i++ {
		wantOK(t, post(h, tok, "/b2api/v3/b2_create_bucket", fmt.Sprintf(`{"accountId":"acct-two","bucketName":"many-bucket-%d","bucketType":"allPrivate"}`, i)))
	}
	wantError(t, post(h, tok, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-two","bucketName":"one-too-many","bucketType":"allPrivate"}`), 400, "too_many_buckets", "")
	// The limit is per account.
	wantOK(t, post(h, login(t, h, "master-id", "master-secret"), "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"one-too-many","bucketType":"allPrivate"}`))
}

func TestListBuckets(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "master-id", "master-secret")
	beta := bucketID(t, h, "beta-bucket")
	gamma := bucketID(t, h, "gamma-bucket")
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"default types", `{"accountId":"acct-one"}`, []string{"alpha-bucket", "beta-bucket", "locked-bucket", "snap-bucket"}},
		{"all types", `{"accountId":"acct-one","bucketTypes":["all"]}`, []string{"alpha-bucket", "beta-bucket", "hidden-bucket", "locked-bucket", "snap-bucket"}},
		{"one type", `{"accountId":"acct-one","bucketTypes":["snapshot"]}`, []string{"snap-bucket"}},
		{"two types", `{"accountId":"acct-one","bucketTypes":["allPublic","restricted"]}`, []string{"beta-bucket", "hidden-bucket"}},
		{"by name in any case", `{"accountId":"acct-one","bucketName":"ALPHA-BUCKET"}`, []string{"alpha-bucket"}},
		{"by id", `{"accountId":"acct-one","bucketId":"` + beta + `"}`, []string{"beta-bucket"}},
		{"id and name must both match", `{"accountId":"acct-one","bucketId":"` + beta + `","bucketName":"alpha-bucket"}`, []string{}},
		{"unknown name", `{"accountId":"acct-one","bucketName":"no-such-bucket"}`, []string{}},
		{"another account's bucket", `{"accountId":"acct-one","bucketId":"` + gamma + `"}`, []string{}},
		{"b2sdk nulls", `{"accountId":"acct-one","bucketId":null,"bucketName":null,"bucketTypes":["all"]}`, []string{"alpha-bucket", "beta-bucket", "hidden-bucket", "locked-bucket", "snap-bucket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(listBuckets(t, h, tok, "/b2api/v3/b2_list_buckets", tc.body)); !slices.Equal(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"GET all types", `accountId=acct-one&bucketTypes=["all"]`, []string{"alpha-bucket", "beta-bucket", "hidden-bucket", "locked-bucket", "snap-bucket"}},
		{"GET by name", `accountId=acct-one&bucketName=beta-bucket`, []string{"beta-bucket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/b2api/v2/b2_list_buckets?"+queryEscape(tc.query), nil)
			r.Header.Set("Authorization", tok)
			var got []string
			for _, b := range wantOK(t, serve(h, r))["buckets"].([]any) {
				got = append(got, b.(map[string]any)["bucketName"].(string))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, body, code, msg string
	}{
		{"empty types", `{"accountId":"acct-one","bucketTypes":[]}`, "bad_request", "bucketTypes"},
		{"all with others", `{"accountId":"acct-one","bucketTypes":["all","snapshot"]}`, "bad_request", "bucketTypes"},
		{"unknown type", `{"accountId":"acct-one","bucketTypes":["weird"]}`, "bad_request", "bucketTypes[0]"},
		{"types as a string", `{"accountId":"acct-one","bucketTypes":"all"}`, "bad_request", "bucketTypes must be an array"},
		{"no accountId", `{}`, "bad_request", "accountId is required"},
		{"unknown field", `{"accountId":"acct-one","prefix":"x"}`, "bad_request", "prefix"},
		{"malformed JSON", `{"accountId":`, "bad_json", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, tok, "/b2api/v3/b2_list_buckets", tc.body), 400, tc.code, tc.msg)
		})
	}
	t.Run("GET malformed JSON parameter", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/b2api/v2/b2_list_buckets?"+queryEscape(`accountId=acct-one&bucketTypes=["all"`), nil)
		r.Header.Set("Authorization", tok)
		wantError(t, serve(h, r), 400, "bad_json", "bucketTypes")
	})
}

// queryEscape escapes the values of a raw a=b&c=d string.
func queryEscape(raw string) string {
	v := url.Values{}
	for pair := range strings.SplitSeq(raw, "&") {
		k, val, _ := strings.Cut(pair, "=")
		v.Add(k, val)
	}
	return v.Encode()
}

func TestListBucketsRestrictedKey(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "reader-id", "reader-secret")
	alpha := bucketID(t, h, "alpha-bucket")
	for _, tc := range []struct {
		name, version, body string
		want                []string // nil: 401 unauthorized
	}{
		{"v1 narrows silently", "v1", `{"accountId":"acct-one"}`, []string{"alpha-bucket"}},
		{"v1 other bucket is absent", "v1", `{"accountId":"acct-one","bucketName":"beta-bucket"}`, []string{}},
		{"v2 must name the bucket", "v2", `{"accountId":"acct-one"}`, nil},
		{"v3 must name the bucket", "v3", `{"accountId":"acct-one","bucketTypes":["all"]}`, nil},
		{"v4 other bucket", "v4", `{"accountId":"acct-one","bucketName":"beta-bucket"}`, nil},
		{"v2 by id", "v2", `{"accountId":"acct-one","bucketId":"` + alpha + `"}`, []string{"alpha-bucket"}},
		{"v3 by name in any case", "v3", `{"accountId":"acct-one","bucketName":"Alpha-Bucket"}`, []string{"alpha-bucket"}},
		{"v4 by id", "v4", `{"accountId":"acct-one","bucketId":"` + alpha + `"}`, []string{"alpha-bucket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/b2api/" + tc.version + "/b2_list_buckets"
			if tc.want == nil {
				wantError(t, post(h, tok, path, tc.body), 401, "unauthorized", "restricted")
				return
			}
			if got := names(listBuckets(t, h, tok, path, tc.body)); !slices.Equal(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUpdateReplacesEachSettingWhole(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "master-id", "master-secret")
	id := bucketID(t, h, "alpha-bucket")
	update := func(body string) map[string]any {
		t.Helper()
		return wantOK(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"accountId":"acct-one","bucketId":"`+id+`",`+body+`}`))
	}
	cors := `[{"corsRuleName":"downloadFromAnyOrigin","allowedOrigins":["https"],"allowedHeaders":["range"],"allowedOperations":["b2_download_file_by_id"],"exposeHeaders":["x-bz-content-sha1"],"maxAgeSeconds":3600}]`
	b := update(`"bucketInfo":{"a":"1","b":"2"},"corsRules":` + cors + `,"lifecycleRules":[{"fileNamePrefix":"","daysFromUploadingToHiding":3}]`)
	if b["revision"] != float64(2) || jsonOf(t, b["bucketInfo"]) != `{"a":"1","b":"2"}` || jsonOf(t, b["corsRules"]) != canon(t, cors) {
		t.Fatalf("first update %v", b)
	}
	b = update(`"bucketInfo":{"c":"3"}`)
	if b["revision"] != float64(3) || jsonOf(t, b["bucketInfo"]) != `{"c":"3"}` || jsonOf(t, b["corsRules"]) != canon(t, cors) || len(b["lifecycleRules"].([]any)) != 1 {
		t.Fatalf("bucketInfo was not replaced whole, or other settings changed: %v", b)
	}
	b = update(`"corsRules":[],"lifecycleRules":[],"bucketInfo":{}`)
	if b["revision"] != float64(4) || jsonOf(t, b["corsRules"]) != `[]` || jsonOf(t, b["lifecycleRules"]) != `[]` || jsonOf(t, b["bucketInfo"]) != `{}` {
		t.Fatalf("empty settings did not clear: %v", b)
	}
	// Naming nothing still counts as an update.
	if b = update(`"bucketType":"allPrivate"`); b["revision"] != float64(5) {
		t.Errorf("revision %v, want 5", b["revision"])
	}
}

func TestUpdateIfRevisionIs(t *testing.T) {
	h := newEmulator(t, func(h *Emulator) { h.InitialRevision = 7 })
	tok := login(t, h, "master-id", "master-secret")
	id := bucketID(t, h, "alpha-bucket")
	path := "/b2api/v3/b2_update_bucket"
	if b := getBucket(t, h, tok, id); b["revision"] != float64(7) {
		t.Fatalf("initial revision %v, want the configured 7", b["revision"])
	}
	wantOK(t, post(h, tok, path, `{"bucketId":"`+id+`","bucketInfo":{"first":"yes"},"ifRevisionIs":7}`))
	rec := post(h, tok, path, `{"bucketId":"`+id+`","bucketInfo":{"second":"yes"},"ifRevisionIs":7}`)
	wantError(t, rec, http.StatusConflict, "conflict", "simultaneous updates to bucket")
	if rec.Body.String() != `{"status":409,"code":"conflict","message":"simultaneous updates to bucket"}` {
		t.Errorf("conflict body %s", rec.Body)
	}
	b := getBucket(t, h, tok, id)
	if b["revision"] != float64(8) || jsonOf(t, b["bucketInfo"]) != `{"first":"yes"}` {
		t.Errorf("after the conflict: %v", b)
	}
	wantError(t, post(h, tok, path, `{"bucketId":"`+id+`","ifRevisionIs":9}`), http.StatusConflict, "conflict", "")
	wantOK(t, post(h, tok, path, `{"bucketId":"`+id+`","ifRevisionIs":8}`))
}

func TestUpdateBucketState(t *testing.T) {
	sourceRepl := `{"asReplicationSource":{"sourceApplicationKeyId":"key-1","replicationRules":[{"destinationBucketId":"dest","replicationRuleName":"rule-1"}]}}`
	retention := `{"mode":"governance","period":{"duration":30,"unit":"days"}}`
	for _, tc := range []struct {
		name, bucket, setup, body string
		status                    int
		code                      string
		check                     string // expected fileLockConfiguration when 200
	}{
		{name: "false on unlocked is a no-op", bucket: "alpha-bucket", body: `"fileLockEnabled":false`, status: 200,
			check: `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":null,"period":null},"isFileLockEnabled":false}}`},
		{name: "true turns it on", bucket: "alpha-bucket", body: `"fileLockEnabled":true`, status: 200,
			check: `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":null,"period":null},"isFileLockEnabled":true}}`},
		{name: "true and retention at once", bucket: "alpha-bucket", body: `"fileLockEnabled":true,"defaultRetention":` + retention, status: 200,
			check: `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":"governance","period":{"duration":30,"unit":"days"}},"isFileLockEnabled":true}}`},
		{name: "retention on unlocked", bucket: "alpha-bucket", body: `"defaultRetention":` + retention, status: 400, code: "bucket_missing_file_lock"},
		{name: "false on locked", bucket: "locked-bucket", body: `"fileLockEnabled":false`, status: 400, code: "file_lock_conflict"},
		{name: "true on locked is a no-op", bucket: "locked-bucket", body: `"fileLockEnabled":true`, status: 200,
			check: `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":null,"period":null},"isFileLockEnabled":true}}`},
		{name: "retention on locked", bucket: "locked-bucket", body: `"defaultRetention":` + retention, status: 200,
			check: `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":"governance","period":{"duration":30,"unit":"days"}},"isFileLockEnabled":true}}`},
		{name: "retention off on locked", bucket: "locked-bucket", setup: `"defaultRetention":` + retention, body: `"defaultRetention":{"mode":null}`, status: 200,
			check: `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":null,"period":null},"isFileLockEnabled":true}}`},
		{name: "lock on a replication source", bucket: "beta-bucket", setup: `"replicationConfiguration":` + sourceRepl, body: `"fileLockEnabled":true`, status: 400, code: "source_replication_conflict"},
		{name: "lock while becoming a replication source", bucket: "beta-bucket", body: `"fileLockEnabled":true,"replicationConfiguration":` + sourceRepl, status: 400, code: "source_replication_conflict"},
		{name: "lock while clearing replication", bucket: "beta-bucket", setup: `"replicationConfiguration":` + sourceRepl,
			body: `"fileLockEnabled":true,"replicationConfiguration":{"asReplicationSource":null,"asReplicationDestination":null}`, status: 200,
			check: `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":null,"period":null},"isFileLockEnabled":true}}`},
		{name: "lock on a snapshot bucket", bucket: "snap-bucket", body: `"fileLockEnabled":true`, status: 400, code: "restricted_bucket_conflict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newEmulator(t)
			tok := login(t, h, "master-id", "master-secret")
			id := bucketID(t, h, tc.bucket)
			path := "/b2api/v3/b2_update_bucket"
			if tc.setup != "" {
				wantOK(t, post(h, tok, path, `{"bucketId":"`+id+`",`+tc.setup+`}`))
			}
			before := getBucket(t, h, tok, id)
			rec := post(h, tok, path, `{"bucketId":"`+id+`",`+tc.body+`}`)
			if tc.status != 200 {
				wantError(t, rec, tc.status, tc.code, "")
				if after := getBucket(t, h, tok, id); !reflect.DeepEqual(after, before) {
					t.Errorf("a refused update changed the bucket:\n%v\n%v", before, after)
				}
				return
			}
			b := wantOK(t, rec)
			if got := jsonOf(t, b["fileLockConfiguration"]); got != tc.check {
				t.Errorf("fileLockConfiguration %s\nwant %s", got, tc.check)
			}
			if b["revision"] != before["revision"].(float64)+1 {
				t.Errorf("revision %v after %v", b["revision"], before["revision"])
			}
		})
	}
}

func TestUpdateBucketIDErrors(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "master-id", "master-secret")
	gamma := bucketID(t, h, "gamma-bucket")
	wantError(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"000000000000000000000000","bucketType":"allPublic"}`), 400, "bad_bucket_id", "Bucket 000000000000000000000000 does not exist")
	// Another account's bucket is indistinguishable from a missing one.
	wantError(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"accountId":"acct-one","bucketId":"`+gamma+`","bucketType":"allPublic"}`), 400, "bad_bucket_id", gamma)
	wantError(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketType":"allPublic"}`), 400, "bad_request", "bucketId is required")
}

func TestReadCapabilityFiltering(t *testing.T) {
	h := newEmulator(t, func(h *Emulator) {
		h.Accounts[0].Keys = append(h.Accounts[0].Keys,
			Key{ID: "sse-id", Secret: "sse-secret", Capabilities: []string{"listBuckets", "readBucketEncryption"}},
			Key{ID: "ret-id", Secret: "ret-secret", Capabilities: []string{"listBuckets", "readBucketRetentions", "readBucketReplications"}})
	})
	master := login(t, h, "master-id", "master-secret")
	locked := bucketID(t, h, "locked-bucket")
	wantOK(t, post(h, master, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+locked+`",
		"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"},
		"defaultRetention":{"mode":"governance","period":{"duration":30,"unit":"days"}},
		"replicationConfiguration":{"asReplicationDestination":{"sourceToDestinationKeyMapping":{"src-key":"dst-key"}}}}`))

	const (
		hidden = `{"isClientAuthorizedToRead":false,"value":null}`
		sse    = `{"isClientAuthorizedToRead":true,"value":{"algorithm":"AES256","mode":"SSE-B2"}}`
		lock   = `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":"governance","period":{"duration":30,"unit":"days"}},"isFileLockEnabled":true}}`
		repl   = `{"isClientAuthorizedToRead":true,"value":{"asReplicationDestination":{"sourceToDestinationKeyMapping":{"src-key":"dst-key"}},"asReplicationSource":null}}`
	)
	for _, tc := range []struct {
		key, secret, sse, lock, repl string
	}{
		{"master-id", "master-secret", sse, lock, repl},
		{"writer-id", "writer-secret", hidden, hidden, hidden},
		{"sse-id", "sse-secret", sse, hidden, hidden},
		{"ret-id", "ret-secret", hidden, lock, repl},
	} {
		t.Run(tc.key, func(t *testing.T) {
			b := getBucket(t, h, login(t, h, tc.key, tc.secret), locked)
			for field, want := range map[string]string{"defaultServerSideEncryption": tc.sse, "fileLockConfiguration": tc.lock, "replicationConfiguration": tc.repl} {
				if got := jsonOf(t, b[field]); got != want {
					t.Errorf("%s %s, want %s", field, got, want)
				}
			}
		})
	}
	// The answer to an update is filtered by the caller's capabilities too.
	writer := login(t, h, "writer-id", "writer-secret")
	b := wantOK(t, post(h, writer, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+locked+`","bucketType":"allPublic"}`))
	if jsonOf(t, b["defaultServerSideEncryption"]) != hidden || jsonOf(t, b["fileLockConfiguration"]) != hidden {
		t.Errorf("update answer not filtered: %v", b)
	}
	// Settings that are off are still shown, as nulls, to those who may read them.
	alpha := getBucket(t, h, master, bucketID(t, h, "alpha-bucket"))
	for field, want := range map[string]string{
		"defaultServerSideEncryption": `{"isClientAuthorizedToRead":true,"value":{"algorithm":null,"mode":null}}`,
		"fileLockConfiguration":       `{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":null,"period":null},"isFileLockEnabled":false}}`,
		"replicationConfiguration":    `{"isClientAuthorizedToRead":true,"value":null}`,
	} {
		if got := jsonOf(t, alpha[field]); got != want {
			t.Errorf("unset %s %s, want %s", field, got, want)
		}
	}
}

func TestUpdateViaGET(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "master-id", "master-secret")
	id := bucketID(t, h, "alpha-bucket")
	get := func(q url.Values) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/b2api/v1/b2_update_bucket?"+q.Encode(), nil)
		r.Header.Set("Authorization", tok)
		return serve(h, r)
	}
	q := url.Values{
		"accountId":      {acctOne},
		"bucketId":       {id},
		"bucketType":     {"allPublic"},
		"ifRevisionIs":   {"1"},
		"bucketInfo":     {`{"via":"get"}`},
		"lifecycleRules": {`[{"fileNamePrefix":"tmp/","daysFromUploadingToHiding":1,"daysFromHidingToDeleting":null}]`},
	}
	b := wantOK(t, get(q))
	if b["revision"] != float64(2) || b["bucketType"] != "allPublic" || jsonOf(t, b["bucketInfo"]) != `{"via":"get"}` || len(b["lifecycleRules"].([]any)) != 1 {
		t.Fatalf("GET update %v", b)
	}
	wantError(t, get(q), http.StatusConflict, "conflict", "")

	for _, tc := range []struct {
		name        string
		set         url.Values
		code, msg   string
		removeField string
	}{
		{name: "revision as a JSON string", set: url.Values{"ifRevisionIs": {`"2"`}}, code: "bad_request", msg: "ifRevisionIs must be an integer"},
		{name: "malformed JSON", set: url.Values{"bucketInfo": {`{"a":`}}, code: "bad_json", msg: "bucketInfo"},
		{name: "unknown parameter", set: url.Values{"colour": {"blue"}}, code: "bad_request", msg: "colour"},
		{name: "repeated parameter", set: url.Values{"bucketType": {"allPublic", "allPrivate"}}, code: "bad_request", msg: "bucketType"},
		{name: "missing bucketId", removeField: "bucketId", code: "bad_request", msg: "bucketId is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"bucketId": {id}, "ifRevisionIs": {"2"}}
			for k, v := range tc.set {
				q[k] = v
			}
			q.Del(tc.removeField)
			wantError(t, get(q), 400, tc.code, tc.msg)
		})
	}
}

// TestCreateAndDeleteViaGET covers the GET form B2 documents for both calls:
// the body's parameters in the query string, settings as JSON text.
func TestCreateAndDeleteViaGET(t *testing.T) {
	h := newEmulator(t)
	get := func(token, call string, q url.Values) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/b2api/v2/"+call+"?"+q.Encode(), nil)
		r.Header.Set("Authorization", token)
		return serve(h, r)
	}
	tok := login(t, h, "master-id", "master-secret")
	create := url.Values{"accountId": {acctOne}, "bucketName": {"Via-Get-Bucket"}, "bucketType": {"allPublic"},
		"bucketInfo": {`{"via":"get"}`}, "fileLockEnabled": {"true"}}
	b := wantOK(t, get(tok, "b2_create_bucket", create))
	checkBucketShape(t, b)
	if b["bucketName"] != "Via-Get-Bucket" || jsonOf(t, b["bucketInfo"]) != `{"via":"get"}` ||
		!strings.Contains(jsonOf(t, b["fileLockConfiguration"]), `"isFileLockEnabled":true`) {
		t.Fatalf("GET create %v", b)
	}
	wantError(t, get(tok, "b2_create_bucket", create), 400, "duplicate_bucket_name", "")
	wantError(t, get(login(t, h, "nolist-id", "nolist-secret"), "b2_create_bucket", url.Values{"accountId": {acctOne}, "bucketName": {"other-bucket"}, "bucketType": {"allPrivate"}}),
		http.StatusUnauthorized, "unauthorized", "writeBuckets")

	id := b["bucketId"].(string)
	del := url.Values{"accountId": {acctOne}, "bucketId": {id}}
	wantError(t, get(login(t, h, "remover-id", "remover-secret"), "b2_delete_bucket", del), http.StatusUnauthorized, "unauthorized", "restricted")
	if d := wantOK(t, get(tok, "b2_delete_bucket", del)); d["bucketId"] != id {
		t.Fatalf("GET delete %v", d)
	}
	wantError(t, get(tok, "b2_delete_bucket", del), 400, "bad_bucket_id", id)
}

func TestConcurrentUpdates(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "master-id", "master-secret")
	id := bucketID(t, h, "alpha-bucket")
	const n = 24

	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			rec := post(h, tok, "/b2api/v3/b2_update_bucket", fmt.Sprintf(`{"bucketId":"%s","ifRevisionIs":1,"bucketInfo":{"writer":"%d"}}`, id, i))
			codes[i] = rec.Code
			if rec.Code == http.StatusConflict && decode(t, rec)["code"] != "conflict" {
				t.Errorf("409 body %s", rec.Body)
			}
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, c := range codes {
		switch c {
		case http.StatusOK:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both won", winner, i)
			}
			winner = i
		case http.StatusConflict:
		default:
			t.Fatalf("writer %d got %d", i, c)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	b := getBucket(t, h, tok, id)
	if b["revision"] != float64(2) || jsonOf(t, b["bucketInfo"]) != `{"writer":"`+strconv.Itoa(winner)+`"}` {
		t.Errorf("final bucket %v, want the winner %d's at revision 2", b, winner)
	}

	// Without a precondition every update lands, one revision each.
	start = make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if rec := post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+id+`","bucketType":"allPublic"}`); rec.Code != http.StatusOK {
				t.Errorf("unconditional update: %d %s", rec.Code, rec.Body)
			}
		})
	}
	close(start)
	wg.Wait()
	if b := getBucket(t, h, tok, id); b["revision"] != float64(2+n) {
		t.Errorf("revision %v after %d more updates, want %d", b["revision"], n, 2+n)
	}
}

// The compare-and-set above holds only if no change to a bucket can start
// while another is between reading the bucket and committing; a slow change
// makes any gap show up as a lost update.
func TestChangesToOneBucketAreSerialised(t *testing.T) {
	h := newEmulator(t)
	id := bucketID(t, h, "alpha-bucket")
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, aerr := h.store.update(acctOne, id, func(cur *bucket) (*bucket, *apiError) {
				next := *cur
				time.Sleep(time.Millisecond)
				next.Revision = cur.Revision + 1
				return &next, nil
			})
			if aerr != nil {
				t.Errorf("change refused: %s %s", aerr.code, aerr.message)
			}
		})
	}
	wg.Wait()
	if b := getBucket(t, h, login(t, h, "master-id", "master-secret"), id); b["revision"] != float64(1+n) {
		t.Errorf("revision %v after %d changes, want %d", b["revision"], n, 1+n)
	}
}
