package integration

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// TestOperatorsView runs the demo and looks at it as an operator would: on
// a site with an access log, the access line names the verified key and
// carries the gateway's decision under bucketgate, with no line of its own;
// and the admin API's /bucketgate/status reports each handler and its
// upstream session, with no secret.
func TestOperatorsView(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	cfg := strings.Replace(withLog(t, demoConfig(t), logFile), "\n:$demo-b2-gateway {\n", "\n:$demo-b2-gateway {\n\tlog\n", 1)
	tester := startCaddy(t, cfg, "caddyfile")
	base := demoGateway

	token := signIn(t, tester, base, "demo-gw-key-id", "demo-gw-app-key")
	status, _, body := do(t, tester, "POST", base+"/b2api/v3/b2_update_bucket", `{"accountId":"demo-account","bucketId":"`+demoBucketID+`","bucketInfo":{"name":"Demo bucket","workspaceId":"demo-workspace","team":"ops"}}`, "Authorization", token)
	if status != 200 {
		t.Fatalf("update: %d %s", status, body)
	}

	var access map[string]any
	for _, line := range logLines(t, logFile) {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) != nil {
			continue
		}
		switch {
		case entry["msg"] == "update forwarded":
			t.Errorf("a decision line of its own beside the access line: %s", line)
		case entry["logger"] == "http.log.access" && strings.HasSuffix(toStr(entry["request"], "uri"), "b2_update_bucket"):
			access = entry
		}
	}
	if access == nil {
		t.Fatalf("no access line for the update in %s", logLines(t, logFile))
	}
	if access["user_id"] != "demo-gw-key-id" {
		t.Errorf("access log user_id %v, want the verified key id", access["user_id"])
	}
	decision, _ := access["bucketgate"].(map[string]any)
	if decision["call"] != "update" || decision["outcome"] != "forwarded" || decision["key_id"] != "demo-gw-key-id" ||
		decision["bucket_id"] != demoBucketID || decision["upstream_status"] != float64(200) || decision["api"] != "b2" {
		t.Errorf("the access line's decision: %v", access["bucketgate"])
	}
	if fields, _ := decision["fields"].([]any); len(fields) != 3 {
		t.Errorf("the decision's fields: %v", decision["fields"])
	}

	status, _, body = do(t, tester, "GET", "http://localhost:$admin/bucketgate/status", "")
	if status != 200 {
		t.Fatalf("/bucketgate/status: %d %s", status, body)
	}
	for _, secret := range []string{"demo-app-key", "demo-gw-app-key", "demo-gw-limited-key", "demo-token", "demo-signing-secret"} {
		if strings.Contains(body, secret) {
			t.Errorf("/bucketgate/status shows the secret %q: %s", secret, body)
		}
	}
	var got struct {
		Handlers []struct {
			API, Mode, Realm string
			Listen           []string
			UpstreamAPI      string `json:"upstream_api"`
			Keys             int
			UpstreamSession  *struct {
				SignedIn  bool   `json:"signed_in"`
				AccountID string `json:"account_id"`
			} `json:"upstream_session"`
			RememberedTokens *int `json:"remembered_tokens"`
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Handlers) != 5 {
		t.Fatalf("want the demo's five handlers: %v %s", err, body)
	}
	sites := map[string]bool{}
	for _, name := range []string{"demo-b2-gateway", "demo-flashback-gateway", "demo-flashback-to-b2", "demo-b2-to-flashback", "demo-b2-passthrough"} {
		sites[ports(t, "127.0.0.1:$"+name)] = true
	}
	var signedIn, notYet, remembering int
	for _, h := range got.Handlers {
		// Each names its site, so that an operator knows which it is.
		if len(h.Listen) != 1 || !sites[h.Listen[0]] {
			t.Errorf("handler %s -> %s (%s) listens on %v", h.API, h.UpstreamAPI, h.Mode, h.Listen)
		}
		switch {
		case h.UpstreamSession != nil && h.UpstreamSession.SignedIn && h.UpstreamSession.AccountID == "demo-account":
			signedIn++
		case h.UpstreamSession != nil:
			notYet++
		case h.RememberedTokens != nil:
			remembering++
		}
	}
	// demo-b2-gateway signed in for the update; demo-flashback-to-b2 has
	// not needed to; demo-b2-passthrough remembers tokens;
	// demo-flashback-gateway and demo-b2-to-flashback talk to Flashback
	// with a token.
	if signedIn != 1 || notYet != 1 || remembering != 1 {
		t.Errorf("signed in %d, not yet %d, remembering %d: %s", signedIn, notYet, remembering, body)
	}
	status, _, body = do(t, tester, "GET", "http://localhost:$admin/metrics", "")
	if status != 200 || !regexp.MustCompile(`caddy_bucketgate_upstream_sessions\{server="srv\d+",state="signed_in",upstream_api="b2"\} 1`).MatchString(body) {
		t.Errorf("metrics without the session gauge, by server: %d", status)
	}
	if !regexp.MustCompile(`caddy_bucketgate_decisions_total\{api="b2",call="update",outcome="forwarded",refusal="",server="srv\d+"\} \d+`).MatchString(body) {
		t.Errorf("metrics without the update's decision, by server")
	}
	// What promtool check metrics checks of an exposition.
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "caddy_bucketgate_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

// toStr reads m[key] as a string when m is a JSON object.
func toStr(m any, key string) string {
	obj, _ := m.(map[string]any)
	s, _ := obj[key].(string)
	return s
}
