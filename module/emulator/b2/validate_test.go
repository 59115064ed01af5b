package b2emulator

import (
	"fmt"
	"strings"
	"testing"
)

func corsRuleJSON(name string) string {
	return `{"corsRuleName":"` + name + `","allowedOrigins":["https://example.com"],"allowedOperations":["s3_get"],"maxAgeSeconds":60}`
}

func manyInfo(n int) string {
	var entries []string
	for i := range n {
		entries = append(entries, fmt.Sprintf(`"k%d":"v"`, i))
	}
	return "{" + strings.Join(entries, ",") + "}"
}

func manyRules(n int, rule func(i int) string) string {
	var rules []string
	for i := range n {
		rules = append(rules, rule(i))
	}
	return "[" + strings.Join(rules, ",") + "]"
}

// Each body is sent as the fields after bucketId of an update to a bucket
// with file lock enabled, by a key with every capability, so only the
// validation of the body can refuse it.
func TestUpdateBodyValidation(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "master-id", "master-secret")
	id := bucketID(t, h, "locked-bucket")
	longName := strings.Repeat("a", 51)

	for _, tc := range []struct {
		name, fields, code, msg string
	}{
		{"unknown top-level field", `"bucketName":"x"`, "bad_request", "unknown field bucketName"},
		{"accountId not a string", `"accountId":7`, "bad_request", "accountId must be a string"},
		{"empty accountId", `"accountId":""`, "bad_request", "accountId must not be empty"},
		{"bucketType snapshot", `"bucketType":"snapshot"`, "bad_request", "bucketType"},
		{"bucketType not a string", `"bucketType":true`, "bad_request", "bucketType must be a string"},
		{"ifRevisionIs string", `"ifRevisionIs":"1"`, "bad_request", "ifRevisionIs must be an integer"},
		{"ifRevisionIs fraction", `"ifRevisionIs":1.5`, "bad_request", "ifRevisionIs must be an integer"},
		{"ifRevisionIs exponent", `"ifRevisionIs":1e2`, "bad_request", "ifRevisionIs must be an integer"},

		{"bucketInfo array", `"bucketInfo":[]`, "bad_request", "bucketInfo must be an object"},
		{"bucketInfo 11 keys", `"bucketInfo":` + manyInfo(11), "bad_request", "bucketInfo has 11 entries"},
		{"bucketInfo number value", `"bucketInfo":{"a":1}`, "bad_request", `bucketInfo["a"] must be a string`},
		{"bucketInfo bad key", `"bucketInfo":{"a b":"x"}`, "bad_request", `bucketInfo key "a b"`},
		{"bucketInfo reserved key", `"bucketInfo":{"b2-x":"x"}`, "bad_request", `bucketInfo key "b2-x"`},
		{"bucketInfo long key", `"bucketInfo":{"` + longName + `":"x"}`, "bad_request", "bucketInfo key"},

		{"corsRules object", `"corsRules":{}`, "bad_request", "corsRules must be an array"},
		{"corsRules 101", `"corsRules":` + manyRules(101, func(i int) string { return corsRuleJSON(fmt.Sprintf("rule-%03d", i)) }), "bad_request", "corsRules has 101 rules"},
		{"cors unknown field", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["*"],"allowedOperations":["s3_get"],"maxAgeSeconds":1,"extra":1}]`, "bad_request", "unknown field corsRules[0].extra"},
		{"cors name missing", `"corsRules":[{"allowedOrigins":["*"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].corsRuleName is required"},
		{"cors name short", `"corsRules":[` + corsRuleJSON("abcde") + `]`, "bad_request", "corsRules[0].corsRuleName"},
		{"cors name long", `"corsRules":[` + corsRuleJSON(longName) + `]`, "bad_request", "corsRules[0].corsRuleName"},
		{"cors name underscore", `"corsRules":[` + corsRuleJSON("abc_def") + `]`, "bad_request", "corsRules[0].corsRuleName"},
		{"cors name reserved", `"corsRules":[` + corsRuleJSON("b2-rules") + `]`, "bad_request", "corsRules[0].corsRuleName"},
		{"cors name duplicate", `"corsRules":[` + corsRuleJSON("same-name") + `,` + corsRuleJSON("same-name") + `]`, "bad_request", `corsRules[1].corsRuleName "same-name"`},
		{"cors origins empty", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":[],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].allowedOrigins must not be empty"},
		{"cors origins missing", `"corsRules":[{"corsRuleName":"abcdef","allowedOperations":["s3_get"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].allowedOrigins is required"},
		{"cors star not alone", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["*","https://a.com"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].allowedOrigins"},
		{"cors empty origin", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":[""],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].allowedOrigins[0]"},
		{"cors two stars in one origin", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["https://*.*.com"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].allowedOrigins[0]"},
		{"cors https twice", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["https","https"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].allowedOrigins"},
		{"cors unknown operation", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["*"],"allowedOperations":["s3_get","s3_copy"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].allowedOperations[1]"},
		{"cors operations missing", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["*"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].allowedOperations is required"},
		{"cors headers not strings", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["*"],"allowedOperations":["s3_get"],"allowedHeaders":[1],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0].allowedHeaders[0] must be a string"},
		{"cors max age too big", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["*"],"allowedOperations":["s3_get"],"maxAgeSeconds":86401}]`, "bad_request", "corsRules[0].maxAgeSeconds"},
		{"cors max age negative", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["*"],"allowedOperations":["s3_get"],"maxAgeSeconds":-1}]`, "bad_request", "corsRules[0].maxAgeSeconds"},
		{"cors max age missing", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["*"],"allowedOperations":["s3_get"]}]`, "bad_request", "corsRules[0].maxAgeSeconds is required"},
		{"cors rule too large", `"corsRules":[{"corsRuleName":"abcdef","allowedOrigins":["*"],"allowedOperations":["s3_get"],"exposeHeaders":["` + strings.Repeat("x", 990) + `"],"maxAgeSeconds":1}]`, "bad_request", "corsRules[0] is"},

		{"lifecycle object", `"lifecycleRules":{}`, "bad_request", "lifecycleRules must be an array"},
		{"lifecycle 101", `"lifecycleRules":` + manyRules(101, func(i int) string { return fmt.Sprintf(`{"fileNamePrefix":"p%03d/","daysFromHidingToDeleting":1}`, i) }), "bad_request", "lifecycleRules has 101 rules"},
		{"lifecycle prefix missing", `"lifecycleRules":[{"daysFromHidingToDeleting":1}]`, "bad_request", "lifecycleRules[0].fileNamePrefix is required"},
		{"lifecycle no action", `"lifecycleRules":[{"fileNamePrefix":"a/","daysFromHidingToDeleting":null}]`, "bad_request", "lifecycleRules[0] needs at least one"},
		{"lifecycle zero days", `"lifecycleRules":[{"fileNamePrefix":"a/","daysFromUploadingToHiding":0}]`, "bad_request", "lifecycleRules[0].daysFromUploadingToHiding must be a positive integer"},
		{"lifecycle days string", `"lifecycleRules":[{"fileNamePrefix":"a/","daysFromHidingToDeleting":"1"}]`, "bad_request", "lifecycleRules[0].daysFromHidingToDeleting must be an integer"},
		{"lifecycle overlapping", `"lifecycleRules":[{"fileNamePrefix":"photos/","daysFromHidingToDeleting":1},{"fileNamePrefix":"photos/kittens/","daysFromHidingToDeleting":2}]`, "bad_request", "lifecycleRules[1].fileNamePrefix"},
		{"lifecycle everything overlaps", `"lifecycleRules":[{"fileNamePrefix":"a/","daysFromHidingToDeleting":1},{"fileNamePrefix":"","daysFromHidingToDeleting":2}]`, "bad_request", "overlaps"},
		{"lifecycle unknown field", `"lifecycleRules":[{"fileNamePrefix":"a/","daysFromHidingToDeleting":1,"days":2}]`, "bad_request", "unknown field lifecycleRules[0].days"},

		{"sse SSE-C", `"defaultServerSideEncryption":{"mode":"SSE-C","algorithm":"AES256"}`, "bad_request", "defaultServerSideEncryption.mode"},
		{"sse customer key", `"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256","customerKey":"x"}`, "bad_request", "unknown field defaultServerSideEncryption.customerKey"},
		{"sse without algorithm", `"defaultServerSideEncryption":{"mode":"SSE-B2"}`, "bad_request", "defaultServerSideEncryption.algorithm"},
		{"sse bad algorithm", `"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"DES"}`, "bad_request", "defaultServerSideEncryption.algorithm"},
		{"sse empty algorithm", `"defaultServerSideEncryption":{"mode":"none","algorithm":""}`, "bad_request", "defaultServerSideEncryption.algorithm"},
		{"sse mode number", `"defaultServerSideEncryption":{"mode":1}`, "bad_request", "defaultServerSideEncryption.mode must be a string"},
		{"sse empty mode", `"defaultServerSideEncryption":{"mode":"","algorithm":""}`, "bad_request", "defaultServerSideEncryption.mode"},
		{"sse no mode", `"defaultServerSideEncryption":{}`, "bad_request", "defaultServerSideEncryption.mode is required"},
		{"sse string", `"defaultServerSideEncryption":"SSE-B2"`, "bad_request", "defaultServerSideEncryption must be an object"},

		{"retention without period", `"defaultRetention":{"mode":"governance"}`, "bad_request", "defaultRetention.period is required"},
		{"retention zero duration", `"defaultRetention":{"mode":"compliance","period":{"duration":0,"unit":"days"}}`, "bad_request", "defaultRetention.period.duration"},
		{"retention bad unit", `"defaultRetention":{"mode":"compliance","period":{"duration":1,"unit":"weeks"}}`, "bad_request", "defaultRetention.period.unit"},
		{"retention bad mode", `"defaultRetention":{"mode":"forever","period":{"duration":1,"unit":"days"}}`, "bad_request", "defaultRetention.mode"},
		{"retention empty mode", `"defaultRetention":{"mode":""}`, "bad_request", "defaultRetention.mode"},
		{"retention off with period", `"defaultRetention":{"mode":null,"period":{"duration":1,"unit":"days"}}`, "bad_request", "defaultRetention.period must be null"},
		{"retention no mode", `"defaultRetention":{"period":null}`, "bad_request", "defaultRetention.mode is required"},
		{"retention period extra", `"defaultRetention":{"mode":"governance","period":{"duration":1,"unit":"days","x":1}}`, "bad_request", "unknown field defaultRetention.period.x"},

		{"fileLockEnabled string", `"fileLockEnabled":"true"`, "bad_request", "fileLockEnabled must be true or false"},

		{"replication empty", `"replicationConfiguration":{}`, "bad_request", "replicationConfiguration needs"},
		{"replication unknown field", `"replicationConfiguration":{"asReplicationSource":null,"rules":[]}`, "bad_request", "unknown field replicationConfiguration.rules"},
		{"replication no key id", `"replicationConfiguration":{"asReplicationSource":{"replicationRules":[{"destinationBucketId":"d","replicationRuleName":"r"}]}}`, "bad_request", "replicationConfiguration.asReplicationSource.sourceApplicationKeyId is required"},
		{"replication three rules", `"replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"r1"},{"destinationBucketId":"d","replicationRuleName":"r2"},{"destinationBucketId":"d","replicationRuleName":"r3"}]}}`, "bad_request", "replicationRules may hold at most 2"},
		{"replication bad rule name", `"replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"no spaces"}]}}`, "bad_request", "replicationRules[0].replicationRuleName"},
		{"replication duplicate rule name", `"replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"r"},{"destinationBucketId":"e","replicationRuleName":"r"}]}}`, "bad_request", "replicationRules[1].replicationRuleName"},
		{"replication priority zero", `"replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"r","priority":0}]}}`, "bad_request", "replicationRules[0].priority"},
		{"replication isEnabled string", `"replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","replicationRuleName":"r","isEnabled":"yes"}]}}`, "bad_request", "replicationRules[0].isEnabled"},
		{"replication no destination bucket", `"replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"replicationRuleName":"r"}]}}`, "bad_request", "replicationRules[0].destinationBucketId is required"},
		{"allowed header wildcard not alone", `"corsRules":[{"corsRuleName":"rule-name","allowedOrigins":["*"],"allowedOperations":["s3_get"],"allowedHeaders":["*","range"],"maxAgeSeconds":1}]`, "bad_request", `"*" must be the only header`},
		{"exposed header wildcard", `"corsRules":[{"corsRuleName":"rule-name","allowedOrigins":["*"],"allowedOperations":["s3_get"],"exposeHeaders":["x-bz-*"],"maxAgeSeconds":1}]`, "bad_request", "exposeHeaders[0] must be a complete header name"},
		{"negative ifRevisionIs", `"ifRevisionIs":-1`, "bad_request", "ifRevisionIs must not be negative"},
		{"replication mapping number", `"replicationConfiguration":{"asReplicationDestination":{"sourceToDestinationKeyMapping":{"a":1}}}`, "bad_request", "sourceToDestinationKeyMapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+id+`",`+tc.fields+`}`), 400, tc.code, tc.msg)
		})
	}

	for _, tc := range []struct{ name, body string }{
		{"malformed", `{"bucketId":`},
		{"trailing data", `{"bucketId":"x"} {}`},
		{"not JSON", `bucketId=x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, tok, "/b2api/v3/b2_update_bucket", tc.body), 400, "bad_json", "")
		})
	}
	t.Run("array body", func(t *testing.T) {
		wantError(t, post(h, tok, "/b2api/v3/b2_update_bucket", `[]`), 400, "bad_request", "JSON object")
	})
	t.Run("huge body", func(t *testing.T) {
		wantError(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+strings.Repeat("x", maxBodySize)+`"}`), 400, "bad_request", "larger")
	})
}

// Bodies real clients send, and the edges of every limit, must pass.
func TestUpdateBodiesAccepted(t *testing.T) {
	h := newEmulator(t)
	tok := login(t, h, "master-id", "master-secret")
	id := bucketID(t, h, "locked-bucket")
	for _, tc := range []struct{ name, fields string }{
		// First, while the bucket is still at revision 1.
		{"blazer style", `"accountId":"acct-one","bucketType":"allPrivate","bucketInfo":{"a":"b"},"lifecycleRules":[{"daysFromHidingToDeleting":3,"fileNamePrefix":"x/"}],"ifRevisionIs":1`},
		{"rclone style", `"accountId":"acct-one","lifecycleRules":[{"daysFromHidingToDeleting":1,"daysFromUploadingToHiding":null,"daysFromStartingToCancelingUnfinishedLargeFiles":null,"fileNamePrefix":""}]`},
		{"b2sdk sse none", `"defaultServerSideEncryption":{"mode":"none"}`},
		{"docs sse null", `"defaultServerSideEncryption":{"mode":null}`},
		{"sse on", `"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"}`},
		{"b2sdk retention off", `"defaultRetention":{"mode":null}`},
		{"ts retention off", `"defaultRetention":{"mode":"none","period":null}`},
		{"retention years", `"defaultRetention":{"mode":"compliance","period":{"duration":1,"unit":"years"}}`},
		{"ten info keys", `"bucketInfo":` + manyInfo(10)},
		{"info key limits", `"bucketInfo":{"Cache-Control":"max-age=60","a_b-C9":"","` + strings.Repeat("k", 50) + `":"v"}`},
		{"hundred cors rules", `"corsRules":` + manyRules(100, func(i int) string { return corsRuleJSON(fmt.Sprintf("rule-%03d", i)) })},
		{"cors docs example", `"corsRules":[{"corsRuleName":"downloadFromAnyOrigin","allowedOrigins":["https"],"allowedHeaders":["range"],"allowedOperations":["b2_download_file_by_id","b2_download_file_by_name"],"exposeHeaders":["x-bz-content-sha1"],"maxAgeSeconds":3600}]`},
		{"cors star and nulls", `"corsRules":[{"corsRuleName":"` + strings.Repeat("a", 50) + `","allowedOrigins":["*"],"allowedOperations":["s3_get","s3_head"],"allowedHeaders":null,"exposeHeaders":null,"maxAgeSeconds":86400}]`},
		{"cors wildcards", `"corsRules":[{"corsRuleName":"wildcards","allowedOrigins":["https://*.example.com","https://*:8765","https"],"allowedOperations":["s3_put"],"maxAgeSeconds":0}]`},
		{"hundred lifecycle rules", `"lifecycleRules":` + manyRules(100, func(i int) string { return fmt.Sprintf(`{"fileNamePrefix":"p%03d/","daysFromHidingToDeleting":1}`, i) })},
		{"sibling prefixes", `"lifecycleRules":[{"fileNamePrefix":"photos/","daysFromHidingToDeleting":1},{"fileNamePrefix":"videos/","daysFromStartingToCancelingUnfinishedLargeFiles":2}]`},
		{"replication source", `"replicationConfiguration":{"asReplicationSource":{"sourceApplicationKeyId":"k","replicationRules":[{"destinationBucketId":"d","fileNamePrefix":"","includeExistingFiles":false,"isEnabled":true,"priority":1,"replicationRuleName":"replication-us-east"}]},"asReplicationDestination":null}`},
		{"replication cleared", `"replicationConfiguration":{"asReplicationSource":null,"asReplicationDestination":null}`},
		{"explicit nulls", `"bucketType":null,"bucketInfo":null,"corsRules":null,"ifRevisionIs":null,"accountId":null`},
		{"file lock stays on", `"fileLockEnabled":true`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkBucketShape(t, wantOK(t, post(h, tok, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+id+`",`+tc.fields+`}`)))
		})
	}
}
