package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFlashbackClientFindsItsBucket speaks to the demo's Flashback sites as
// Flashback's TypeScript client does: ApiClient.getStorageBuckets lists with
// GET /bucket?workspaceId=…&walletAddress=… (the text "undefined" for an
// argument not given), then the bucket it found is updated by id. Through
// the demo's demo-flashback-gateway the list is Flashback's, through its
// demo-flashback-to-b2 the B2 bucket's.
func TestFlashbackClientFindsItsBucket(t *testing.T) {
	tester := startCaddy(t, demoConfig(t), "caddyfile")
	for _, site := range []struct{ name, base, id string }{
		{"gateway mode", "http://127.0.0.1:$demo-flashback-gateway", demoFlashbackID},
		{"translated to B2", demoFlashbackToB2, demoBucketID},
	} {
		t.Run(site.name, func(t *testing.T) {
			for _, query := range []string{"?workspaceId=undefined&walletAddress=undefined", "?workspaceId=demo-workspace&walletAddress=undefined", ""} {
				status, _, body := do(t, tester, "GET", site.base+"/bucket"+query, "", "Authorization", "Bearer demo-gw-limited-key")
				var list struct {
					Success bool
					Buckets []map[string]any
				}
				if err := json.Unmarshal([]byte(body), &list); err != nil || status != 200 || !list.Success || len(list.Buckets) != 1 {
					t.Fatalf("list %s: %d %s", query, status, body)
				}
				b := list.Buckets[0]
				if b["id"] != site.id || b["bucket"] != "demo-bucket" || b["workspaceId"] != "demo-workspace" {
					t.Errorf("list %s: %v", query, b)
				}
				if strings.Contains(body, "AKIA") || strings.Contains(body, "EXAMPLEKEY") || strings.Contains(body, `"secret"`) || strings.Contains(body, `"key"`) {
					t.Errorf("the list shows a credential: %s", body)
				}
			}
			status, _, body := do(t, tester, "GET", site.base+"/bucket?workspaceId=another-workspace&walletAddress=undefined", "", "Authorization", "Bearer demo-gw-app-key")
			if status != 200 || !strings.Contains(body, `"buckets":[]`) {
				t.Errorf("another workspace: %d %s", status, body)
			}

			status, _, body = do(t, tester, "PUT", site.base+"/bucket/"+site.id, `{"name":"Found and renamed"}`,
				"Authorization", "Bearer demo-gw-app-key", "Content-Type", "application/json")
			if status != 200 || !strings.Contains(body, `"success":true`) {
				t.Fatalf("update of the listed bucket: %d %s", status, body)
			}
			_, _, body = do(t, tester, "GET", site.base+"/bucket?workspaceId=undefined&walletAddress=undefined", "", "Authorization", "Bearer demo-gw-app-key")
			if !strings.Contains(body, `"name":"Found and renamed"`) {
				t.Errorf("the list after the update: %s", body)
			}
		})
	}
}
