package schema

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
	"github.com/bucketgate/bucketgate/schemas"
)

// keywords is a schema using every keyword the fast path implements, in
// combinations the built-in schemas do not (yet) have, so the fuzz test
// holds the fast path to gojsonschema beyond today's built-in schemas.
const keywords = `{
  "$id": "https://example.com/keywords.json",
  "definitions": {
    "name": {"type": "string", "maxLength": 3},
    "names": {"type": "array", "items": {"$ref": "#/definitions/name"}, "minItems": 1},
    "tree": {"type": "object", "additionalProperties": false, "properties": {"v": {"$ref": "#/definitions/name"}, "kids": {"type": "array", "items": {"$ref": "#/definitions/tree"}}}}
  },
  "type": "object",
  "minProperties": 1, "maxProperties": 6,
  "propertyNames": {"maxLength": 8, "not": {"const": "bad"}},
  "required": ["k"],
  "properties": {
    "k": {"type": ["string", "integer", "null"], "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$",
          "minimum": -3, "exclusiveMaximum": 1e3, "exclusiveMinimum": -2.5, "maximum": 999.5},
    "e": {"enum": ["a", 1, 2.5, null, true, {"x": [1]}, [1, "a"]]},
    "c": {"const": {"a": 1}},
    "s": {"const": "x<&>"},
    "u": {"type": "array", "uniqueItems": true, "minItems": 1, "maxItems": 5, "items": {"type": ["number", "string", "object", "array", "boolean", "null"]}},
    "a": {"anyOf": [{"type": "string", "minLength": 3}, {"type": "integer", "maximum": 5}, {"type": "object", "required": ["z"], "properties": {"z": {"type": "boolean"}}}]},
    "o": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 10}, {"type": "array", "items": false}]},
    "n": {"not": {"anyOf": [{"const": 0}, {"type": "array", "maxItems": 0}]}},
    "f": false,
    "t": true,
    "r": {"$ref": "#/definitions/names", "maxItems": 0},
    "tr": {"$ref": "#/definitions/tree"}
  },
  "additionalProperties": {"type": ["string", "array"], "items": {"enum": ["p", "q"]}},
  "allOf": [
    {"if": {"required": ["a"]}, "then": {"required": ["o"]}, "else": {"properties": {"k": {"type": "string"}}}},
    {"if": {"properties": {"k": {"const": "abc"}}}, "then": {"properties": {"e": {"type": "string"}}}}
  ]
}`

func fuzzSchemas(tb testing.TB) []*Schema {
	var out []*Schema
	for _, src := range [][]byte{schemas.B2UpdateBucket, schemas.FlashbackUpdateBucket, schemas.B2ListBuckets,
		schemas.B2CreateBucket, schemas.B2DeleteBucket, schemas.FlashbackCreateBucket, []byte(keywords)} {
		s, err := Compile(src)
		if err != nil {
			tb.Fatal(err)
		}
		if s.fast == nil {
			tb.Fatalf("no fast path for %.80s", src)
		}
		out = append(out, s)
	}
	return out
}

var fuzzSeeds = []string{
	// b2_update_bucket: valid, then invalid in many ways
	`{"accountId":"ACCOUNT_ID","bucketId":"4a48fe8875c6214145260818","bucketType":"allPublic","bucketInfo":{},"corsRules":[{"corsRuleName":"downloadFromAnyOrigin","allowedOrigins":["https"],"allowedHeaders":["range"],"allowedOperations":["b2_download_file_by_id","b2_download_file_by_name"],"exposeHeaders":["x-bz-content-sha1"],"maxAgeSeconds":3600}],"defaultRetention":{"mode":"governance","period":{"duration":2,"unit":"years"}},"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"},"fileLockEnabled":true,"lifecycleRules":[{"daysFromHidingToDeleting":30,"daysFromUploadingToHiding":null,"fileNamePrefix":"backup/"}],"replicationConfiguration":{"asReplicationSource":{"replicationRules":[{"destinationBucketId":"3f46fe8276c62b414506021y","fileNamePrefix":"","includeExistingFiles":false,"isEnabled":true,"priority":1,"replicationRuleName":"replication-us-east"}],"sourceApplicationKeyId":"00512f95cf4dcf0000000004z"}},"ifRevisionIs":1}`,
	`{"bucketId":"b1","bucketType":"snapshot","corsRules":[{}]}`,
	`{"bucketId":"b1","bucketType":"snapshot","corsRules":[{"corsRuleName":"web","allowedOrigins":["*","https"],"allowedOperations":["s3_get"],"maxAgeSeconds":90000}]}`,
	`{"bucketId":"","bucketInfo":{"b2-x":"1","":"2","ok":3,"a1":"","a2":"","a3":"","a4":"","a5":"","a6":"","a7":"","a8":""},"extra":1}`,
	`{"bucketId":"b1","corsRules":[{"corsRuleName":"B2-rule","allowedOrigins":[],"allowedOperations":["s3_get","s3_get","nope"],"allowedHeaders":null,"exposeHeaders":[""],"maxAgeSeconds":1.5}]}`,
	`{"bucketId":"b1","defaultServerSideEncryption":{"mode":"SSE-B2"},"defaultRetention":{"mode":null,"period":{"duration":0,"unit":"weeks","x":1}}}`,
	`{"bucketId":"b1","defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":null},"lifecycleRules":[{"fileNamePrefix":"a","daysFromHidingToDeleting":1e0},{"daysFromUploadingToHiding":-1}]}`,
	`{"bucketId":"b1","replicationConfiguration":{},"ifRevisionIs":9007199254740992}`,
	`{"bucketId":"b1","replicationConfiguration":{"asReplicationSource":null,"asReplicationDestination":{"sourceToDestinationKeyMapping":{"k":"","1":2}}}}`,
	`{"bucketId":"b1","replicationConfiguration":{"asReplicationSource":{"replicationRules":[{},{},{}],"sourceApplicationKeyId":7}}}`,
	`[]`, `null`, `"x"`, `1`, `{}`, `{"bucketId":null,"fileLockEnabled":"yes","ifRevisionIs":0.5}`,
	// Flashback
	`{"name":"Backups","workspaceId":"ws2"}`,
	`{"storageType":"S3","bucket":"my..bucket","endpoint":"ftp://x","region":"us--west","apiKeyUuid":"123"}`,
	`{"storageType":"BLOB","bucket":"a-b--c","key":"","secret":"s","walletAddress":"0x_1"}`,
	`{"storageType":"GCS","bucket":"ok.bucket-name"}`,
	`{"storageType":"AZURE","bucket":"AB"}`,
	// b2_create_bucket and b2_delete_bucket
	`{"accountId":"1","bucketInfo":null,"bucketName":"bucketName1","bucketType":"allPublic","corsRules":[{"allowedHeaders":null,"allowedOperations":["b2_download_file_by_id"],"allowedOrigins":["https://something.com"],"corsRuleName":"rule-name","exposeHeaders":null,"maxAgeSeconds":0}],"defaultServerSideEncryption":null,"fileLockEnabled":false,"lifecycleRules":null,"replicationConfiguration":null}`,
	`{"accountId":"a","bucketName":"b2-reserved","bucketType":null,"ifRevisionIs":1}`,
	`{"accountId":null,"bucketName":"abc","bucketType":"snapshot","bucketId":"b1"}`,
	`{"accountId":"a","bucketName":"with_underscore","bucketType":"allPrivate","fileLockEnabled":"true","defaultRetention":{"mode":"governance"}}`,
	// Flashback POST /bucket
	`{"name":"My Backup Bucket","bucket":"my-backup-bucket-2024","storageType":"S3","key":"AKIAIOSFODNN7EXAMPLE","secret":"s","region":"us-east-1","endpoint":"https://gateway.storjshare.io","workspaceId":"workspace-123"}`,
	`{"name":"n","bucket":"b-1","storageType":"AZURE","workspaceId":"w","apiKeyUuid":"0f8fad5b-d9cb-469f-a165-70867728950e"}`,
	`{"name":"n","bucket":"b-1","storageType":"GCS","workspaceId":"w","key":"k"}`,
	`{"name":"","storageType":"FTP","apiKeyUuid":null}`,
	// b2_list_buckets
	`{"accountId":"a","bucketId":null,"bucketName":null,"bucketTypes":["all","bogus"]}`,
	`{"bucketTypes":[],"bucketName":""}`,
	// the keyword schema
	`{"k":"ab","e":{"x":[1.0]},"c":{"a":1.0},"s":"x<&>","u":[1,1.0,"1",{"a":1},{"a":1}],"a":{"z":1},"o":10.5,"n":[],"f":1,"t":2,"zz":["p","r"]}`,
	`{"k":null,"a":"ab","o":"x","n":0,"e":[1,"a"],"u":[],"bad":1,"longername":"x"}`,
	`{"k":1000,"a":7,"o":[1],"e":2.50,"c":{"a":2}}`,
	`{"k":-2.5,"a":3,"o":3,"e":null}`,
	`{"k":"abc","e":"a","a":"abcd","o":12}`,
	`{"k":5,"s":"x\u003c&>","u":[true,true,null,null,[1],[1.0]]}`,
	`{"k":"\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00"}`,
	`{"k":"ab","r":["abc","abcd",1],"tr":{"v":"x","kids":[{"v":"long","kids":[{"w":1}]},{"kids":[]}]}}`,
	`{"k":"ab","r":[],"tr":{"kids":{}}}`,
}

// FuzzFastSchema holds the fast path to gojsonschema: for every schema and
// document, both accept or refuse it, with the same violations, worded the
// same.
func FuzzFastSchema(f *testing.F) {
	ss := fuzzSchemas(f)
	for _, seed := range fuzzSeeds {
		for i := range ss {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		doc, err := jsonscan.Parse(body, jsonscan.DefaultLimits)
		if err != nil {
			return
		}
		sameResults(t, ss[int(which)%len(ss)], doc)
	})
}

func sameResults(t *testing.T, s *Schema, tree jsonscan.Value) {
	t.Helper()
	fast, ok := validateFast(s.fast, tree)
	if !ok {
		return // handed to gojsonschema whole: nothing to compare
	}
	doc := tree.Any()
	slow := s.validateSlow(doc)
	if !slices.Equal(sorted(fast), sorted(slow)) {
		t.Fatalf("fast path and gojsonschema disagree on %v\nfast: %v\nslow: %v", doc, fast, slow)
	}
	// gojsonschema walks maps in Go's random order, so where several errors
	// share a path their order can differ from run to run in gojsonschema
	// itself; the fast path's (the document's) must be one it also produces.
	want := rendered(fast)
	for range 50 {
		if rendered(s.validateSlow(doc)) == want {
			return
		}
	}
	t.Fatalf("fast path orders %q, gojsonschema never does (%q)", want, rendered(slow))
}

func sorted(vs []Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Path + "\x00" + v.Message
	}
	slices.Sort(out)
	return out
}

func rendered(vs []Violation) string {
	if len(vs) == 0 {
		return ""
	}
	return strings.Join(sorted(vs), "; ")
}

func TestFastPathIsUsedForBuiltInSchemasOnly(t *testing.T) {
	for _, src := range [][]byte{schemas.B2UpdateBucket, schemas.FlashbackUpdateBucket, schemas.B2ListBuckets,
		schemas.B2CreateBucket, schemas.B2DeleteBucket, schemas.FlashbackCreateBucket} {
		s, err := Load("", src)
		if err != nil {
			t.Fatal(err)
		}
		if s.fast == nil {
			// Validation still works, through gojsonschema, but at several
			// times the cost: teach schemafast.go the new keyword.
			t.Fatalf("%.100s...: no fast path; the schema uses a keyword schemafast.go does not implement", src)
		}
	}
	file := t.TempDir() + "/s.json"
	if err := os.WriteFile(file, schemas.B2UpdateBucket, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(file, nil)
	if err != nil || s.fast != nil {
		t.Fatalf("a user's schema must go to gojsonschema alone (%v)", err)
	}
}

func TestFastPathLeavesUnsupportedKeywordsToGojsonschema(t *testing.T) {
	for _, src := range []string{
		`{"$ref":"#","definitions":{"a":{"type":"string"}}}`,
		`{"properties":{"a":{"$id":"http://example.com/other.json","type":"string"}}}`,
		`{"properties":{"a":{"format":"email"}}}`,
		`{"items":[{"type":"string"}]}`,
		`{"patternProperties":{"^a":{}}}`,
		`{"multipleOf":2}`,
	} {
		s, err := Compile([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if s.fast != nil {
			t.Errorf("%s: fast path compiled", src)
		}
	}
}

func TestFastPathMatchesSeeds(t *testing.T) {
	ss := fuzzSchemas(t)
	for _, seed := range fuzzSeeds {
		doc, err := jsonscan.Parse([]byte(seed), jsonscan.DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", seed, err)
		}
		for i, s := range ss {
			t.Run(fmt.Sprintf("%d/%.30s", i, strings.ReplaceAll(seed, "/", "_")), func(t *testing.T) { sameResults(t, s, doc) })
		}
	}
}
