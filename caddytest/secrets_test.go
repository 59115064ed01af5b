package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNoSecretsInLogsOrErrors runs a suite of calls through every mode,
// good and bad, with Caddy's logs (access logs included) captured, and finds
// no key secret, application key, signing secret or token in any log line
// or any answer but the sign-in answers that hand tokens out.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	setGatewaySecrets(t)
	logFile := t.TempDir() + "/caddy.log"
	config := withLog(t, identitySites+`
:$b2-passthrough {
	log
	bucketgate {
		api b2
		upstream {
			realm http://127.0.0.1:$b2-emulator
		}
	}
	reverse_proxy {http.bucketgate.upstream}
}
`, logFile)
	// Access logs on every gateway site, as an operator would turn them on.
	config = strings.ReplaceAll(config, "\tbucketgate {\n\t\tapi b2\n\t\tmode gateway", "\tlog\n\tbucketgate {\n\t\tapi b2\n\t\tmode gateway")
	config = strings.ReplaceAll(config, ":$flashback-gateway {\n", ":$flashback-gateway {\n\tlog\n")
	tester := startCaddy(t, config, "caddyfile")

	var secrets []string
	for _, v := range gatewaySecrets {
		secrets = append(secrets, v)
	}
	// What clients send in Flashback bodies.
	secrets = append(secrets, "AKIAFLASHBACKKEY", "flashback/Secret+Value")
	var answers []string
	call := func(method, url, body string, headers ...string) string {
		_, _, got := do(t, tester, method, url, body, headers...)
		answers = append(answers, got)
		return got
	}
	signInAnswer := func(url, auth string) string {
		_, _, got := do(t, tester, "GET", url+"/b2api/v3/b2_authorize_account", "", "Authorization", auth)
		var a struct{ AuthorizationToken string }
		_ = json.Unmarshal([]byte(got), &a)
		if a.AuthorizationToken != "" {
			secrets = append(secrets, a.AuthorizationToken)
		}
		return a.AuthorizationToken
	}

	gw := signInAnswer("http://127.0.0.1:$b2-gateway", basicAuth("full", "full-secret-1"))
	signInAnswer("http://127.0.0.1:$b2-gateway", basicAuth("full", "wrong-secret-1"))
	signInAnswer("http://127.0.0.1:$b2-gateway", basicAuth("expired", "expired-secret-1"))
	limited := signInAnswer("http://127.0.0.1:$b2-gateway", basicAuth("limited", "limited-secret-1"))
	up := signInAnswer("http://127.0.0.1:$b2-passthrough", basicAuth("up-key", "up-secret"))
	signInAnswer("http://127.0.0.1:$b2-passthrough", basicAuth("up-key", "not-the-secret"))
	if gw == "" || limited == "" || up == "" {
		t.Fatal("sign-ins failed")
	}
	for _, base := range []string{"http://127.0.0.1:$b2-gateway", "http://127.0.0.1:$b2-other-secret", "http://127.0.0.1:$b2-passthrough"} {
		for _, tok := range []string{gw, limited, up, "4_" + "bogus"} {
			call("POST", base+"/b2api/v2/b2_update_bucket", `{"bucketId":"`+bucketA+`","bucketInfo":{"k":"v"}}`, "Authorization", tok)
			call("POST", base+"/b2api/v2/b2_update_bucket", `{"bucketId":"`+bucketA+`","bucketType":"allPublic","defaultServerSideEncryption":{"mode":"SSE-C"}}`, "Authorization", tok)
			call("POST", base+"/b2api/v2/b2_update_bucket", `{"bucketId":"`+bucketA+`","bucketInfo":{"k":"v"},"ifRevisionIs":1}`, "Authorization", tok, "If-Match", `"99"`)
			call("POST", base+"/b2api/v2/b2_list_buckets", `{"accountId":"acct-1"}`, "Authorization", tok)
		}
	}
	for _, secret := range []string{"full-secret-1", "limited-secret-1", "expired-secret-1", "nobody-secret-1"} {
		for _, body := range []string{
			`{"key":"AKIAFLASHBACKKEY","secret":"flashback/Secret+Value"}`,
			`{"key":"AKIAFLASHBACKKEY","secret":"flashback/Secret+Value","endpoint":"http://flashback/Secret+Value"}`,
			`{"key":"AKIAFLASHBACKKEY","secret":"flashback/Secret+Value","storageType":"flashback/Secret+Value"}`,
			`{"key":"AKIAFLASHBACKKEY","key":"AKIAFLASHBACKKEY"}`,
		} {
			call("PUT", "http://127.0.0.1:$flashback-gateway/bucket/"+fbBucket1, body, "Authorization", "Bearer "+secret, "Content-Type", "application/json")
		}
	}

	lines := logLines(t, logFile)
	if len(lines) < 50 {
		t.Fatalf("only %d log lines captured; is logging to the file working?", len(lines))
	}
	decisions := 0
	for _, line := range lines {
		// A decision is a line of its own, or rides on its access line.
		if strings.Contains(line, `"logger":"http.handlers.bucketgate"`) || strings.Contains(line, `"bucketgate":{`) {
			decisions++
		}
		for _, s := range secrets {
			// Caddy dumps its whole configuration at DEBUG; in this one
			// process it includes the emulators', which must know the
			// upstream secrets. The gateway's own are placeholders there.
			if strings.Contains(line, `"msg":"adjusted config"`) && (s == "up-secret" || s == "up-token") {
				continue
			}
			if strings.Contains(line, s) {
				t.Errorf("a log line holds a secret (%.8s…): %.300s", s, line)
			}
		}
	}
	if decisions < 40 {
		t.Errorf("only %d gateway decisions logged; the suite did not exercise the gateway", decisions)
	}
	for _, a := range answers {
		for _, s := range secrets {
			if strings.Contains(a, s) {
				t.Errorf("an answer holds a secret (%.8s…): %.300s", s, a)
			}
		}
	}
}
