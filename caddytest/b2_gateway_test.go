package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const bucketAnswer = `{"accountId":"acct1","bucketId":"b1","bucketName":"demo-bucket","bucketType":"allPrivate","revision":5}`

// TestB2FrontDoor runs bucketgate in front of reverse_proxy, as a user's
// Caddyfile would, with no order line, and checks what the client and the
// upstream each see.
func TestB2FrontDoor(t *testing.T) {
	rec := &recorder{}
	up := httptest.NewServer(rec)
	defer up.Close()

	tester := startCaddy(t, globals+fmt.Sprintf(`
:$b2-gateway {
	bucketgate {
		api b2
		max_body_size 4KiB
	}
	reverse_proxy %s
}
:$b2-gateway-revision {
	bucketgate {
		api b2
		require_revision
	}
	reverse_proxy %s
}
`, up.Listener.Addr(), up.Listener.Addr()), "caddyfile")

	const gw = "http://localhost:$b2-gateway"
	auth := []string{"Authorization", "4_token"}

	t.Run("valid update forwarded byte for byte", func(t *testing.T) {
		rec.reset(200, bucketAnswer)
		body := "{\"bucketId\": \"b1\",\n \"bucketType\": \"allPrivate\", \"bucketInfo\": {\"owner\": \"a&b<c>\"}}"
		status, hdr, got := do(t, tester, "POST", gw+"/b2api/v3/b2_update_bucket", body, auth...)
		if status != 200 || got != bucketAnswer || hdr.Get("ETag") != `"5"` {
			t.Fatalf("client got %d %q ETag %q", status, got, hdr.Get("ETag"))
		}
		seen := rec.seen()
		if len(seen) != 1 || seen[0].body != body || seen[0].contentLength != int64(len(body)) {
			t.Fatalf("upstream saw %+v", seen)
		}
		if seen[0].header.Get("Authorization") != "4_token" {
			t.Error("token not forwarded")
		}
	})

	t.Run("every version path", func(t *testing.T) {
		for _, v := range []string{"v1", "v2", "v3", "v4"} {
			rec.reset(200, bucketAnswer)
			status, _, _ := do(t, tester, "POST", gw+"/b2api/"+v+"/b2_update_bucket", `{"bucketId":"b1"}`, auth...)
			if status != 200 || len(rec.seen()) != 1 || rec.seen()[0].path != "/b2api/"+v+"/b2_update_bucket" {
				t.Errorf("%s: %d %+v", v, status, rec.seen())
			}
		}
	})

	t.Run("GET with query parameters goes upstream as POST", func(t *testing.T) {
		rec.reset(200, bucketAnswer)
		status, hdr, _ := do(t, tester, "GET", gw+"/b2api/v2/b2_update_bucket?bucketId=b1&bucketType=allPublic&lifecycleRules=%5B%5D&ifRevisionIs=4", "", auth...)
		seen := rec.seen()
		if status != 200 || hdr.Get("ETag") != `"5"` || len(seen) != 1 {
			t.Fatalf("%d %v", status, seen)
		}
		if seen[0].method != "POST" || seen[0].query != "" || seen[0].body != `{"bucketId":"b1","bucketType":"allPublic","ifRevisionIs":4,"lifecycleRules":[]}` {
			t.Errorf("upstream saw %s ?%s %s", seen[0].method, seen[0].query, seen[0].body)
		}
	})

	t.Run("refusals in B2's shape, nothing forwarded", func(t *testing.T) {
		cases := []struct {
			name, method, path, body string
			headers                  []string
			status                   int
			want                     string
		}{
			{"no token", "POST", "/b2api/v3/b2_update_bucket", `{"bucketId":"b1"}`, nil, 401,
				`{"status":401,"code":"bad_auth_token","message":"missing Authorization header: send the authorizationToken from b2_authorize_account"}`},
			{"empty body", "POST", "/b2api/v3/b2_update_bucket", ``, auth, 400,
				`{"status":400,"code":"bad_json","message":"request body is empty; expected a JSON object"}`},
			{"not JSON", "POST", "/b2api/v3/b2_update_bucket", `bucketId=b1`, auth, 400, `"code":"bad_json"`},
			{"schema", "POST", "/b2api/v1/b2_update_bucket", `{"bucketId":"b1","bucketType":"snapshot","corsRules":[{}]}`, auth, 400,
				`{"status":400,"code":"bad_request","message":"invalid request: bucketType: must be one of allPublic, allPrivate, null; corsRules[0].allowedOperations: is required; corsRules[0].allowedOrigins: is required; corsRules[0].corsRuleName: is required; corsRules[0].maxAgeSeconds: is required"}`},
			{"too large", "POST", "/b2api/v3/b2_update_bucket", `{"bucketId":"b1","bucketInfo":{"a":"` + strings.Repeat("x", 5000) + `"}}`, auth, 413,
				`{"status":413,"code":"request_too_large","message":"request body is larger than the 4096 bytes allowed"}`},
			{"duplicate keys", "POST", "/b2api/v3/b2_update_bucket", `{"bucketId":"b1","bucketId":"b2"}`, auth, 400, `"message":"request body refused: duplicate key at bucketId (byte 17)"`},
			{"unknown version", "POST", "/b2api/v7/b2_update_bucket", `{"bucketId":"b1"}`, auth, 400, `unsupported API version`},
			{"PUT", "PUT", "/b2api/v3/b2_update_bucket", `{"bucketId":"b1"}`, auth, 405, `"code":"method_not_allowed"`},
			{"bad If-Match", "POST", "/b2api/v3/b2_update_bucket", `{"bucketId":"b1"}`, append([]string{"If-Match", `W/"5"`}, auth...), 400, `If-Match must be one strong entity tag`},
			{"If-Match disagrees", "POST", "/b2api/v3/b2_update_bucket", `{"bucketId":"b1","ifRevisionIs":3}`, append([]string{"If-Match", `"5"`}, auth...), 400, `If-Match and ifRevisionIs name different revisions`},
		}
		for _, tc := range cases {
			rec.reset(200, bucketAnswer)
			status, hdr, got := do(t, tester, tc.method, gw+tc.path, tc.body, tc.headers...)
			if status != tc.status || !strings.Contains(got, tc.want) {
				t.Errorf("%s: got %d %s, want %d %s", tc.name, status, got, tc.status, tc.want)
			}
			if hdr.Get("Retry-After") != "" || hdr.Get("Content-Type") != "application/json;charset=utf-8" {
				t.Errorf("%s: headers %v", tc.name, hdr)
			}
			if n := len(rec.seen()); n != 0 {
				t.Errorf("%s: %d requests reached the upstream", tc.name, n)
			}
		}
	})

	t.Run("If-Match, ETag and 412", func(t *testing.T) {
		rec.reset(200, bucketAnswer)
		status, hdr, _ := do(t, tester, "POST", gw+"/b2api/v3/b2_update_bucket", `{"bucketId":"b1"}`, append([]string{"If-Match", `"4"`}, auth...)...)
		if status != 200 || hdr.Get("ETag") != `"5"` || rec.seen()[0].body != `{"bucketId":"b1","ifRevisionIs":4}` {
			t.Errorf("If-Match: %d %v %+v", status, hdr, rec.seen())
		}

		conflict := `{"code":"conflict","message":"simultaneous updates to bucket","status":409}`
		rec.reset(409, conflict)
		status, _, got := do(t, tester, "POST", gw+"/b2api/v3/b2_update_bucket", `{"bucketId":"b1"}`, append([]string{"If-Match", `"4"`}, auth...)...)
		if status != 412 || !strings.Contains(got, `"status":412`) {
			t.Errorf("stale If-Match: %d %s", status, got)
		}
		rec.reset(409, conflict)
		status, _, got = do(t, tester, "POST", gw+"/b2api/v3/b2_update_bucket", `{"bucketId":"b1","ifRevisionIs":4}`, auth...)
		if status != 409 || got != conflict {
			t.Errorf("stale ifRevisionIs: %d %s, want B2's 409 unchanged", status, got)
		}
	})

	t.Run("require_revision", func(t *testing.T) {
		rec.reset(200, bucketAnswer)
		status, _, got := do(t, tester, "POST", "http://localhost:$b2-gateway-revision/b2api/v3/b2_update_bucket", `{"bucketId":"b1"}`, auth...)
		if status != 428 || !strings.Contains(got, `"code":"precondition_required"`) || len(rec.seen()) != 0 {
			t.Errorf("got %d %s", status, got)
		}
		status, _, _ = do(t, tester, "POST", "http://localhost:$b2-gateway-revision/b2api/v3/b2_update_bucket", `{"bucketId":"b1"}`, append([]string{"If-Match", `"5"`}, auth...)...)
		if status != 200 {
			t.Errorf("with If-Match: %d", status)
		}
	})

	t.Run("other B2 calls pass untouched", func(t *testing.T) {
		for _, tc := range []struct{ method, path, body string }{
			{"GET", "/b2api/v3/b2_get_upload_url", ""},
			{"POST", "/b2api/v2/b2_list_buckets", `{"accountId":"a","bucketTypes":["all"],"whatever":1}`},
		} {
			rec.reset(200, `{"ok":true}`)
			status, _, got := do(t, tester, tc.method, gw+tc.path+"?q=1", tc.body, "X-Bz-Test-Mode", "fail_some_uploads")
			seen := rec.seen()
			if status != 200 || got != `{"ok":true}` || len(seen) != 1 || seen[0].body != tc.body || seen[0].query != "q=1" ||
				seen[0].header.Get("X-Bz-Test-Mode") != "fail_some_uploads" {
				t.Errorf("%s %s: %d %s %+v", tc.method, tc.path, status, got, seen)
			}
		}
	})

	t.Run("unreachable upstream", func(t *testing.T) {
		// A second gateway pointed at a closed port.
		closed := httptest.NewServer(http.NotFoundHandler())
		addr := closed.Listener.Addr().String()
		closed.Close()
		tester := startCaddy(t, globals+fmt.Sprintf(`
:$b2-gateway-unreachable {
	bucketgate {
		api b2
	}
	reverse_proxy %s
}
`, addr), "caddyfile")
		status, _, got := do(t, tester, "POST", "http://localhost:$b2-gateway-unreachable/b2api/v3/b2_update_bucket", `{"bucketId":"b1"}`, auth...)
		if status != 502 || !strings.Contains(got, `"code":"bad_gateway"`) {
			t.Errorf("got %d %s", status, got)
		}
	})
}
