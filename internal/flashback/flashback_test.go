package flashback

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// seedBody is the example body of the PUT /bucket/{bucketId} documentation.
const seedBody = `{
  "name": "Updated Backup Bucket",
  "storageType": "S3",
  "bucket": "my-updated-bucket",
  "key": "AKIAIOSFODNN7EXAMPLE",
  "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "region": "us-west-2",
  "endpoint": "https://s3.us-west-2.amazonaws.com",
  "workspaceId": "workspace-123"
}`

const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

func newDialect(t testing.TB) *Dialect {
	t.Helper()
	d, err := New(dialect.Options{Limits: jsonscan.DefaultLimits})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func update(d *Dialect, path, body string) *dialect.Error {
	r := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
	call, ok := d.Match(r)
	if !ok {
		return dialect.NewError(0, "not matched")
	}
	u, err := d.Decode(r, call, func() ([]byte, *dialect.Error) { return []byte(body), nil })
	if err != nil {
		return err
	}
	return d.Validate(u)
}

const bucketPath = "/bucket/11111111-2222-3333-4444-555555555555"

func TestAccepts(t *testing.T) {
	d := newDialect(t)
	for name, body := range map[string]string{
		"seed example":        seedBody,
		"docs JavaScript":     `{"name":"Updated Backup Bucket","region":"us-west-2","endpoint":"https://s3.us-west-2.amazonaws.com"}`,
		"name only":           `{"name":"Backups"}`,
		"rotate credentials":  `{"key":"AKIAIOSFODNN7EXAMPLE","secret":"` + secret + `"}`,
		"GCS bucket":          `{"storageType":"GCS","bucket":"my.bucket-1.example","region":"europe-west4"}`,
		"Azure container":     `{"storageType":"BLOB","bucket":"backup-2024","region":"westeurope"}`,
		"bucket alone":        `{"bucket":"any-provider.name"}`,
		"move workspace":      `{"workspaceId":"ws_2"}`,
		"api key reference":   `{"apiKeyUuid":"0f8fad5b-d9cb-469f-a165-70867728950e"}`,
		"wallet":              `{"walletAddress":"GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H"}`,
		"http to loopback":    `{"endpoint":"http://127.0.0.1:9000"}`,
		"http to localhost":   `{"endpoint":"http://localhost:9000/minio"}`,
		"http to IPv6 loop":   `{"endpoint":"http://[::1]:9000"}`,
		"S3-compatible B2":    `{"storageType":"S3","bucket":"demo-bucket","endpoint":"https://s3.us-west-004.backblazeb2.com","region":"us-west-004"}`,
		"upper-case scheme":   `{"endpoint":"HTTPS://storage.example.com"}`,
		"multi-region region": `{"region":"US"}`,
		"default endpoint":    `{"endpoint":""}`,
		"http on premises":    `{"storageType":"S3","endpoint":"http://minio.internal:9000"}`,
		"any region string":   `{"region":"auto"}`,
		"empty region":        `{"region":""}`,
		"GCS underscores":     `{"storageType":"GCS","bucket":"my_bucket_01"}`,
		"GCS dotted 222":      `{"storageType":"GCS","bucket":"` + strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("b", 30) + `"}`,
		"Azure $root":         `{"storageType":"BLOB","bucket":"$root"}`,
		"Azure $web":          `{"storageType":"BLOB","bucket":"$web"}`,
		"upper-case UUID":     `{"apiKeyUuid":"0F8FAD5B-D9CB-469F-A165-70867728950E"}`,
		"underscore no type":  `{"bucket":"my_bucket"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if err := update(d, bucketPath, body); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

func TestRefuses(t *testing.T) {
	d := newDialect(t)
	cases := []struct {
		name, path, body string
		kind             dialect.Kind
		want             string
	}{
		{"empty object", bucketPath, `{}`, dialect.BadRequest, "names no field to change"},
		{"empty body", bucketPath, ``, dialect.BadJSON, "empty"},
		{"array body", bucketPath, `[]`, dialect.BadJSON, "must be a JSON object"},
		{"malformed", bucketPath, `{"name":}`, dialect.BadJSON, "not valid JSON"},
		{"duplicate key", bucketPath, `{"name":"a","name":"b"}`, dialect.BadRequest, "duplicate key at name"},
		{"unknown field", bucketPath, `{"name":"a","bucketName":"x"}`, dialect.BadRequest, "bucketName: is not an allowed field"},
		{"id field in body", bucketPath, `{"id":"x"}`, dialect.BadRequest, "id: is not an allowed field"},
		{"name empty", bucketPath, `{"name":""}`, dialect.BadRequest, "name: must be at least 1"},
		{"name too long", bucketPath, `{"name":"` + strings.Repeat("n", 256) + `"}`, dialect.BadRequest, "name: must be at most 255"},
		{"name not string", bucketPath, `{"name":42}`, dialect.BadRequest, "name: must be of type string"},
		{"storageType unknown", bucketPath, `{"storageType":"B2"}`, dialect.BadRequest, "storageType: must be one of S3, GCS, BLOB"},
		{"storageType lower case", bucketPath, `{"storageType":"s3"}`, dialect.BadRequest, "storageType: must be one of"},
		{"storageType AZURE", bucketPath, `{"storageType":"AZURE"}`, dialect.BadRequest, "storageType: must be one of"},
		{"bucket too short", bucketPath, `{"bucket":"ab"}`, dialect.BadRequest, "bucket: must be at least 3"},
		{"bucket too long", bucketPath, `{"bucket":"` + strings.Repeat("b", 64) + `"}`, dialect.BadRequest, "bucket: is not a valid S3 bucket, GCS bucket or Azure container name"},
		{"bucket upper case", bucketPath, `{"bucket":"MyBucket"}`, dialect.BadRequest, "bucket: is not a valid S3 bucket, GCS bucket or Azure container name"},
		{"S3 bucket underscore", bucketPath, `{"storageType":"S3","bucket":"my_bucket"}`, dialect.BadRequest, "bucket: is not a valid S3 bucket name"},
		{"S3 bucket double dot", bucketPath, `{"storageType":"S3","bucket":"my..bucket"}`, dialect.BadRequest, "bucket: is not a valid S3 bucket name"},
		{"S3 bucket IP address", bucketPath, `{"storageType":"S3","bucket":"192.168.5.4"}`, dialect.BadRequest, "bucket: is not a valid S3 bucket name"},
		{"S3 bucket dotted 64", bucketPath, `{"storageType":"S3","bucket":"` + strings.Repeat("a", 32) + "." + strings.Repeat("b", 31) + `"}`, dialect.BadRequest, "bucket: is not a valid S3 bucket name"},
		{"GCS bucket over 222", bucketPath, `{"storageType":"GCS","bucket":"` + strings.Repeat(strings.Repeat("a", 60)+".", 3) + strings.Repeat("b", 40) + `"}`, dialect.BadRequest, "bucket: must be at most 222 characters long, and is not a valid GCS bucket name"},
		{"GCS bucket part over 63", bucketPath, `{"storageType":"GCS","bucket":"` + strings.Repeat("a", 64) + `.com"}`, dialect.BadRequest, "each dot-separated part"},
		{"GCS bucket google", bucketPath, `{"storageType":"GCS","bucket":"my-google-data"}`, dialect.BadRequest, "contain \"google\""},
		{"GCS bucket goog prefix", bucketPath, `{"storageType":"GCS","bucket":"goog-data"}`, dialect.BadRequest, "begin with \"goog\""},
		{"BLOB container with dot", bucketPath, `{"storageType":"BLOB","bucket":"my.container"}`, dialect.BadRequest, "bucket: is not a valid Azure container name"},
		{"BLOB container double hyphen", bucketPath, `{"storageType":"BLOB","bucket":"my--container"}`, dialect.BadRequest, "bucket: is not a valid Azure container name"},
		{"BLOB unknown special name", bucketPath, `{"storageType":"BLOB","bucket":"$data"}`, dialect.BadRequest, "bucket: is not a valid Azure container name"},
		{"key empty", bucketPath, `{"key":""}`, dialect.BadRequest, "key: must be at least 1"},
		{"secret empty", bucketPath, `{"secret":""}`, dialect.BadRequest, "secret: must be at least 1"},
		{"secret not string", bucketPath, `{"secret":{"key":"x"}}`, dialect.BadRequest, "secret: must be of type string"},
		{"region not a string", bucketPath, `{"region":2}`, dialect.BadRequest, "region: must be of type string"},
		{"endpoint too short", bucketPath, `{"endpoint":"s3"}`, dialect.BadRequest, "endpoint: must be an absolute URL"},
		{"endpoint not a URL", bucketPath, `{"endpoint":"s3.amazonaws.com"}`, dialect.BadRequest, "endpoint: must be an absolute URL"},
		{"endpoint other scheme", bucketPath, `{"endpoint":"ftp://files.example.com"}`, dialect.BadRequest, "endpoint: must use http or https"},
		{"endpoint no host", bucketPath, `{"endpoint":"https:///path"}`, dialect.BadRequest, "endpoint: must be an absolute URL"},
		{"endpoint credentials", bucketPath, `{"endpoint":"https://AKIA:topsecret@s3.example.com"}`, dialect.BadRequest, "endpoint: must not carry credentials"},
		{"endpoint query", bucketPath, `{"endpoint":"https://s3.example.com/?x=1"}`, dialect.BadRequest, "endpoint: must not have a query or fragment"},
		{"workspaceId empty", bucketPath, `{"workspaceId":""}`, dialect.BadRequest, "workspaceId: must be at least 1"},
		{"apiKeyUuid not a UUID", bucketPath, `{"apiKeyUuid":"key-1"}`, dialect.BadRequest, "apiKeyUuid: does not have the required form"},
		{"null value", bucketPath, `{"name":null}`, dialect.BadRequest, "name: must be of type string"},
		{"bad id characters", "/bucket/abc%20def", `{"name":"a"}`, dialect.BadRequest, "bucketId in the path"},
		{"id with two segments", "/bucket/a/b", `{"name":"a"}`, dialect.BadRequest, "bucketId in the path"},
		{"id too long", "/bucket/" + strings.Repeat("a", 129), `{"name":"a"}`, dialect.BadRequest, "bucketId in the path"},
	}
	if len(cases) < 25 {
		t.Fatalf("only %d refused bodies", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := update(d, tc.path, tc.body)
			if err == nil {
				t.Fatal("accepted")
			}
			if err.Kind != tc.kind || !strings.Contains(err.Message, tc.want) {
				t.Errorf("got kind %v %q, want kind %v %q", err.Kind, err.Message, tc.kind, tc.want)
			}
		})
	}
}

func TestPathIsCheckedBeforeTheBody(t *testing.T) {
	d := newDialect(t)
	r := httptest.NewRequest(http.MethodPut, "/bucket/a..b", nil)
	call, _ := d.Match(r)
	read := false
	_, err := d.Decode(r, call, func() ([]byte, *dialect.Error) { read = true; return []byte(`{"name":"x"}`), nil })
	if err == nil || read {
		t.Errorf("err %v, body read %v", err, read)
	}
}

func TestNamesEveryFieldAndNeverTheSecret(t *testing.T) {
	d := newDialect(t)
	err := update(d, bucketPath, `{"name":"","storageType":"`+secret+`","secret":7,"key":"`+secret+`","region":["`+secret+`"],"endpoint":"http://u:`+secret+`@store.example"}`)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, f := range []string{"name:", "storageType:", "secret:", "region:", "endpoint:"} {
		if !strings.Contains(err.Message, f) {
			t.Errorf("message %q does not name %s", err.Message, f)
		}
	}
	for _, leak := range []string{secret, "wJalr", "EXAMPLEKEY"} {
		if strings.Contains(err.Message, leak) {
			t.Errorf("message echoes the secret: %s", err.Message)
		}
	}
}

func TestMatch(t *testing.T) {
	d := newDialect(t)
	for _, tc := range []struct {
		method, path, id string
		op               dialect.Op
	}{
		{"PUT", "/bucket/abc", "abc", dialect.OpUpdate},
		{"PUT", "/Bucket/abc", "abc", dialect.OpUpdate},
		{"PUT", "/bucket//abc/", "abc", dialect.OpUpdate},
		{"PUT", "/bucket/a/b", "a/b", dialect.OpUpdate},
		{"PUT", "/x/../bucket/abc", "abc", dialect.OpUpdate},
		{"PUT", "/bucket/", "", dialect.OpOther},
		{"PUT", "/bucket", "", dialect.OpOther},
		{"GET", "/bucket/abc", "", dialect.OpOther},
		{"DELETE", "/bucket/abc", "abc", dialect.OpDelete},
		{"DELETE", "/BUCKET/abc/", "abc", dialect.OpDelete},
		{"DELETE", "/bucket/abc/status", "", dialect.OpOther},
		{"DELETE", "/bucket", "", dialect.OpOther},
		{"POST", "/bucket", "", dialect.OpCreate},
		{"POST", "/Bucket/", "", dialect.OpCreate},
		{"GET", "/bucket", "", dialect.OpList},
		{"PUT", "/buckets/abc", "", dialect.OpOther},
	} {
		call, ok := d.Match(httptest.NewRequest(tc.method, tc.path, nil))
		if !ok || call.Op != tc.op || call.BucketID != tc.id {
			t.Errorf("%s %s: op %v %q, want %v %q", tc.method, tc.path, call.Op, call.BucketID, tc.op, tc.id)
		}
	}
}

func TestCredential(t *testing.T) {
	d := newDialect(t)
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{"Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiIxIn0.sig-_~+/==", true},
		{"bearer demo-token", true},
		{"", false},
		{"demo-token", false},
		{"Basic ZGVtbzpkZW1v", false},
		{"Bearer ", false},
		{"Bearer two tokens", false},
		{"Bearer tok\"en", false},
	} {
		r := httptest.NewRequest(http.MethodPut, bucketPath, nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		_, err := d.Credential(r)
		if (err == nil) != tc.ok || (err != nil && err.Kind != dialect.Unauthenticated) {
			t.Errorf("%q: %v", tc.header, err)
		}
	}
}

func TestReadBucket(t *testing.T) {
	d := newDialect(t)
	const id = "11111111-2222-3333-4444-555555555555"
	list := func(name, status string) []byte {
		return []byte(`{"success":true,"buckets":[{"id":"other","name":"x"},{"id":"` + id + `","name":"` + name +
			`","bucket":"demo-bucket","storageType":"S3","secret":{},"status":"` + status + `","lastStatusAt":"2026-11-21T10:00:0` + status[:1] + `Z"}]}`)
	}
	a, err := d.ReadBucket(dialect.NewAnswer(200, list("Backups", "ONLINE")), id)
	if err != nil || a.Revision <= 0 || a.Revision >= 1<<31 {
		t.Fatalf("revision %d %v", a.Revision, err)
	}
	if b, _ := d.ReadBucket(dialect.NewAnswer(200, list("Backups", "OFFLINE")), id); b.Revision != a.Revision {
		t.Error("status and lastStatusAt moved the revision")
	}
	if c, _ := d.ReadBucket(dialect.NewAnswer(200, list("Renamed", "ONLINE")), id); c.Revision == a.Revision {
		t.Error("a new name did not move the revision")
	}
	for _, tc := range []struct {
		status int
		body   string
		kind   dialect.Kind
	}{
		{200, `{"success":true,"buckets":[{"id":"other"}]}`, dialect.NotFound},
		{200, `<html>`, dialect.UpstreamFailed},
		{200, `{"success":true}`, dialect.UpstreamFailed},
		{200, `{"success":true,"buckets":[{"id":"other","id":"` + id + `"}]}`, dialect.UpstreamFailed},
		{200, `{"success":true,"buckets":[{"id":"` + id + `","name":7}]}`, dialect.UpstreamFailed},
		{401, `{"success":false,"message":"Unauthorized"}`, dialect.Unauthenticated},
		{403, `{"success":false,"message":"Forbidden"}`, dialect.Forbidden},
		{500, `{"success":false}`, dialect.UpstreamFailed},
	} {
		if _, err := d.ReadBucket(dialect.NewAnswer(tc.status, []byte(tc.body)), id); err == nil || err.Kind != tc.kind {
			t.Errorf("%d %s: %v, want kind %v", tc.status, tc.body, err, tc.kind)
		}
	}
}

func TestCheckAnswer(t *testing.T) {
	d := newDialect(t)
	for _, tc := range []struct {
		status int
		body   string
		ok     bool
	}{
		{200, `{"success":true,"bucketId":"x"}`, true},
		{403, `{"success":false,"message":"Insufficient permissions"}`, true},
		{404, `{"success":false}`, true},
		{200, `{"success":false,"message":"?"}`, false},
		{500, `{"success":true}`, false},
		{502, `<html>Bad Gateway</html>`, false},
		{200, ``, false},
		{200, `[true]`, false},
		{200, `{"success":true,"success":false}`, false},
	} {
		if err := d.CheckAnswer(dialect.NewAnswer(tc.status, []byte(tc.body))); (err == nil) != tc.ok {
			t.Errorf("%d %s: %v", tc.status, tc.body, err)
		}
	}
}

func TestWriteError(t *testing.T) {
	d := newDialect(t)
	for kind, status := range map[dialect.Kind]int{
		dialect.BadRequest: 400, dialect.BadJSON: 400, dialect.Unauthenticated: 401, dialect.Forbidden: 403,
		dialect.NotFound: 404, dialect.PreconditionFailed: 412, dialect.TooLarge: 413, dialect.PreconditionRequired: 428,
		dialect.UpstreamFailed: 502,
	} {
		rec := httptest.NewRecorder()
		d.WriteError(rec, dialect.NewError(kind, "why"))
		if rec.Code != status || rec.Body.String() != `{"success":false,"message":"why"}` {
			t.Errorf("kind %v: %d %s", kind, rec.Code, rec.Body)
		}
	}
}

// TestOperatorSchemaTightensEndpoint checks the example policy schema: the
// built-in contract takes an http endpoint, the operator's refuses it, and
// both keep everything else, code rules included.
func TestOperatorSchemaTightensEndpoint(t *testing.T) {
	strict, err := New(dialect.Options{Limits: jsonscan.DefaultLimits, SchemaFile: "../../examples/schemas/flashback-https-only.json"})
	if err != nil {
		t.Fatal(err)
	}
	builtin := newDialect(t)
	for _, tc := range []struct {
		body            string
		builtin, policy bool // accepted
	}{
		{`{"endpoint":"http://minio.internal:9000"}`, true, false},
		{`{"endpoint":"HTTP://minio.internal:9000"}`, true, false},
		{`{"endpoint":"https://minio.internal:9000"}`, true, true},
		{`{"endpoint":""}`, true, true},
		{`{"endpoint":"https://u:p@minio.internal"}`, false, false},
		{`{"storageType":"GCS","bucket":"my_bucket"}`, true, true},
		{`{"storageType":"S3","bucket":"my_bucket"}`, false, false},
		{seedBody, true, true},
	} {
		if got := update(builtin, bucketPath, tc.body) == nil; got != tc.builtin {
			t.Errorf("built-in schema on %s: accepted %v", tc.body, got)
		}
		if got := update(strict, bucketPath, tc.body) == nil; got != tc.policy {
			t.Errorf("https-only schema on %s: accepted %v", tc.body, got)
		}
	}
}

// FuzzFilterList: whatever the upstream's list holds, the filtered list is
// JSON in Flashback's list shape, carries no credential field, and shows
// only buckets the filter approved, however an answer repeats a key: such
// an answer is refused whole, never read one way to approve a bucket and
// another to show it.
func FuzzFilterList(f *testing.F) {
	entry := `{"id":"a","name":"n","bucket":"b","storageType":"S3","key":"AKIA","secret":{"iv":"x"},"workspaceId":"ws-a","walletAddress":"G1"}`
	f.Add([]byte(`{"success":true,"buckets":[` + entry + `]}`))
	f.Add([]byte(`{"success":true,"buckets":[]}`))
	f.Add([]byte(`{"buckets":[{"id":"a","key":null},{"id":"b","secret":"s","walletAddress":7}]}`))
	f.Add([]byte(`{"buckets":{}}`))
	// A key repeated at every level.
	f.Add([]byte(`{"success":true,"buckets":[{"id":"a","workspaceId":"ws-a","workspaceId":"ws-b"}]}`))
	f.Add([]byte(`{"success":true,"buckets":[{"id":"skip","workspaceId":"ws-a","id":"a"}]}`))
	f.Add([]byte(`{"success":true,"buckets":[` + entry + `],"buckets":[{"id":"x","workspaceId":"ws-b"}]}`))
	f.Add([]byte(`{"success":true,"success":true,"buckets":[]}`))
	f.Add([]byte(`{"success":true,"buckets":[{"id":"a","workspaceId":"ws-a","secret":{"iv":"x","iv":"y"}}]}`))
	d := newDialect(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		approved := func(b dialect.Bucket, _ string) bool { return b.ID != "skip" && b.Workspace == "ws-a" }
		out, derr := d.FilterList(dialect.NewAnswer(200, body), approved)
		if derr != nil {
			return
		}
		if repeatsKey(body) {
			t.Fatalf("an answer that repeats a key was filtered: %s -> %s", body, out)
		}
		var list struct {
			Success bool                         `json:"success"`
			Buckets []map[string]json.RawMessage `json:"buckets"`
		}
		if err := json.Unmarshal(out, &list); err != nil || !list.Success {
			t.Fatalf("%s -> %s: %v", body, out, err)
		}
		for _, b := range list.Buckets {
			var id, ws string
			_ = json.Unmarshal(b["id"], &id)
			_ = json.Unmarshal(b["workspaceId"], &ws)
			if id == "skip" || ws != "ws-a" {
				t.Fatalf("a bucket the filter did not approve is shown: %s -> %s", body, out)
			}
			if _, ok := b["key"]; ok {
				t.Fatalf("key kept: %s", out)
			}
			if _, ok := b["secret"]; ok {
				t.Fatalf("secret kept: %s", out)
			}
		}
	})
}

// repeatsKey reports whether any object in the JSON document body holds a
// key twice, as encoding/json's token stream sees it: independently of the
// scanner the gateway reads answers with.
func repeatsKey(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{keys: map[string]bool{}, object: v == '{', key: v == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.object && top.key {
				if top.keys[v] {
					return true
				}
				top.keys[v] = true
				top.key = false
				continue
			}
			if top != nil && top.object {
				top.key = true
			}
		default:
			if top != nil && top.object {
				top.key = true
			}
		}
	}
}

// TestToChangeNamesEveryCredentialSent: a credential field sent at all,
// null included, has no B2 meaning and must reach translation as such, so
// that the translated update is refused rather than dropping it silently.
func TestToChangeNamesEveryCredentialSent(t *testing.T) {
	d := newDialect(t)
	body := `{"name":"n","key":null,"secret":"` + secret + `"}`
	r := httptest.NewRequest(http.MethodPut, bucketPath, strings.NewReader(body))
	call, _ := d.Match(r)
	u, derr := d.Decode(r, call, func() ([]byte, *dialect.Error) { return []byte(body), nil })
	if derr != nil {
		t.Fatal(derr)
	}
	c := d.ToChange(u)
	var got []string
	for _, x := range c.Extras {
		if x.Kind == dialect.Credential {
			got = append(got, x.From)
		}
	}
	if strings.Join(got, ",") != "key,secret" || !c.Name.Set || c.Name.Value != "n" {
		t.Errorf("credentials %v, name %+v", got, c.Name)
	}
}
