package b2

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// seedBody is the example body of the b2_update_bucket documentation, with
// the fields the example leaves empty filled with documented values.
const seedBody = `{
  "accountId": "ACCOUNT_ID",
  "bucketId": "4a48fe8875c6214145260818",
  "bucketType": "allPublic",
  "bucketInfo": {},
  "corsRules": [{"corsRuleName": "downloadFromAnyOrigin", "allowedOrigins": ["https"], "allowedHeaders": ["range"],
    "allowedOperations": ["b2_download_file_by_id", "b2_download_file_by_name"], "exposeHeaders": ["x-bz-content-sha1"], "maxAgeSeconds": 3600}],
  "defaultRetention": {"mode": "governance", "period": {"duration": 2, "unit": "years"}},
  "defaultServerSideEncryption": {"mode": "SSE-B2", "algorithm": "AES256"},
  "fileLockEnabled": true,
  "lifecycleRules": [{"daysFromHidingToDeleting": 30, "daysFromUploadingToHiding": null, "fileNamePrefix": "backup/"}],
  "replicationConfiguration": {"asReplicationSource": {"replicationRules": [{"destinationBucketId": "3f46fe8276c62b414506021y",
    "fileNamePrefix": "", "includeExistingFiles": false, "isEnabled": true, "priority": 1, "replicationRuleName": "replication-us-east"}],
    "sourceApplicationKeyId": "00512f95cf4dcf0000000004z"}},
  "ifRevisionIs": 1
}`

func newDialect(t testing.TB) *Dialect {
	t.Helper()
	d, err := New(dialect.Options{Limits: jsonscan.DefaultLimits})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func bodyOf(b []byte) func() ([]byte, *dialect.Error) {
	return func() ([]byte, *dialect.Error) { return b, nil }
}

func decodeAndValidate(d *Dialect, body string) *dialect.Error {
	r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(body))
	call, _ := d.Match(r)
	u, err := d.Decode(r, call, bodyOf([]byte(body)))
	if err != nil {
		return err
	}
	return d.Validate(u)
}

func TestAcceptsWhatRealClientsSend(t *testing.T) {
	d := newDialect(t)
	cases := map[string]string{
		"seed example": seedBody,
		// rclone's backend lifecycle command: all three day fields, explicit nulls.
		"rclone lifecycle": `{"bucketId":"4a48fe8875c6214145260818","accountId":"acct1","lifecycleRules":[{"daysFromHidingToDeleting":1,"daysFromUploadingToHiding":null,"daysFromStartingToCancelingUnfinishedLargeFiles":null,"fileNamePrefix":""}]}`,
		// blazer: omitempty everywhere but accountId and bucketId; ifRevisionIs from the listed bucket.
		"blazer type and info":  `{"accountId":"acct1","bucketId":"b1","bucketType":"allPrivate","bucketInfo":{"owner":"team-a","Cache-Control":"max-age=60"},"ifRevisionIs":3}`,
		"blazer lifecycle":      `{"accountId":"acct1","bucketId":"b1","lifecycleRules":[{"daysFromHidingToDeleting":7,"fileNamePrefix":"logs/"}],"ifRevisionIs":2}`,
		"b2sdk SSE none":        `{"accountId":"acct1","bucketId":"b1","defaultServerSideEncryption":{"mode":"none"}}`,
		"b2sdk retention off":   `{"accountId":"acct1","bucketId":"b1","defaultRetention":{"mode":null}}`,
		"docs SSE off":          `{"accountId":"acct1","bucketId":"b1","defaultServerSideEncryption":{"mode":null}}`,
		"ts sdk retention none": `{"accountId":"acct1","bucketId":"b1","defaultRetention":{"mode":"none","period":null}}`,
		"cli replication clear": `{"accountId":"acct1","bucketId":"b1","replicationConfiguration":{"asReplicationSource":null,"asReplicationDestination":null},"ifRevisionIs":5}`,
		"cli replication dest":  `{"accountId":"acct1","bucketId":"b1","replicationConfiguration":{"asReplicationDestination":{"sourceToDestinationKeyMapping":{"k1":"k2"}}}}`,
		"npm bucket type":       `{"accountId":"acct1","bucketId":"b1","bucketType":"allPublic"}`,
		"C# clears everything":  `{"accountId":"acct1","bucketId":"b1","bucketInfo":{},"corsRules":[],"lifecycleRules":[]}`,
		"null CORS header lists": `{"bucketId":"b1","corsRules":[{"corsRuleName":"s3DownloadFromAnyOrigin","allowedOrigins":["*"],"allowedOperations":["s3_get","s3_head"],
			"allowedHeaders":null,"exposeHeaders":null,"maxAgeSeconds":0}]}`,
		"two non-overlapping prefixes": `{"bucketId":"b1","lifecycleRules":[{"fileNamePrefix":"photos/","daysFromHidingToDeleting":1},{"fileNamePrefix":"videos/","daysFromUploadingToHiding":3}]}`,
		"file lock only":               `{"bucketId":"b1","fileLockEnabled":false}`,
		// b2-sdk-java: every field it was not given is an explicit null
		// (B2StorageClientWebifierImplTest.testUpdateBucket).
		"java SDK nulls":            `{"accountId":"accountId1","bucketId":"bucket1","bucketInfo":null,"bucketType":null,"corsRules":[{"allowedHeaders":null,"allowedOperations":["b2_download_file_by_id"],"allowedOrigins":["https://something.com"],"corsRuleName":"rule-name","exposeHeaders":null,"maxAgeSeconds":0}],"ifRevisionIs":1,"lifecycleRules":null}`,
		"java SDK 6 nulls":          `{"accountId":"a","bucketId":"b1","bucketInfo":null,"bucketType":"allPublic","corsRules":null,"defaultRetention":null,"defaultServerSideEncryption":null,"fileLockEnabled":null,"ifRevisionIs":null,"lifecycleRules":null,"replicationConfiguration":null}`,
		"ifRevisionIs zero":         `{"bucketId":"b1","ifRevisionIs":0}`,
		"bucketInfo value of 4 KiB": `{"bucketId":"b1","bucketInfo":{"a":"` + strings.Repeat("x", 4096) + `"}}`,
		"duplicate CORS operations": `{"bucketId":"b1","corsRules":[{"corsRuleName":"rule-name","allowedOrigins":["*"],"allowedOperations":["s3_get","s3_get"],"maxAgeSeconds":1}]}`,
		"allowed headers wildcards": `{"bucketId":"b1","corsRules":[{"corsRuleName":"rule-name","allowedOrigins":["*"],"allowedOperations":["s3_get"],"allowedHeaders":["x-bz-info-*","range"],"maxAgeSeconds":1}]}`,
		"empty replication rules":   `{"bucketId":"b1","replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k1","replicationRules":[]}}}`,
		"wildcard origin forms":     `{"bucketId":"b1","corsRules":[{"corsRuleName":"origins","allowedOrigins":["https://*.example.com","https://*:8765","https"],"allowedOperations":["b2_upload_file"],"maxAgeSeconds":86400}]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			if err := decodeAndValidate(d, body); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

func TestRefusesInvalidBodies(t *testing.T) {
	d := newDialect(t)
	cases := []struct {
		name, body string
		kind       dialect.Kind
		path       string // the field path the message must name
	}{
		{"missing bucketId", `{"accountId":"a"}`, dialect.BadRequest, "bucketId: is required"},
		{"bucketId not a string", `{"bucketId":7}`, dialect.BadRequest, "bucketId: must be of type string"},
		{"empty bucketId", `{"bucketId":""}`, dialect.BadRequest, "bucketId: must be at least 1"},
		{"unknown field", `{"bucketId":"b1","bucketname":"x"}`, dialect.BadRequest, "bucketname: is not an allowed field"},
		{"snapshot type", `{"bucketId":"b1","bucketType":"snapshot"}`, dialect.BadRequest, "bucketType: must be one of allPublic, allPrivate"},
		{"bucketInfo 11 keys", `{"bucketId":"b1","bucketInfo":{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1","j":"1","k":"1"}}`, dialect.BadRequest, "bucketInfo: must have at most 10 entries"},
		{"bucketInfo reserved key", `{"bucketId":"b1","bucketInfo":{"b2-x":"1"}}`, dialect.BadRequest, "bucketInfo: has a key that is not allowed"},
		{"bucketInfo bad key chars", `{"bucketId":"b1","bucketInfo":{"a b":"1"}}`, dialect.BadRequest, "bucketInfo: has a key that is not allowed"},
		{"bucketInfo value not string", `{"bucketId":"b1","bucketInfo":{"a":1}}`, dialect.BadRequest, "bucketInfo.a: must be of type string"},
		{"CORS name too short", `{"bucketId":"b1","corsRules":[{"corsRuleName":"abc","allowedOrigins":["*"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0].corsRuleName: must be at least 6"},
		{"CORS name reserved", `{"bucketId":"b1","corsRules":[{"corsRuleName":"b2-rule1","allowedOrigins":["*"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0].corsRuleName"},
		{"CORS names repeated", `{"bucketId":"b1","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":["*"],"allowedOperations":["s3_get"],"maxAgeSeconds":1},{"corsRuleName":"ruleone","allowedOrigins":["https"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[1].corsRuleName: repeats the name of corsRules[0]"},
		{"CORS missing operations", `{"bucketId":"b1","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":["*"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0].allowedOperations: is required"},
		{"CORS unknown operation", `{"bucketId":"b1","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":["*"],"allowedOperations":["s3_copy"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0].allowedOperations[0]: must be one of"},
		{"CORS max age too high", `{"bucketId":"b1","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":["*"],"allowedOperations":["s3_get"],"maxAgeSeconds":86401}]}`, dialect.BadRequest, "corsRules[0].maxAgeSeconds: must be at most 86400"},
		{"CORS star not alone", `{"bucketId":"b1","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":["*","https://a.example"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0].allowedOrigins[0]: \"*\" must be the only origin"},
		{"CORS two https", `{"bucketId":"b1","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":["https","https"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0].allowedOrigins[1]: only one \"https\" origin"},
		{"CORS two wildcards", `{"bucketId":"b1","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":["https://*.*.example"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0].allowedOrigins[0]: an origin may contain at most one wildcard"},
		{"CORS empty origin", `{"bucketId":"b1","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":[""],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0].allowedOrigins[0]: must be at least 1"},
		{"CORS rule too big", `{"bucketId":"b1","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":["https://` + strings.Repeat("a", 990) + `.example"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0]: is 1019 bytes"},
		{"lifecycle no action", `{"bucketId":"b1","lifecycleRules":[{"fileNamePrefix":"a/","daysFromHidingToDeleting":null}]}`, dialect.BadRequest, "lifecycleRules[0]: must set at least one of"},
		{"lifecycle zero days", `{"bucketId":"b1","lifecycleRules":[{"fileNamePrefix":"a/","daysFromHidingToDeleting":0}]}`, dialect.BadRequest, "lifecycleRules[0].daysFromHidingToDeleting: must be at least 1"},
		{"lifecycle fractional days", `{"bucketId":"b1","lifecycleRules":[{"fileNamePrefix":"a/","daysFromHidingToDeleting":1.5}]}`, dialect.BadRequest, "lifecycleRules[0].daysFromHidingToDeleting: must be of type"},
		{"lifecycle missing prefix", `{"bucketId":"b1","lifecycleRules":[{"daysFromHidingToDeleting":1}]}`, dialect.BadRequest, "lifecycleRules[0].fileNamePrefix: is required"},
		{"lifecycle overlapping prefixes", `{"bucketId":"b1","lifecycleRules":[{"fileNamePrefix":"photos/kittens/","daysFromHidingToDeleting":1},{"fileNamePrefix":"photos/","daysFromHidingToDeleting":2}]}`, dialect.BadRequest, "lifecycleRules[1].fileNamePrefix: overlaps the prefix of lifecycleRules[0]"},
		{"lifecycle empty prefix overlaps all", `{"bucketId":"b1","lifecycleRules":[{"fileNamePrefix":"","daysFromHidingToDeleting":1},{"fileNamePrefix":"x/","daysFromHidingToDeleting":2}]}`, dialect.BadRequest, "lifecycleRules[1].fileNamePrefix: overlaps"},
		{"SSE-C as default", `{"bucketId":"b1","defaultServerSideEncryption":{"mode":"SSE-C","algorithm":"AES256"}}`, dialect.BadRequest, "defaultServerSideEncryption.mode: must be one of"},
		{"SSE-B2 without algorithm", `{"bucketId":"b1","defaultServerSideEncryption":{"mode":"SSE-B2"}}`, dialect.BadRequest, "defaultServerSideEncryption.algorithm: is required"},
		{"SSE missing mode", `{"bucketId":"b1","defaultServerSideEncryption":{}}`, dialect.BadRequest, "defaultServerSideEncryption.mode: is required"},
		{"retention without period", `{"bucketId":"b1","defaultRetention":{"mode":"compliance"}}`, dialect.BadRequest, "defaultRetention.period: is required when mode is governance or compliance"},
		{"retention bad unit", `{"bucketId":"b1","defaultRetention":{"mode":"governance","period":{"duration":1,"unit":"weeks"}}}`, dialect.BadRequest, "defaultRetention.period.unit: must be one of days, years"},
		{"retention off with period", `{"bucketId":"b1","defaultRetention":{"mode":null,"period":{"duration":1,"unit":"days"}}}`, dialect.BadRequest, "defaultRetention.period: must be null or absent"},
		{"fileLockEnabled string", `{"bucketId":"b1","fileLockEnabled":"true"}`, dialect.BadRequest, "fileLockEnabled: must be of type [boolean,null]"},
		{"replication empty", `{"bucketId":"b1","replicationConfiguration":{}}`, dialect.BadRequest, "replicationConfiguration: must have at least 1 entries"},
		{"replication three rules", `{"bucketId":"b1","replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"r1"},{"destinationBucketId":"d","replicationRuleName":"r2"},{"destinationBucketId":"d","replicationRuleName":"r3"}]}}}`, dialect.BadRequest, "replicationConfiguration.asReplicationSource.replicationRules: must have at most 2 items"},
		{"replication bad rule name", `{"bucketId":"b1","replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"no spaces"}]}}}`, dialect.BadRequest, "replicationConfiguration.asReplicationSource.replicationRules[0].replicationRuleName: does not have the required form"},
		{"replication priority zero", `{"bucketId":"b1","replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"r1","priority":0}]}}}`, dialect.BadRequest, "replicationRules[0].priority: must be at least 1"},
		{"ifRevisionIs string", `{"bucketId":"b1","ifRevisionIs":"3"}`, dialect.BadRequest, "ifRevisionIs: must be of type [integer,null]"},
		{"ifRevisionIs negative", `{"bucketId":"b1","ifRevisionIs":-1}`, dialect.BadRequest, "ifRevisionIs: must be at least 0"},
		{"allowed header wildcard not alone", `{"bucketId":"b1","corsRules":[{"corsRuleName":"rule-name","allowedOrigins":["*"],"allowedOperations":["s3_get"],"allowedHeaders":["range","*"],"maxAgeSeconds":1}]}`, dialect.BadRequest, `corsRules[0].allowedHeaders[1]: "*" must be the only allowed header`},
		{"exposed header wildcard", `{"bucketId":"b1","corsRules":[{"corsRuleName":"rule-name","allowedOrigins":["*"],"allowedOperations":["s3_get"],"exposeHeaders":["x-bz-*"],"maxAgeSeconds":1}]}`, dialect.BadRequest, "corsRules[0].exposeHeaders[0]: must be a complete header name"},
		{"body is an array", `[{"bucketId":"b1"}]`, dialect.BadJSON, "must be a JSON object"},
		{"malformed JSON", `{"bucketId":"b1",}`, dialect.BadJSON, "not valid JSON"},
		{"empty body", ``, dialect.BadJSON, "empty"},
		{"duplicate key", `{"bucketId":"b1","bucketType":"allPrivate","bucketType":"allPublic"}`, dialect.BadRequest, "duplicate key at bucketType"},
		{"huge number", `{"bucketId":"b1","ifRevisionIs":1e999}`, dialect.BadRequest, "number out of range at ifRevisionIs"},
		{"long number", `{"bucketId":"b1","ifRevisionIs":1000000000000000000000000000000}`, dialect.BadRequest, "number longer than 24 characters at ifRevisionIs"},
		{"deep nesting", `{"bucketId":"b1","bucketInfo":{"a":[[[[[[[[[[1]]]]]]]]]]}}`, dialect.BadRequest, "nesting deeper than 10 levels"},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d invalid bodies", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeAndValidate(d, tc.body)
			if err == nil {
				t.Fatal("accepted")
			}
			if err.Kind != tc.kind {
				t.Errorf("kind = %v, want %v (%s)", err.Kind, tc.kind, err.Message)
			}
			if !strings.Contains(err.Message, tc.path) {
				t.Errorf("message %q does not name %q", err.Message, tc.path)
			}
		})
	}
}

func TestNamesEveryFailingField(t *testing.T) {
	d := newDialect(t)
	err := decodeAndValidate(d, `{"bucketId":"b1","bucketType":"public","fileLockEnabled":1,"corsRules":[{"corsRuleName":"x","allowedOrigins":["*"],"allowedOperations":["s3_get"],"maxAgeSeconds":-1}]}`)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"bucketType", "fileLockEnabled", "corsRules[0].corsRuleName", "corsRules[0].maxAgeSeconds"} {
		if !strings.Contains(err.Message, want+":") {
			t.Errorf("message %q does not name %s", err.Message, want)
		}
	}
	if len(err.Fields) != 4 {
		t.Errorf("fields = %v, want 4", err.Fields)
	}
}

func TestMessagesNeverRepeatValues(t *testing.T) {
	d := newDialect(t)
	const secret = "K005sEcReTvAlUe"
	bodies := []string{
		`{"bucketId":"b1","bucketType":"` + secret + `"}`,
		`{"bucketId":"b1","bucketInfo":{"` + secret + `!":"x"}}`,
		`{"bucketId":"b1","corsRules":[{"corsRuleName":"` + secret + `!","allowedOrigins":["*"],"allowedOperations":["` + secret + `"],"maxAgeSeconds":1}]}`,
		`{"bucketId":"b1","replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"` + secret + `","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"` + secret + ` x"}]}}}`,
		`{"bucketId":"b1","ifRevisionIs":"` + secret + `"}`,
		`{"bucketId":"b1","accountId":"` + secret + `\u0000"}`,
	}
	for _, body := range bodies {
		err := decodeAndValidate(d, body)
		if err == nil {
			t.Fatalf("accepted %s", body)
		}
		if strings.Contains(err.Message, secret) {
			t.Errorf("message repeats the submitted value: %s", err.Message)
		}
	}
}

func TestMatch(t *testing.T) {
	d := newDialect(t)
	cases := []struct {
		method, path string
		op           dialect.Op
		version      string
		download     bool
	}{
		{"POST", "/b2api/v1/b2_update_bucket", dialect.OpUpdate, "v1", false},
		{"POST", "/b2api/v2/b2_update_bucket", dialect.OpUpdate, "v2", false},
		{"POST", "/b2api/v3/b2_update_bucket", dialect.OpUpdate, "v3", false},
		{"GET", "/b2api/v4/b2_update_bucket", dialect.OpUpdate, "v4", false},
		{"POST", "/b2api/v3/B2_Update_Bucket", dialect.OpUpdate, "v3", false},
		{"POST", "/b2api/v3//b2_update_bucket/", dialect.OpUpdate, "v3", false},
		{"POST", "/b2api/v3/x/../b2_update_bucket", dialect.OpUpdate, "v3", false},
		{"POST", "/b2api/v9/b2_update_bucket", dialect.OpUpdate, "v9", false},
		{"POST", "/b2api/v3/b2_list_buckets", dialect.OpList, "v3", false},
		{"GET", "/b2api/v3/b2_authorize_account", dialect.OpAuthorize, "v3", false},
		{"POST", "/b2api/v3/b2_update_bucket_x", dialect.OpOther, "v3", false},
		{"POST", "/b2api/v2/b2_upload_file/4a48fe8875c6214145260818", dialect.OpOther, "v2", false},
		// A site in front of B2 serves nothing else: every request is a
		// call of the API.
		{"POST", "/other/b2_update_bucket", dialect.OpOther, "", false},
		{"GET", "/", dialect.OpOther, "", false},
		{"GET", "/file/demo-bucket/a.txt", dialect.OpOther, "", true},
		{"HEAD", "/FILE/demo-bucket/dir/a.txt", dialect.OpOther, "", true},
		{"GET", "/files/demo-bucket/a.txt", dialect.OpOther, "", false},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		call, ok := d.Match(r)
		if !ok || call.Op != tc.op || call.Version != tc.version || call.Download != tc.download {
			t.Errorf("%s %s: match=%v op=%v version=%q download=%v, want op %v %q %v", tc.method, tc.path, ok, call.Op, call.Version, call.Download, tc.op, tc.version, tc.download)
		}
	}
}

func TestDecodeRefusesUnknownVersionAndMethod(t *testing.T) {
	d := newDialect(t)
	for _, tc := range []struct {
		method, path string
		kind         dialect.Kind
	}{
		{"POST", "/b2api/v9/b2_update_bucket", dialect.BadRequest},
		{"PUT", "/b2api/v3/b2_update_bucket", dialect.MethodNotAllowed},
		{"DELETE", "/b2api/v3/b2_update_bucket", dialect.MethodNotAllowed},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{"bucketId":"b1"}`))
		call, _ := d.Match(r)
		_, err := d.Decode(r, call, bodyOf([]byte(`{"bucketId":"b1"}`)))
		if err == nil || err.Kind != tc.kind {
			t.Errorf("%s %s: got %v, want kind %v", tc.method, tc.path, err, tc.kind)
		}
	}
}

func TestQueryForm(t *testing.T) {
	d := newDialect(t)
	ok := []string{
		`bucketId=b1&bucketType=allPublic`,
		`bucketId=b1&accountId=acct1&ifRevisionIs=3&fileLockEnabled=false`,
		`bucketId=b1&bucketInfo=%7B%22owner%22%3A%22a%22%7D`,
		`bucketId=b1&lifecycleRules=%5B%7B%22fileNamePrefix%22%3A%22%22%2C%22daysFromHidingToDeleting%22%3A1%7D%5D`,
	}
	for _, q := range ok {
		r := httptest.NewRequest(http.MethodGet, "/b2api/v2/b2_update_bucket?"+q, nil)
		call, _ := d.Match(r)
		u, err := d.Decode(r, call, bodyOf(nil))
		if err == nil {
			err = d.Validate(u)
		}
		if err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	bad := []struct{ query, want string }{
		{`bucketId=b1&bucketId=b2`, "bucketId: is given more than once"},
		{`bucketId=b1&ifRevisionIs=three`, "ifRevisionIs: must be JSON text"},
		{`bucketId=b1&bucketInfo=%7B`, "bucketInfo: must be JSON text"},
		{`bucketId=b1&ifRevisionIs=%223%22`, "ifRevisionIs: must be of type [integer,null]"},
		{`bucketType=allPublic`, "bucketId: is required"},
	}
	for _, tc := range bad {
		r := httptest.NewRequest(http.MethodGet, "/b2api/v2/b2_update_bucket?"+tc.query, nil)
		call, _ := d.Match(r)
		u, err := d.Decode(r, call, bodyOf(nil))
		if err == nil {
			err = d.Validate(u)
		}
		if err == nil || !strings.Contains(err.Message, tc.want) {
			t.Errorf("%s: got %v, want %q", tc.query, err, tc.want)
		}
	}
}

func TestQueryBuildsTheEquivalentPost(t *testing.T) {
	d := newDialect(t)
	r := httptest.NewRequest(http.MethodGet, "/b2api/v2/b2_update_bucket?bucketId=b1&ifRevisionIs=3&bucketInfo=%7B%22a%22%3A%22%3C%26%3E%22%7D", nil)
	call, _ := d.Match(r)
	u, derr := d.Decode(r, call, bodyOf(nil))
	if derr != nil {
		t.Fatal(derr)
	}
	body, err := u.Body()
	if err != nil {
		t.Fatal(err)
	}
	d.Outbound(r, u, body)
	want := `{"bucketId":"b1","bucketInfo":{"a":"<&>"},"ifRevisionIs":3}`
	if string(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
	if r.Method != http.MethodPost || r.URL.RawQuery != "" || r.URL.Path != "/b2api/v2/b2_update_bucket" || r.ContentLength != int64(len(want)) {
		t.Errorf("outbound = %s %s?%s len %d", r.Method, r.URL.Path, r.URL.RawQuery, r.ContentLength)
	}
}

func TestWriteErrorShape(t *testing.T) {
	d := newDialect(t)
	for kind, want := range map[dialect.Kind]string{
		dialect.BadRequest:           `{"status":400,"code":"bad_request","message":"m"}`,
		dialect.BadJSON:              `{"status":400,"code":"bad_json","message":"m"}`,
		dialect.TooLarge:             `{"status":413,"code":"request_too_large","message":"m"}`,
		dialect.Unauthenticated:      `{"status":401,"code":"bad_auth_token","message":"m"}`,
		dialect.Expired:              `{"status":401,"code":"expired_auth_token","message":"m"}`,
		dialect.Forbidden:            `{"status":401,"code":"unauthorized","message":"m"}`,
		dialect.Conflict:             `{"status":409,"code":"conflict","message":"m"}`,
		dialect.PreconditionFailed:   `{"status":412,"code":"precondition_failed","message":"m"}`,
		dialect.PreconditionRequired: `{"status":428,"code":"precondition_required","message":"m"}`,
		dialect.UpstreamFailed:       `{"status":502,"code":"bad_gateway","message":"m"}`,
	} {
		rec := httptest.NewRecorder()
		rec.Header().Set("Retry-After", "1")
		d.WriteError(rec, dialect.NewError(kind, "m"))
		if rec.Body.String() != want {
			t.Errorf("kind %v: body %s, want %s", kind, rec.Body, want)
		}
		if rec.Header().Get("Retry-After") != "" {
			t.Errorf("kind %v: Retry-After kept on an error", kind)
		}
		if rec.Header().Get("Content-Type") != "application/json;charset=utf-8" {
			t.Errorf("kind %v: content type %q", kind, rec.Header().Get("Content-Type"))
		}
	}
}

// TestInfoKeysChecked: translation's bucketInfo keys are keys B2 accepts,
// and two of them, or the dialect does not load.
func TestInfoKeysChecked(t *testing.T) {
	for _, tc := range []struct {
		name, nameKey, workspaceKey, want string
	}{
		{"defaults", "", "", ""},
		{"own keys", "fb_name", "fb-workspace", ""},
		{"50 characters", strings.Repeat("k", 50), "", ""},
		{"51 characters", strings.Repeat("k", 51), "", "name_info_key"},
		{"space", "my name", "", "name_info_key"},
		{"b2- prefix", "", "B2-workspace", "workspace_info_key"},
		{"one key for both", "same", "same", "both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(dialect.Options{Limits: jsonscan.DefaultLimits, NameKey: tc.nameKey, WorkspaceKey: tc.workspaceKey})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

// BenchmarkValidate measures the schema and B2's rules on the seed body,
// parsed once: the gateway's validation alone.
func BenchmarkValidate(b *testing.B) {
	d := newDialect(b)
	tree, err := jsonscan.Parse([]byte(seedBody), jsonscan.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	u := dialect.NewDocument(dialect.Call{Op: dialect.OpUpdate, Version: "v3"}, tree, []byte(seedBody))
	b.ReportAllocs()
	for b.Loop() {
		if derr := d.Validate(u); derr != nil {
			b.Fatal(derr)
		}
	}
}
