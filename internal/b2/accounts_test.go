package b2

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// TestGrantShapes: each version's sign-in answer has that version's shape
// (clients built for one break on another's), and reads back the same.
func TestGrantShapes(t *testing.T) {
	d := newDialect(t)
	one := dialect.Grant{Token: "bg1_x", AccountID: "acct", APIURL: "https://gw.example", DownloadURL: "https://gw.example",
		S3APIURL: "https://s3.example", Capabilities: []string{"listBuckets", "writeBuckets"}, Buckets: []dialect.BucketRef{{ID: "b1", Name: "one"}}}
	cases := []struct {
		version string
		present []string // paths that must exist
		absent  []string // paths that must not
	}{
		{"v1", []string{"apiUrl", "minimumPartSize", "allowed.bucketId", "allowed.capabilities", "recommendedPartSize"}, []string{"apiInfo", "allowed.bucketName"}},
		{"v2", []string{"apiUrl", "allowed.bucketId", "allowed.bucketName", "absoluteMinimumPartSize"}, []string{"apiInfo", "minimumPartSize"}},
		{"v3", []string{"apiInfo.storageApi.apiUrl", "apiInfo.storageApi.bucketId", "apiInfo.storageApi.infoType", "apiInfo.storageApi.capabilities", "applicationKeyExpirationTimestamp"}, []string{"apiUrl", "allowed", "apiInfo.storageApi.allowed"}},
		{"v4", []string{"apiInfo.storageApi.apiUrl", "apiInfo.storageApi.allowed.buckets.0.id", "apiInfo.storageApi.allowed.buckets.0.name", "apiInfo.storageApi.allowed.capabilities"}, []string{"apiUrl", "apiInfo.storageApi.bucketId", "apiInfo.storageApi.infoType"}},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		d.WriteGrant(rec, dialect.Call{Op: dialect.OpAuthorize, Version: tc.version}, one)
		body := rec.Body.Bytes()
		for _, p := range tc.present {
			if !gjson.GetBytes(body, p).Exists() {
				t.Errorf("%s: %s missing in %s", tc.version, p, body)
			}
		}
		for _, p := range tc.absent {
			if gjson.GetBytes(body, p).Exists() {
				t.Errorf("%s: %s present in %s", tc.version, p, body)
			}
		}
		got, err := d.ReadGrant(dialect.NewAnswer(200, body))
		if err != nil {
			t.Fatalf("%s: %v", tc.version, err)
		}
		want := one
		if tc.version == "v1" {
			want.Buckets = []dialect.BucketRef{{ID: "b1"}} // v1 has no bucketName
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read back %+v, want %+v", tc.version, got, want)
		}
	}

	// Unrestricted keys list no bucket, in every shape.
	rec := httptest.NewRecorder()
	all := one
	all.Buckets = nil
	d.WriteGrant(rec, dialect.Call{Version: "v4"}, all)
	if !strings.Contains(rec.Body.String(), `"buckets":null`) {
		t.Errorf("unrestricted v4 grant: %s", rec.Body)
	}

	// A key allowed several buckets signs in on v4 only; older shapes would
	// show it as unrestricted ("bucketId": null).
	several := one
	several.Buckets = []dialect.BucketRef{{ID: "b1", Name: "one"}, {ID: "b2", Name: "two"}}
	for _, v := range []string{"v1", "v2", "v3"} {
		rec := httptest.NewRecorder()
		derr := d.WriteGrant(rec, dialect.Call{Version: v}, several)
		if derr == nil || derr.Kind != dialect.Unsupported || rec.Body.Len() != 0 {
			t.Errorf("%s: %v, wrote %s", v, derr, rec.Body)
		}
	}
	rec = httptest.NewRecorder()
	if derr := d.WriteGrant(rec, dialect.Call{Version: "v4"}, several); derr != nil || gjson.Get(rec.Body.String(), "apiInfo.storageApi.allowed.buckets.#").Int() != 2 {
		t.Errorf("v4: %v %s", derr, rec.Body)
	}
	// Buckets of another API (no name here) do not count.
	elsewhere := one
	elsewhere.Buckets = []dialect.BucketRef{{ID: "b1", Name: "one"}, {ID: "11111111-0000-0000-0000-000000000001"}}
	rec = httptest.NewRecorder()
	if derr := d.WriteGrant(rec, dialect.Call{Version: "v3"}, elsewhere); derr != nil || gjson.Get(rec.Body.String(), "apiInfo.storageApi.bucketId").String() != "b1" {
		t.Errorf("v3 with one bucket here: %v %s", derr, rec.Body)
	}
	rec = httptest.NewRecorder()
	d.WriteError(rec, dialect.NewError(dialect.Unsupported, "x"))
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), `"code":"unsupported"`) {
		t.Errorf("unsupported as B2 words it: %d %s", rec.Code, rec.Body)
	}
}

func TestRedirectGrant(t *testing.T) {
	d := newDialect(t)
	for _, body := range []string{
		`{"accountId":"a","apiUrl":"https://api005.backblazeb2.com","authorizationToken":"t","downloadUrl":"https://f005.backblazeb2.com","recommendedPartSize":100000000}`,
		`{"accountId":"a","authorizationToken":"t","apiInfo":{"storageApi":{"apiUrl":"https://api005.backblazeb2.com","downloadUrl":"https://f005.backblazeb2.com","recommendedPartSize":100000000}}}`,
	} {
		out, err := d.RedirectGrant(dialect.NewAnswer(200, []byte(body)), "https://gw.example")
		if err != nil {
			t.Fatal(err)
		}
		g, err := d.ReadGrant(dialect.NewAnswer(200, out))
		if err != nil || g.APIURL != "https://gw.example" || g.DownloadURL != "https://f005.backblazeb2.com" || g.Token != "t" {
			t.Errorf("redirected %s: %+v %v", out, g, err)
		}
		if !strings.Contains(string(out), "100000000") {
			t.Errorf("numbers changed: %s", out)
		}
	}
	if _, err := d.RedirectGrant(dialect.NewAnswer(200, []byte(`{"accountId":"a"}`)), "x"); err == nil {
		t.Error("an answer without apiUrl was redirected")
	}
}

func TestNeedsAndPublic(t *testing.T) {
	d := newDialect(t)
	for _, tc := range []struct {
		doc   string
		needs []string
	}{
		{`{"bucketId":"b","bucketInfo":{}}`, []string{"writeBuckets"}},
		{`{"defaultServerSideEncryption":{}}`, []string{"writeBuckets", "writeBucketEncryption"}},
		{`{"defaultRetention":{}}`, []string{"writeBuckets", "writeBucketRetentions"}},
		{`{"fileLockEnabled":true}`, []string{"writeBuckets", "writeBucketRetentions"}},
		{`{"fileLockEnabled":false}`, []string{"writeBuckets"}},
		{`{"replicationConfiguration":{}}`, []string{"writeBuckets", "writeBucketReplications"}},
		// b2-sdk-java's nulls are settings not sent, and need nothing.
		{`{"defaultServerSideEncryption":null,"defaultRetention":null,"fileLockEnabled":null,"replicationConfiguration":null}`, []string{"writeBuckets"}},
	} {
		for _, u := range bothForms(t, tc.doc) {
			if got := d.Needs(u); !reflect.DeepEqual(got, tc.needs) {
				t.Errorf("%v: needs %v, want %v", tc.doc, got, tc.needs)
			}
		}
	}
	for _, u := range bothForms(t, `{"bucketType":"allPublic"}`) {
		if !d.MakesPublic(u) {
			t.Error("MakesPublic: allPublic")
		}
	}
	for _, u := range bothForms(t, `{"bucketType":"allPrivate"}`) {
		if d.MakesPublic(u) {
			t.Error("MakesPublic: allPrivate")
		}
	}
}

// bothForms returns the update doc as received (read from its tree) and as
// built (read from its map), so that a lookup is tested on both.
func bothForms(t *testing.T, doc string) []*dialect.Document {
	t.Helper()
	tree, err := jsonscan.Parse([]byte(doc), jsonscan.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return []*dialect.Document{dialect.NewDocument(dialect.Call{}, tree, []byte(doc)), dialect.BuildDocument(dialect.Call{}, tree.Any().(map[string]any))}
}

func TestTokenRefused(t *testing.T) {
	d := newDialect(t)
	for _, tc := range []struct {
		status int
		body   string
		want   bool
	}{
		{401, `{"status":401,"code":"expired_auth_token","message":""}`, true},
		{401, `{"status":401,"code":"bad_auth_token","message":""}`, true},
		{401, ``, true},
		{401, `{"status":401,"code":"unauthorized","message":""}`, false},
		{400, `{"status":400,"code":"bad_request","message":""}`, false},
	} {
		if got := d.TokenRefused(dialect.NewAnswer(tc.status, []byte(tc.body))); got != tc.want {
			t.Errorf("%d %s: %v", tc.status, tc.body, got)
		}
	}
}

func TestListCall(t *testing.T) {
	d := newDialect(t)
	for _, tc := range []struct {
		method, target, body string
		ok                   bool
	}{
		{"POST", "/b2api/v3/b2_list_buckets", `{"accountId":"a","bucketId":null,"bucketName":null,"bucketTypes":["all"]}`, true},
		{"GET", "/b2api/v2/b2_list_buckets?accountId=a&bucketName=demo-bucket&bucketTypes=%5B%22allPrivate%22%5D", ``, true},
		{"POST", "/b2api/v3/b2_list_buckets", `{"accountId":"a","bucketTypes":[]}`, false},
		{"POST", "/b2api/v3/b2_list_buckets", `{"accountId":"a","prefix":"x"}`, false},
	} {
		r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		call, _ := d.Match(r)
		_, err := d.DecodeList(r, call, bodyOf([]byte(tc.body)))
		if (err == nil) != tc.ok {
			t.Errorf("%s %s %s: %v", tc.method, tc.target, tc.body, err)
		}
	}
}

func TestFilterList(t *testing.T) {
	d := newDialect(t)
	list := `{"buckets":[{"bucketId":"b1","bucketName":"one","revision":3,"defaultServerSideEncryption":{"isClientAuthorizedToRead":true,"value":{"mode":"SSE-B2"}}},{"bucketId":"b2","bucketName":"two"}]}`
	out, err := d.FilterList(dialect.NewAnswer(200, []byte(list)), func(id string) bool { return id == "b1" }, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	want := `{"buckets":[{"bucketId":"b1","bucketName":"one","defaultServerSideEncryption":{"isClientAuthorizedToRead":false,"value":null},"revision":3}]}`
	if string(out) != want {
		t.Errorf("got %s\nwant %s", out, want)
	}
	buckets, derr := d.ReadBuckets(dialect.NewAnswer(200, []byte(list)))
	if derr != nil || len(buckets) != 2 || buckets[0].ProviderName != "one" || buckets[1].ID != "b2" || buckets[0].Revision != 3 {
		t.Errorf("read %+v %v", buckets, derr)
	}
}

// FuzzFilterList: whatever B2's list holds, a key is shown only the buckets
// it may see, with the settings it may not read hidden, and an answer that
// repeats a key anywhere is refused whole: the bucket shown is the bucket
// approved, from one parse.
func FuzzFilterList(f *testing.F) {
	bucket := `{"bucketId":"b1","bucketName":"one","defaultServerSideEncryption":{"isClientAuthorizedToRead":true,"value":{"mode":"SSE-B2"}}}`
	f.Add([]byte(`{"buckets":[` + bucket + `,{"bucketId":"b2"}]}`))
	f.Add([]byte(`{"buckets":[]}`))
	f.Add([]byte(`{"buckets":[{"bucketId":"b2","bucketId":"b1"}]}`))
	f.Add([]byte(`{"buckets":[{"bucketId":"b1"}],"buckets":[{"bucketId":"b2"}]}`))
	f.Add([]byte(`{"buckets":[{"bucketId":"b1","defaultServerSideEncryption":{"value":1,"value":2}}]}`))
	f.Add([]byte(`{"nextBucketId":null,"nextBucketId":"b2","buckets":[]}`))
	d := newDialect(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		out, derr := d.FilterList(dialect.NewAnswer(200, body), func(id string) bool { return id == "b1" }, func(string) bool { return false })
		if derr != nil {
			return
		}
		if _, err := jsonscan.Parse(body, jsonscan.Limits{MaxDepth: 32, MaxNumberLen: 64}); err != nil {
			t.Fatalf("an answer the strict parse refuses was filtered: %s -> %s (%v)", body, out, err)
		}
		var list struct {
			Buckets []map[string]json.RawMessage `json:"buckets"`
		}
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatalf("%s -> %s: %v", body, out, err)
		}
		for _, b := range list.Buckets {
			var id string
			if json.Unmarshal(b["bucketId"], &id) != nil || id != "b1" {
				t.Fatalf("a bucket the key may not see is shown: %s -> %s", body, out)
			}
			if enc, ok := b["defaultServerSideEncryption"]; ok && string(enc) != `{"isClientAuthorizedToRead":false,"value":null}` {
				t.Fatalf("encryption settings shown to a key that may not read them: %s", out)
			}
		}
	})
}
