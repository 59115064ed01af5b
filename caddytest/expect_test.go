package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestExpectContinueEveryMode sends each of the demo's front doors an update
// with Expect: 100-continue, as curl does for larger bodies: every mode
// answers with the update applied and an ETag, not with the upstream's or
// the gateway's own 100 Continue taken for the answer.
func TestExpectContinueEveryMode(t *testing.T) {
	startCaddy(t, demoConfig(t), "caddyfile")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}
	send := func(method, url, body string, headers ...string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		req.Header.Set("Expect", "100-continue")
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	signIn := func(base, keyID, key string) (token, account string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/b2api/v3/b2_authorize_account", nil)
		req.SetBasicAuth(keyID, key)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var g struct{ AuthorizationToken, AccountID string }
		if err := json.NewDecoder(res.Body).Decode(&g); err != nil || g.AuthorizationToken == "" {
			t.Fatalf("sign-in at %s: %d %v", base, res.StatusCode, err)
		}
		return g.AuthorizationToken, g.AccountID
	}
	const b2Bucket = "4a48fe8875c6214145260818"
	b2Update := func(base, keyID, key, bucket, info string) {
		t.Helper()
		base = ports(t, base)
		token, account := signIn(base, keyID, key)
		status, hdr, body := send("POST", base+"/b2api/v3/b2_update_bucket",
			`{"accountId":"`+account+`","bucketId":"`+bucket+`","bucketInfo":`+info+`}`, "Authorization", token)
		if status != 200 || hdr.Get("ETag") == "" {
			t.Errorf("%s: got %d ETag %q: %s", base, status, hdr.Get("ETag"), body)
		}
	}
	fbUpdate := func(base, bucket string) {
		t.Helper()
		base = ports(t, base)
		status, hdr, body := send("PUT", base+"/bucket/"+bucket, `{"name":"Expecting"}`,
			"Authorization", "Bearer demo-gw-app-key", "Content-Type", "application/json")
		if status != 200 || hdr.Get("ETag") == "" {
			t.Errorf("%s: got %d ETag %q: %s", base, status, hdr.Get("ETag"), body)
		}
	}
	info := `{"name":"Demo bucket","workspaceId":"demo-workspace","team":"ops"}`
	b2Update(demoGateway, "demo-gw-key-id", "demo-gw-app-key", b2Bucket, info)        // B2, gateway mode
	b2Update(demoPassthrough, "demo-key-id", "demo-app-key", b2Bucket, info)          // B2, passthrough with realm
	b2Update(demoB2ToFlashback, "demo-gw-key-id", "demo-gw-app-key", demoFlashbackID, // B2 clients, Flashback upstream
		`{"name":"Expecting","workspaceId":"demo-workspace"}`)
	fbUpdate("http://127.0.0.1:$demo-flashback-gateway", demoFlashbackID) // Flashback, gateway mode
	fbUpdate(demoFlashbackToB2, b2Bucket)                                 // Flashback clients, B2 upstream
}
