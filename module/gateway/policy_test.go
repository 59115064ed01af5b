package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bucketgate/bucketgate/internal/auth"
	"github.com/bucketgate/bucketgate/internal/dialect"
)

// TestPolicies: an operator's policies judge the writes they name, after
// the contract and the caller's rights, in the client's API: deny refuses
// with 403 and sends nothing, warn sends and adds a Warning header, audit
// sends and only records; an expression that cannot be evaluated fails
// closed. A policy that reads the bucket costs one read of it per write it
// judges, and none elsewhere.
func TestPolicies(t *testing.T) {
	const (
		noPublic  = `request.bucketType != 'allPublic'`
		owner     = `has(request.bucketInfo) && 'owner' in request.bucketInfo`
		protected = `!has(bucket.bucketInfo) || bucket.bucketInfo.name != 'Backups'`
	)
	b2Policies := []Policy{
		{Name: "no-public", On: []string{"create", "update"}, Expression: `!has(request.bucketType) || ` + noPublic, Message: "buckets stay private"},
		{Name: "owner", Expression: owner, Message: "name an owner in bucketInfo", Action: "warn"},
		{Name: "lifecycle", On: []string{"update"}, Expression: `request.lifecycleRules.size() > 0`, Message: "keep lifecycle rules", Action: "audit"},
		{Name: "keep-backups", On: []string{"delete"}, Expression: protected, Message: "the Backups bucket is never deleted"},
	}
	b2 := func() *Handler { return &Handler{API: "b2", Policies: b2Policies} }
	b2Gateway := func() *Handler {
		return &Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
			Keys: []auth.Key{{ID: "release", Secret: "release-secret", Name: "release", Capabilities: []string{"all"}, AllowPublic: true},
				{ID: "ci", Secret: "ci-secret", Name: "ci", Capabilities: []string{"all"}, AllowPublic: true}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"},
			Policies: []Policy{{Name: "public-by-release", Expression: `!has(request.bucketType) || request.bucketType != 'allPublic' || principal.name == 'release'`,
				Message: "only the release key makes buckets public"}}}
	}
	fbToB2 := func() *Handler {
		return &Handler{API: "flashback", UpstreamAPI: "b2", Mode: "gateway",
			Keys:     []auth.Key{{ID: "writer", Secret: "writer-secret", Workspaces: map[string]string{"ws": "WRITE"}}},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"},
			Policies: []Policy{{Name: "names", On: []string{"update"}, Expression: `bucket.name != 'Backups' || !has(request.name) || request.name.startsWith('Backups')`,
				Message: "the Backups bucket keeps its name"}}}
	}
	for _, tc := range []struct {
		name           string
		h              func() *Handler
		method, target string
		body, auth     string
		status         int
		answer         string
		warnings       []string
		sent           bool
		reads          int // of the bucket, on top of what the write reads anyway
		failed         string
	}{
		{name: "deny", h: b2, method: "POST", target: "/b2api/v3/b2_create_bucket", auth: "4_client",
			body:   `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPublic","bucketInfo":{"owner":"ops"}}`,
			status: 403, answer: `{"status":403,"code":"access_denied","message":"policy no-public: buckets stay private"}`, failed: "no-public/deny/fail"},
		{name: "warn", h: b2, method: "POST", target: "/b2api/v3/b2_create_bucket", auth: "4_client",
			body:   `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPrivate","bucketInfo":null}`,
			status: 200, sent: true, warnings: []string{`299 bucketgate "policy owner: name an owner in bucketInfo"`}, failed: "owner/warn/fail"},
		{name: "audit, and an expression that errors fails closed", h: b2, method: "POST", target: "/b2api/v3/b2_update_bucket", auth: "4_client",
			body:   `{"accountId":"acct","bucketId":"b1","bucketInfo":{"owner":"ops"}}`,
			status: 200, sent: true, failed: "lifecycle/audit/error"},
		{name: "every policy passes", h: b2, method: "POST", target: "/b2api/v3/b2_update_bucket", auth: "4_client",
			body:   `{"accountId":"acct","bucketId":"b1","bucketInfo":{"owner":"ops"},"lifecycleRules":[{"fileNamePrefix":"","daysFromHidingToDeleting":30}]}`,
			status: 200, sent: true},
		{name: "a policy on the bucket refuses a deletion", h: b2, method: "POST", target: "/b2api/v3/b2_delete_bucket", auth: "4_client",
			body:   `{"accountId":"acct","bucketId":"b1"}`,
			status: 403, answer: "policy keep-backups: the Backups bucket is never deleted", reads: 1, failed: "keep-backups/deny/fail"},
		{name: "the principal: another key", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_update_bucket", auth: "ci",
			body: `{"accountId":"acct","bucketId":"b1","bucketType":"allPublic"}`, status: 403, answer: "only the release key", failed: "public-by-release/deny/fail"},
		{name: "the principal: the release key", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_update_bucket", auth: "release",
			body: `{"accountId":"acct","bucketId":"b1","bucketType":"allPublic"}`, status: 200, sent: true},
		{name: "translated: the bucket in the client's terms", h: fbToB2, method: "PUT", target: "/bucket/b1", auth: "writer",
			body: `{"name":"Archive"}`, status: 403, answer: `{"success":false,"message":"policy names: the Backups bucket keeps its name"}`, failed: "names/deny/fail"},
		{name: "translated, passing", h: fbToB2, method: "PUT", target: "/bucket/b1", auth: "writer",
			body: `{"name":"Backups (EU)"}`, status: 200, sent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := newHandler(t, tc.h())
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			switch {
			case h.signer != nil:
				r.Header.Set("Authorization", h.signer.Issue(tc.auth, time.Now(), time.Hour))
			case h.Mode == modeGateway:
				r.Header.Set("Authorization", "Bearer "+tc.auth+"-secret")
			default:
				r.Header.Set("Authorization", tc.auth)
			}
			caddyhttp.NewTestReplacer(r)
			up := newStorage()
			w := serveNext(t, h, up, r)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.answer) {
				t.Fatalf("got %d %s, want %d with %s", w.Code, w.Body, tc.status, tc.answer)
			}
			if got := w.Header().Values("Warning"); strings.Join(got, "|") != strings.Join(tc.warnings, "|") {
				t.Errorf("Warning headers %q, want %q", got, tc.warnings)
			}
			if sent := len(up.writes()) > 0; sent != tc.sent {
				t.Errorf("sent upstream: %v, want %v", sent, tc.sent)
			}
			// B2 natively reads no bucket for a write; a translated one reads
			// it anyway, and its policies read that same read.
			reads := 0
			for _, c := range up.calls {
				if strings.HasSuffix(c.path, "/b2_list_buckets") {
					reads++
				}
			}
			if want := tc.reads + map[bool]int{true: 1, false: 0}[h.translating()]; reads != want {
				t.Errorf("%d reads of the bucket, want %d", reads, want)
			}
			var failed []string
			for _, e := range logs.All() {
				ps, _ := e.ContextMap()["policies"].([]any)
				for _, p := range ps {
					m := p.(map[string]any)
					failed = append(failed, m["name"].(string)+"/"+m["action"].(string)+"/"+m["result"].(string))
				}
			}
			if strings.Join(failed, ",") != tc.failed {
				t.Errorf("the decision line's failed policies %v, want %s", failed, tc.failed)
			}
		})
	}
}

// TestPolicyMetricAndStatus: every result is counted by policy, action and
// result, and the status answer lists each handler's policies.
func TestPolicyMetricAndStatus(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback", ExternalURL: "https://policy-status.test",
		Policies: []Policy{{Name: "metric-https", Expression: `!has(request.endpoint) || request.endpoint.startsWith('https://')`, Message: "https endpoints only", Action: "warn"}}})
	counter := func(result string) float64 {
		return testutil.ToFloat64(policyResults.WithLabelValues("", "metric-https", "warn", result))
	}
	passed, failed := counter("pass"), counter("fail")
	for _, endpoint := range []string{"https://s3.example.com", "http://s3.example.com", "http://minio.local"} {
		w := serveFB(t, h, newStorage(), put(`{"endpoint":"`+endpoint+`"}`, "Authorization", "Bearer fb-token"))
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", endpoint, w.Code, w.Body)
		}
	}
	if counter("pass")-passed != 1 || counter("fail")-failed != 2 {
		t.Errorf("counted %v passes and %v failures, want 1 and 2", counter("pass")-passed, counter("fail")-failed)
	}
	for _, st := range statusOf(t) {
		if st.ExternalURL != "https://policy-status.test" {
			continue
		}
		b, _ := json.Marshal(st.Policies)
		if string(b) != `[{"name":"metric-https","on":["create","update"],"action":"warn"}]` {
			t.Errorf("status lists the policies as %s", b)
		}
		return
	}
	t.Error("handler not in the status answer")
}

// TestPoliciesCannotHangOrCrash: an expression that would cost without
// bound is cut off by its cost limit, and counts as failing.
func TestPoliciesCannotHangOrCrash(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "flashback", Policies: []Policy{{Name: "expensive",
		Expression: `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))`,
		Message:    "never"}}})
	start := time.Now()
	w := serveFB(t, h, newStorage(), put(`{"name":"n"}`, "Authorization", "Bearer fb-token"))
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "could not be evaluated") {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the policy ran for %v", took)
	}
}

// TestPolicyCostBound: a policy runs unmetered only over writes whose size,
// and the contract of the writes it judges, bound what it can cost; larger
// writes, and the audit, whose request no contract bounds, are metered.
func TestPolicyCostBound(t *testing.T) {
	const (
		twice = `!has(request.lifecycleRules) || request.lifecycleRules.all(r, request.lifecycleRules.all(s, true))`
		cors  = `!has(request.corsRules) || request.corsRules.all(r, r.allowedOrigins.all(o, o.endsWith('.example.com')))`
		// unmetered up to: any write, some, none.
		always, some, none = 1, 0, -1
	)
	cases := []struct {
		api, expression string
		unmetered       int
	}{
		// B2 allows at most 100 lifecycle rules: one pass, or two nested, is bounded.
		{"b2", `!has(request.lifecycleRules) || request.lifecycleRules.all(r, !has(r.daysFromHidingToDeleting) || r.daysFromHidingToDeleting >= 30)`, always},
		{"b2", twice, always},
		{"b2", `!has(request.bucketInfo) || size(request.bucketInfo) <= 10`, always},
		// B2 bounds no CORS rule's list of origins: only the write's size does.
		{"b2", cors, some},
		// Nothing but the largest answer bounds the bucket an upstream answers with.
		{"b2", `bucket.corsRules.all(a, bucket.corsRules.all(b, a == b))`, none},
		// Flashback documents no bound on a bucket's lists.
		{"flashback", twice, some},
		{"flashback", `[1,2,3].all(a, [1,2,3].all(b, a <= b || b < a))`, always},
		{"flashback", `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))`, none},
	}
	for _, c := range cases {
		h, _ := newHandler(t, &Handler{API: c.api, Policies: []Policy{{Name: "p", Expression: c.expression}}})
		p := h.policies[0]
		got := some
		switch {
		case p.unmeteredUpTo < 0:
			got = none
		case uint64(p.unmeteredUpTo) >= h.policyBound().largest:
			got = always
		case p.unmeteredUpTo < 256:
			t.Errorf("%s %s: unmetered only up to %d bytes, less than a write's smallest", c.api, c.expression, p.unmeteredUpTo)
		}
		if got != c.unmetered {
			t.Errorf("%s %s: unmetered up to %d bytes, want class %d", c.api, c.expression, p.unmeteredUpTo, c.unmetered)
		}
		if (p.programFor(p.unmeteredUpTo) == p.metered) != (got == none) || p.programFor(p.unmeteredUpTo+1) != p.metered {
			t.Errorf("%s %s: the program for a write of its size is not the one its bound says", c.api, c.expression)
		}
	}

	h, _ := newHandler(t, &Handler{API: "b2", Policies: []Policy{{Name: "p", Expression: twice}}})
	rules := make([]any, 3000)
	for i := range rules {
		rules[i] = map[string]any{"fileNamePrefix": "", "daysFromHidingToDeleting": 1}
	}
	vars := h.policyVariables(dialect.OpUpdate, map[string]any{"lifecycleRules": rules}, nil, celValue(emptyPrincipal("audit")))
	if result, reason := evaluate(h.policies[0].metered, vars); result != resultError || !strings.Contains(reason, "cost") {
		t.Errorf("the audit's evaluation over 3000 rules gave %s %q, want it stopped by its cost limit", result, reason)
	}
}

// TestPolicyPrincipal: what policies read of each kind of caller, and that
// a gateway key's principal, made once, is the same on its next write.
func TestPolicyPrincipal(t *testing.T) {
	h, _ := newHandler(t, &Handler{API: "b2", Policies: []Policy{{Name: "p", Expression: "true"}}})
	key := &auth.Principal{KeyID: "k1", Name: "release", Capabilities: []string{"readBuckets", "writeBuckets"},
		Buckets: []string{"b1"}, Workspaces: map[string]auth.Role{"ws1": auth.RoleAdmin}}
	callers := map[string]*caller{
		"key":              {key: key},
		"every-bucket key": {key: &auth.Principal{KeyID: "k2", Capabilities: []string{"readBuckets"}}},
		"remembered":       {remembered: &auth.Remembered{KeyID: "up1", Capabilities: []string{"listBuckets"}, Buckets: []string{}}},
		"anonymous":        {},
	}
	cases := []struct {
		caller, expression string
	}{
		{"key", `principal.id == 'k1' && principal.name == 'release' && principal.mode == 'passthrough'`},
		{"key", `'writeBuckets' in principal.capabilities && size(principal.capabilities) == 2`},
		{"key", `principal.buckets == ['b1'] && principal.workspaces['ws1'] == 'ADMIN'`},
		{"every-bucket key", `principal.buckets == [] && principal.workspaces == {} && principal.name == ''`},
		{"remembered", `principal.id == 'up1' && principal.capabilities == ['listBuckets'] && principal.buckets == []`},
		{"anonymous", `principal.id == '' && principal.capabilities.all(c, false) && size(principal.workspaces) == 0`},
	}
	env, err := policyEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		checked, issues := env.Compile(c.expression)
		if issues.Err() != nil {
			t.Fatal(issues.Err())
		}
		program, err := env.Program(checked)
		if err != nil {
			t.Fatal(err)
		}
		vars := h.policyVariables(dialect.OpUpdate, map[string]any{}, nil, h.principal(callers[c.caller]))
		if result, reason := evaluate(program, vars); result != resultPass {
			t.Errorf("%s: %s gives %s %s", c.caller, c.expression, result, reason)
		}
	}
	if h.principal(callers["key"]) != h.principal(&caller{key: key}) {
		t.Error("a gateway key's principal is made again for each write")
	}
}
