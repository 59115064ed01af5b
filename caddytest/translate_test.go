package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Backblaze/blazer/b2"
)

const (
	demoFlashbackToB2 = "http://127.0.0.1:$demo-flashback-to-b2"
	demoB2ToFlashback = "http://127.0.0.1:$demo-b2-to-flashback"
	demoFlashbackID   = "11111111-2222-3333-4444-555555555555"
)

// TestBlazerAgainstFlashback: blazer, unchanged, manages a Flashback bucket
// through the B2 API on demo-b2-to-flashback.
func TestBlazerAgainstFlashback(t *testing.T) {
	tester := startCaddy(t, demoConfig(t), "caddyfile")
	ctx := context.Background()
	rec := &wire{}
	client, err := b2.NewClient(ctx, "demo-gw-key-id", "demo-gw-app-key", b2.APIBase(ports(t, demoB2ToFlashback)), b2.Transport(rec))
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	bucket, err := client.Bucket(ctx, "demo-bucket")
	if err != nil {
		t.Fatalf("find by name: %v", err)
	}
	attrs, err := bucket.Attrs(ctx)
	if err != nil || attrs.Info["name"] != "Demo bucket" || attrs.Info["workspaceId"] != "demo-workspace" || attrs.Type != b2.Private {
		t.Fatalf("attributes: %+v %v", attrs, err)
	}
	stale, err := client.Bucket(ctx, "demo-bucket")
	if err != nil {
		t.Fatal(err)
	}

	if err := bucket.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"name": "Backups", "workspaceId": "demo-workspace"}}); err != nil {
		t.Fatalf("update display name: %v", err)
	}
	_, _, list := do(t, tester, "GET", "http://127.0.0.1:$demo-flashback-emulator/bucket", "", "Authorization", "Bearer demo-token")
	if !strings.Contains(list, `"name":"Backups"`) {
		t.Errorf("Flashback did not get the new name: %s", list)
	}

	if err := stale.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"name": "Lost update"}}); !b2.IsUpdateConflict(err) {
		t.Fatalf("stale update: %v, want an update conflict", err)
	}
	_, _, list = do(t, tester, "GET", "http://127.0.0.1:$demo-flashback-emulator/bucket", "", "Authorization", "Bearer demo-token")
	if strings.Contains(list, "Lost update") {
		t.Errorf("a stale update reached Flashback: %s", list)
	}
	if rec.count("b2_update_bucket OK") != 1 || rec.count("b2_update_bucket Conflict") != 1 {
		t.Errorf("calls: %v", rec.calls)
	}
}

// TestFlashbackClientAgainstB2KeepsOtherWriters: a Flashback client renames
// the B2 bucket through demo-flashback-to-b2 while another writer changes
// bucketInfo directly on B2; B2 replaces bucketInfo whole, yet both changes
// survive, because the gateway merges onto what it read and writes
// conditionally.
func TestFlashbackClientAgainstB2KeepsOtherWriters(t *testing.T) {
	tester := startCaddy(t, demoConfig(t), "caddyfile")
	direct := signIn(t, tester, "http://127.0.0.1:$demo-b2-emulator", "demo-key-id", "demo-app-key")

	// readInfo reads the bucket directly from the B2 emulator.
	readInfo := func() (map[string]string, int64) {
		_, _, body := do(t, tester, "POST", "http://127.0.0.1:$demo-b2-emulator/b2api/v2/b2_list_buckets", `{"accountId":"demo-account","bucketId":"`+demoBucketID+`"}`, "Authorization", direct)
		var l struct {
			Buckets []struct {
				BucketInfo map[string]string
				Revision   int64
			}
		}
		if err := json.Unmarshal([]byte(body), &l); err != nil || len(l.Buckets) != 1 {
			t.Fatalf("list: %s %v", body, err)
		}
		return l.Buckets[0].BucketInfo, l.Buckets[0].Revision
	}
	// setOwner is the other writer: a careful B2 client that merges too.
	setOwner := func(owner string) {
		for range 50 {
			info, rev := readInfo()
			info["owner"] = owner
			b, _ := json.Marshal(map[string]any{"accountId": "demo-account", "bucketId": demoBucketID, "bucketInfo": info, "ifRevisionIs": rev})
			if status, _, _ := do(t, tester, "POST", "http://127.0.0.1:$demo-b2-emulator/b2api/v2/b2_update_bucket", string(b), "Authorization", direct); status == http.StatusOK {
				return
			}
		}
		t.Error("the direct writer never got its update in")
	}

	const rounds = 15
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range rounds {
			setOwner(fmt.Sprintf("owner-%d", i))
			time.Sleep(time.Millisecond)
		}
	})
	wg.Go(func() {
		for i := range rounds {
			status, _, body := do(t, tester, "PUT", demoFlashbackToB2+"/bucket/"+demoBucketID, fmt.Sprintf(`{"name":"name-%d"}`, i),
				"Authorization", "Bearer demo-gw-app-key", "Content-Type", "application/json")
			if status != http.StatusOK {
				t.Errorf("Flashback update %d: %d %s", i, status, body)
			}
		}
	})
	wg.Wait()
	info, _ := readInfo()
	if !strings.HasPrefix(info["name"], "name-") || !strings.HasPrefix(info["owner"], "owner-") || info["workspaceId"] != "demo-workspace" {
		t.Errorf("a writer's change was lost: %v", info)
	}
	// The last change of each writer is the one that stands.
	status, hdr, _ := do(t, tester, "PUT", demoFlashbackToB2+"/bucket/"+demoBucketID, `{"name":"final"}`, "Authorization", "Bearer demo-gw-app-key", "Content-Type", "application/json")
	info, rev := readInfo()
	if status != 200 || info["name"] != "final" || !strings.HasPrefix(info["owner"], "owner-") || hdr.Get("ETag") != fmt.Sprintf(`"%d"`, rev) {
		t.Errorf("after the race: %d %v ETag %s revision %d", status, info, hdr.Get("ETag"), rev)
	}
}

// translationErrors: translating sites whose upstream refuses (a read-only
// Flashback token) or is gone (nothing listens on b2-gone), to see errors
// cross over.
const translationErrors = globals + `
:$flashback-emulator {
	flashback_emulator {
		workspace ws
		user reader-token {
			role ws READ
		}
		bucket "Read only" {
			id 33333333-0000-0000-0000-000000000003
			workspace ws
			storage_type S3
			bucket read-only
		}
	}
}
(keys) {
	key k1 {env.BG_FULL} {
		capabilities all
		workspace ws WRITE
	}
}
:$b2-to-flashback {
	bucketgate {
		api b2
		upstream_api flashback
		mode gateway
		signing_secret {env.BG_SIGNING}
		import keys
		upstream {
			token reader-token
		}
	}
	reverse_proxy 127.0.0.1:$flashback-emulator
}
:$flashback-to-b2 {
	bucketgate {
		api flashback
		upstream_api b2
		mode gateway
		import keys
		upstream {
			realm http://127.0.0.1:$b2-gone
			key_id nobody
			application_key {env.BG_UP_SECRET}
		}
	}
	reverse_proxy 127.0.0.1:$b2-gone
}
`

func TestTranslatedErrorsCrossOver(t *testing.T) {
	setGatewaySecrets(t)
	tester := startCaddy(t, translationErrors, "caddyfile")
	token := signIn(t, tester, "http://127.0.0.1:$b2-to-flashback", "k1", "full-secret-1")
	status, _, body := do(t, tester, "POST", "http://127.0.0.1:$b2-to-flashback/b2api/v2/b2_update_bucket",
		`{"bucketId":"33333333-0000-0000-0000-000000000003","bucketInfo":{"name":"Mine"}}`, "Authorization", token)
	if status != 401 || !strings.Contains(body, `"code":"unauthorized"`) || !strings.Contains(body, "Flashback refused the write") {
		t.Errorf("Flashback's 403 to a B2 client: %d %s", status, body)
	}
	status, _, body = do(t, tester, "POST", "http://127.0.0.1:$b2-to-flashback/b2api/v2/b2_update_bucket",
		`{"bucketId":"44444444-0000-0000-0000-000000000004","bucketInfo":{"name":"Mine"}}`, "Authorization", token)
	if status != 400 || !strings.Contains(body, `"code":"bad_bucket_id"`) {
		t.Errorf("a bucket Flashback does not have, to a B2 client: %d %s", status, body)
	}
	status, _, body = do(t, tester, "PUT", "http://127.0.0.1:$flashback-to-b2/bucket/"+bucketA, `{"name":"x"}`,
		"Authorization", "Bearer full-secret-1", "Content-Type", "application/json")
	if status != 502 || !strings.HasPrefix(body, `{"success":false,"message":`) {
		t.Errorf("an unreachable B2 upstream, to a Flashback client: %d %s", status, body)
	}
}

// TestFlashbackClientSeesB2BucketErrors: B2's refusals reach a Flashback
// client with statuses it acts on.
func TestFlashbackClientSeesB2BucketErrors(t *testing.T) {
	tester := startCaddy(t, demoConfig(t), "caddyfile")
	for _, tc := range []struct {
		name, id, body, secret string
		status                 int
		want                   string
	}{
		{"unknown bucket", "bbbbbbbbbbbbbbbbbbbbbbbb", `{"name":"x"}`, "demo-gw-app-key", 404, "B2 has no such bucket"},
		{"no write on the workspace", demoBucketID, `{"name":"x"}`, "demo-gw-limited-key", 403, "WRITE or ADMIN on the bucket's workspace"},
		{"move to a workspace without a grant", demoBucketID, `{"workspaceId":"other"}`, "demo-gw-app-key", 403, "target workspace"},
		{"wrong region", demoBucketID, `{"region":"eu-central-1"}`, "demo-gw-app-key", 400, "region: must be the B2 upstream's region"},
		{"stale If-Match", demoBucketID, `{"name":"x"}`, "demo-gw-app-key", 412, "If-Match does not match"},
	} {
		headers := []string{"Authorization", "Bearer " + tc.secret, "Content-Type", "application/json"}
		if tc.status == 412 {
			headers = append(headers, "If-Match", `"99"`)
		}
		status, _, body := do(t, tester, "PUT", demoFlashbackToB2+"/bucket/"+tc.id, tc.body, headers...)
		if status != tc.status || !strings.Contains(body, tc.want) || !strings.HasPrefix(body, `{"success":false`) {
			t.Errorf("%s: %d %s", tc.name, status, body)
		}
	}
}
