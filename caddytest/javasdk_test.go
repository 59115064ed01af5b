package integration

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestJavaSDKBodyShape speaks to every B2 site of the demo exactly as
// b2-sdk-java does: it signs in with POST {} on /b2api/v1, lists with
// "bucketTypes": null, reads the revision into a 32-bit int, and updates
// with every field it was not given sent as null
// (B2StorageClientWebifierImplTest.testAuthorizeAccount, testListBuckets,
// testUpdateBucket).
func TestJavaSDKBodyShape(t *testing.T) {
	tester := startCaddy(t, demoConfig(t), "caddyfile")
	for _, site := range []struct {
		name, base, keyID, key string
		// info is the bucketInfo the update sets: through translation to
		// Flashback only the display name and workspace have a home.
		info string
		// check reads the upstream's bucket back and reports what is wrong.
		check func() string
	}{
		{"gateway mode", demoGateway, "demo-gw-key-id", "demo-gw-app-key",
			`{"name":"Demo bucket","workspaceId":"demo-workspace","owner":"java"}`, nil},
		{"passthrough", demoPassthrough, "demo-key-id", "demo-app-key",
			`{"name":"Demo bucket","workspaceId":"demo-workspace","owner":"java-passthrough"}`, nil},
		{"translated to Flashback", demoB2ToFlashback, "demo-gw-key-id", "demo-gw-app-key",
			`{"name":"Renamed by Java","workspaceId":"demo-workspace"}`, func() string {
				_, _, list := do(t, tester, "GET", "http://127.0.0.1:$demo-flashback-emulator/bucket", "", "Authorization", "Bearer demo-token")
				if !strings.Contains(list, `"name":"Renamed by Java"`) {
					return "Flashback did not get the new name: " + list
				}
				return ""
			}},
	} {
		t.Run(site.name, func(t *testing.T) {
			basic := base64.StdEncoding.EncodeToString([]byte(site.keyID + ":" + site.key))
			status, _, body := do(t, tester, "POST", site.base+"/b2api/v1/b2_authorize_account", "{}", "Authorization", "Basic "+basic)
			var grant struct{ AccountID, AuthorizationToken, APIURL string }
			if err := json.Unmarshal([]byte(body), &grant); err != nil || status != 200 || grant.APIURL == "" {
				t.Fatalf("authorize: %d %s", status, body)
			}
			auth := []string{"Authorization", grant.AuthorizationToken, "Content-Type", "application/json"}

			status, _, body = do(t, tester, "POST", grant.APIURL+"/b2api/v1/b2_list_buckets",
				fmt.Sprintf(`{"accountId":%q,"bucketTypes":null}`, grant.AccountID), auth...)
			var list struct {
				Buckets []struct {
					BucketID   string
					BucketName string
					Revision   int32 // b2-sdk-java's B2Bucket.revision is an int
				}
			}
			if err := json.Unmarshal([]byte(body), &list); err != nil || status != 200 || len(list.Buckets) != 1 || list.Buckets[0].BucketName != "demo-bucket" {
				t.Fatalf("list as b2-sdk-java reads it: %d %s: %v", status, body, err)
			}
			b := list.Buckets[0]
			if b.Revision <= 0 {
				t.Fatalf("revision %d is not a positive int", b.Revision)
			}

			update := fmt.Sprintf(`{"accountId":%q,"bucketId":%q,"bucketInfo":%s,"bucketType":null,`+
				`"corsRules":null,"defaultRetention":null,"defaultServerSideEncryption":null,"fileLockEnabled":null,`+
				`"ifRevisionIs":%d,"lifecycleRules":null,"replicationConfiguration":null}`, grant.AccountID, b.BucketID, site.info, b.Revision)
			status, _, body = do(t, tester, "POST", grant.APIURL+"/b2api/v1/b2_update_bucket", update, auth...)
			var after struct{ Revision int32 }
			if err := json.Unmarshal([]byte(body), &after); err != nil || status != 200 || after.Revision == b.Revision {
				t.Fatalf("update with nulls: %d %s", status, body)
			}
			if site.check != nil {
				if msg := site.check(); msg != "" {
					t.Error(msg)
				}
			}

			// The same body again, on the revision now gone: B2's 409.
			status, _, body = do(t, tester, "POST", grant.APIURL+"/b2api/v1/b2_update_bucket", update, auth...)
			if status != 409 || !strings.Contains(body, `"code":"conflict"`) {
				t.Errorf("stale revision: %d %s", status, body)
			}
		})
	}
}
