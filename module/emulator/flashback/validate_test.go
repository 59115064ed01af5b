package flashbackemulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	badKey    = "AKIAREFUSEDBODYKEY"
	badSecret = "refused-body-secret"
)

func TestInvalidBodies(t *testing.T) {
	// creds rides along in most bodies: whatever else is wrong, the answer
	// must not give these back.
	const creds = `"key":"` + badKey + `","secret":"` + badSecret + `",`
	create := `"name":"n","storageType":"S3","bucket":"new-bucket","workspaceId":"` + wsMain + `"`

	for _, tc := range []struct {
		name, method, body string
		fields             []string // each must be named in the message
	}{
		{"not JSON", "PUT", `{` + creds + `"name":`, []string{"body"}},
		{"array", "PUT", `["name"]`, []string{"body"}},
		{"string", "PUT", `"name"`, []string{"body"}},
		{"empty", "PUT", ``, []string{"body"}},
		{"trailing data", "PUT", `{` + creds + `"name":"x"} {}`, []string{"body"}},
		{"not UTF-8", "PUT", "{" + creds + "\"name\":\"\xff\"}", []string{"body"}},
		{"nothing to update", "PUT", `{}`, []string{"body"}},
		{"unknown field", "PUT", `{` + creds + `"ifRevisionIs":"3"}`, []string{"ifRevisionIs"}},
		{"credential as a field name", "PUT", `{"` + badKey + `":"x"}`, []string{"body"}},
		{"duplicate field", "PUT", `{` + creds + `"name":"a","name":"b"}`, []string{"name"}},
		{"number", "PUT", `{` + creds + `"name":1}`, []string{"name"}},
		{"null", "PUT", `{` + creds + `"region":null}`, []string{"region"}},
		{"object", "PUT", `{` + creds + `"endpoint":{"url":"https://x"}}`, []string{"endpoint"}},
		{"empty string", "PUT", `{` + creds + `"name":""}`, []string{"name"}},
		{"too long", "PUT", `{` + creds + `"name":"` + strings.Repeat("n", 256) + `"}`, []string{"name"}},
		{"secret too long", "PUT", `{"secret":"` + badSecret + strings.Repeat("s", 8192) + `"}`, []string{"secret"}},
		{"key too long", "PUT", `{"key":"` + badKey + strings.Repeat("K", 2048) + `"}`, []string{"key"}},
		{"storage type", "PUT", `{` + creds + `"storageType":"AZURE"}`, []string{"storageType"}},
		{"S3 name in capitals", "PUT", `{` + creds + `"bucket":"My-Bucket"}`, []string{"bucket"}},
		{"S3 name too short", "PUT", `{` + creds + `"bucket":"ab"}`, []string{"bucket"}},
		{"S3 name with empty label", "PUT", `{` + creds + `"bucket":"my..bucket"}`, []string{"bucket"}},
		{"S3 name an IP address", "PUT", `{` + creds + `"bucket":"192.168.1.10"}`, []string{"bucket"}},
		{"new type, old name", "PUT", `{` + creds + `"storageType":"BLOB"}`, []string{"bucket"}}, // backups.example has a dot
		{"BLOB double hyphen", "PUT", `{` + creds + `"storageType":"BLOB","bucket":"my--container"}`, []string{"bucket"}},
		{"region too long", "PUT", `{` + creds + `"region":"` + strings.Repeat("r", 65) + `"}`, []string{"region"}},
		{"endpoint not absolute", "PUT", `{` + creds + `"endpoint":"s3.amazonaws.com"}`, []string{"endpoint"}},
		{"endpoint other scheme", "PUT", `{` + creds + `"endpoint":"ftp://s3.amazonaws.com"}`, []string{"endpoint"}},
		{"endpoint with credentials", "PUT", `{"endpoint":"https://` + badKey + `:` + badSecret + `@s3.example.com"}`, []string{"endpoint"}},
		{"api key id", "PUT", `{` + creds + `"apiKeyUuid":"key-1"}`, []string{"apiKeyUuid"}},
		{"workspace empty", "PUT", `{` + creds + `"workspaceId":""}`, []string{"workspaceId"}},
		{"several at once", "PUT", `{` + creds + `"region":"` + strings.Repeat("r", 65) + `","endpoint":"ftp://x","name":""}`, []string{"name", "region", "endpoint"}},
		{"create missing fields", "POST", `{` + creds + `"name":"n"}`, []string{"storageType", "bucket", "workspaceId"}},
		{"create bad name", "POST", `{` + creds + strings.Replace(create, "new-bucket", "New_Bucket", 1) + `}`, []string{"bucket"}},
		{"create unknown field", "POST", `{` + creds + create + `,"mode":"MIRROR"}`, []string{"mode"}},
		{"create without credentials", "POST", `{` + create + `}`, []string{"key", "secret"}},
		{"create with a key and no secret", "POST", `{"key":"` + badKey + `",` + create + `}`, []string{"secret"}},
		{"create AZURE container name", "POST", `{` + creds + strings.NewReplacer(`"S3"`, `"AZURE"`, "new-bucket", "new_bucket").Replace(create) + `}`, []string{"bucket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, testConfig())
			target := "/bucket"
			if tc.method == http.MethodPut {
				target += "/" + bucketA
			}
			a := call(t, e, tc.method, target, "tok-writer", tc.body)
			if a.status != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 400", a.status, a.raw)
			}
			for _, f := range tc.fields {
				if !strings.Contains(a.Message, f+":") {
					t.Errorf("message %q does not name %s", a.Message, f)
				}
			}
			if strings.Contains(a.raw, badKey) || strings.Contains(a.raw, badSecret) {
				t.Errorf("reply echoes a credential: %s", a.raw)
			}
			if n := len(listed(t, e, "tok-admin", "")); n != 2 || bucketAs(t, e, bucketA)["name"] != "Backups" {
				t.Errorf("a refused body changed the buckets")
			}
		})
	}
}

func TestBodyTransport(t *testing.T) {
	e := start(t, testConfig())
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"no content type", "", `{"name":"x"}`, http.StatusBadRequest},
		{"form", "application/x-www-form-urlencoded", `name=x`, http.StatusBadRequest},
		{"json with charset", "application/json; charset=utf-8", `{"name":"x"}`, http.StatusOK},
		{"too large", "application/json", `{"name":"` + strings.Repeat("x", maxBody) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPut, "/bucket/"+bucketA, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer tok-writer")
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			a := send(t, e, req)
			if a.status != tc.status {
				t.Fatalf("got %d %s, want %d", a.status, a.raw, tc.status)
			}
			if tc.status == http.StatusBadRequest && !strings.HasPrefix(a.Message, "Content-Type:") {
				t.Errorf("message %q does not name Content-Type", a.Message)
			}
		})
	}
}

func TestEndpointRule(t *testing.T) {
	for endpoint, ok := range map[string]bool{
		"https://s3.us-east-1.amazonaws.com": true,
		"https://minio.example.com:9000/s3":  true,
		"http://localhost:9000":              true,
		"http://LOCALHOST":                   true,
		"http://127.0.0.1:9000":              true,
		"http://127.8.9.10":                  true,
		"http://[::1]:9000":                  true,
		"http://example.com":                 true,
		"http://localhost.example.com":       true,
		"http://10.0.0.1":                    true,
		"HTTPS://storage.example.com":        true,
		"ftp://files.example.com":            false,
		"s3.amazonaws.com":                   false,
		"/relative/path":                     false,
		"https://":                           false,
		"https://host/?x=1":                  false,
		"https://host/#frag":                 false,
		"https://user@host":                  false,
	} {
		if got := checkEndpoint(endpoint) == ""; got != ok {
			t.Errorf("checkEndpoint(%q) accepted = %v, want %v", endpoint, got, ok)
		}
	}
}

func TestBucketNameRule(t *testing.T) {
	for _, tc := range []struct {
		storageType, name string
		ok                bool
	}{
		{"S3", "my-bucket.logs", true},
		{"S3", "abc", true},
		{"S3", strings.Repeat("a", 63), true},
		{"S3", strings.Repeat("a", 64), false},
		{"S3", "ab", false},
		{"S3", "-bucket", false},
		{"S3", "bucket-", false},
		{"S3", "my_bucket", false},
		{"S3", "MyBucket", false},
		{"S3", "a..b", false},
		{"S3", "10.0.0.1", false},
		{"GCS", "gcs.bucket-1", true},
		{"GCS", "Gcs", false},
		{"GCS", "my_bucket", true},
		{"GCS", strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("b", 30), true},
		{"GCS", strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("b", 31), false},
		{"GCS", strings.Repeat("a", 64) + ".com", false},
		{"GCS", strings.Repeat("a", 64), false},
		{"GCS", "goog-data", false},
		{"GCS", "my-google-data", false},
		{"BLOB", "$root", true},
		{"BLOB", "$web", true},
		{"BLOB", "$logs", true},
		{"BLOB", "$data", false},
		{"BLOB", "container-1", true},
		{"BLOB", "con--tainer", false},
		{"BLOB", "con.tainer", false},
		{"BLOB", "-container", false},
		{"BLOB", "container-", false},
		{"BLOB", "Container", false},
		{"AZURE", "$web", true},
		{"AZURE", "container-1", true},
		{"AZURE", "con--tainer", false},
	} {
		if got := checkBucketName(tc.storageType, tc.name) == ""; got != tc.ok {
			t.Errorf("checkBucketName(%s, %q) accepted = %v, want %v", tc.storageType, tc.name, got, tc.ok)
		}
	}
}
