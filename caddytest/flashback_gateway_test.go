package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const fbBucket = "11111111-2222-3333-4444-555555555555"

// flashbackSites is a Flashback emulator with the gateway in front of it,
// once plain and once with require_revision.
const flashbackSites = globals + `
:$flashback-emulator {
	flashback_emulator {
		workspace demo-workspace other-workspace
		user demo-token {
			role demo-workspace WRITE
		}
		user demo-reader-token {
			role demo-workspace READ
		}
		bucket "Demo bucket" {
			id 11111111-2222-3333-4444-555555555555
			workspace demo-workspace
			storage_type S3
			bucket demo-bucket
			region us-east-1
			endpoint https://s3.us-east-1.amazonaws.com
			key AKIAIOSFODNN7EXAMPLE
			secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
		}
	}
}
:$flashback-gateway {
	bucketgate {
		api flashback
	}
	reverse_proxy 127.0.0.1:$flashback-emulator
}
:$flashback-gateway-revision {
	bucketgate {
		api flashback
		require_revision
	}
	reverse_proxy 127.0.0.1:$flashback-emulator
}
`

func TestFlashbackFrontDoor(t *testing.T) {
	tester := startCaddy(t, flashbackSites, "caddyfile")
	const gw = "http://localhost:$flashback-gateway/bucket/" + fbBucket
	writer := []string{"Authorization", "Bearer demo-token", "Content-Type", "application/json"}
	reader := []string{"Authorization", "Bearer demo-reader-token", "Content-Type", "application/json"}

	// current reads the bucket straight from the emulator.
	current := func() map[string]any {
		t.Helper()
		_, _, body := do(t, tester, "GET", "http://localhost:$flashback-emulator/bucket", "", writer...)
		var list struct{ Buckets []map[string]any }
		if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Buckets) != 1 {
			t.Fatalf("bucket list %s: %v", body, err)
		}
		return list.Buckets[0]
	}

	t.Run("update applied with an ETag", func(t *testing.T) {
		status, hdr, body := do(t, tester, "PUT", gw, `{"name":"Updated Backup Bucket","region":"us-west-2","endpoint":"https://s3.us-west-2.amazonaws.com"}`, writer...)
		if status != 200 || strings.TrimSpace(body) != `{"success":true,"bucketId":"`+fbBucket+`"}` || hdr.Get("ETag") == "" {
			t.Fatalf("got %d %s ETag %q", status, body, hdr.Get("ETag"))
		}
		if b := current(); b["name"] != "Updated Backup Bucket" || b["region"] != "us-west-2" || b["bucket"] != "demo-bucket" {
			t.Errorf("upstream state %v", b)
		}
	})

	t.Run("refusals reach nothing", func(t *testing.T) {
		before := current()
		for _, tc := range []struct {
			name, path, body string
			headers          []string
			status           int
			want             string
		}{
			{"no token", gw, `{"name":"x"}`, nil, 401, `{"success":false,"message":"missing Authorization header: send Authorization: Bearer <access token>"}`},
			{"malformed token", gw, `{"name":"x"}`, []string{"Authorization", "Bearer a b"}, 401, "malformed Authorization header"},
			{"invalid fields", gw, `{"storageType":"FTP","endpoint":"ftp://s3.example.com","secret":""}`, writer, 400,
				`{"success":false,"message":"invalid request: endpoint: must use http or https; secret: must be at least 1 characters long; storageType: must be one of S3, GCS, BLOB"}`},
			{"unknown field", gw, `{"owner":"x"}`, writer, 400, "owner: is not an allowed field"},
			{"empty update", gw, `{}`, writer, 400, "names no field to change"},
			{"bad path id", "http://localhost:$flashback-gateway/bucket/a%20b", `{"name":"x"}`, writer, 400, "bucketId in the path"},
		} {
			status, _, body := do(t, tester, "PUT", tc.path, tc.body, tc.headers...)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%s: got %d %s, want %d %s", tc.name, status, body, tc.status, tc.want)
			}
		}
		if after := current(); after["name"] != before["name"] || after["storageType"] != before["storageType"] {
			t.Errorf("a refused update changed the bucket: %v", after)
		}
	})

	t.Run("the upstream's 403 as the client sees it", func(t *testing.T) {
		status, _, body := do(t, tester, "PUT", gw, `{"name":"Reader was here"}`, reader...)
		if status != 403 || !strings.HasPrefix(body, `{"success":false,"message":`) {
			t.Errorf("got %d %s", status, body)
		}
		if current()["name"] == "Reader was here" {
			t.Error("the reader's update was applied")
		}
	})

	t.Run("If-Match: right, stale, missing", func(t *testing.T) {
		_, hdr, _ := do(t, tester, "PUT", gw, `{"name":"Revision one"}`, writer...)
		first := hdr.Get("ETag")

		status, hdr, body := do(t, tester, "PUT", gw, `{"name":"Revision two"}`, append([]string{"If-Match", first}, writer...)...)
		second := hdr.Get("ETag")
		if status != 200 || second == "" || second == first {
			t.Fatalf("right If-Match: %d %s ETag %q (was %q)", status, body, second, first)
		}

		status, _, body = do(t, tester, "PUT", gw, `{"name":"Lost update"}`, append([]string{"If-Match", first}, writer...)...)
		if status != 412 || !strings.Contains(body, "If-Match does not match") {
			t.Errorf("stale If-Match: %d %s", status, body)
		}
		if current()["name"] != "Revision two" {
			t.Error("a stale update changed the bucket")
		}

		status, _, body = do(t, tester, "PUT", "http://localhost:$flashback-gateway-revision/bucket/"+fbBucket, `{"name":"No revision"}`, writer...)
		if status != 428 || current()["name"] != "Revision two" {
			t.Errorf("missing If-Match under require_revision: %d %s", status, body)
		}
		status, hdr, _ = do(t, tester, "PUT", "http://localhost:$flashback-gateway-revision/bucket/"+fbBucket, `{"name":"With revision"}`, append([]string{"If-Match", second}, writer...)...)
		if status != 200 || hdr.Get("ETag") == "" {
			t.Errorf("If-Match under require_revision: %d", status)
		}
	})

	t.Run("concurrent updates with one If-Match: exactly one applied", func(t *testing.T) {
		_, hdr, _ := do(t, tester, "PUT", gw, `{"name":"Race start"}`, writer...)
		etag := hdr.Get("ETag")
		const n = 10
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range n {
			wg.Go(func() {
				statuses[i], _, _ = do(t, tester, "PUT", gw, `{"name":"Racer `+string(rune('A'+i))+`"}`, append([]string{"If-Match", etag}, writer...)...)
			})
		}
		wg.Wait()
		won := onlyWinner(t, statuses, http.StatusPreconditionFailed)
		if got := current()["name"]; got != "Racer "+string(rune('A'+won)) {
			t.Errorf("final name %v, want the winner's", got)
		}
	})
}
