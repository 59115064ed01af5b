package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/Backblaze/blazer/b2"
)

// policySites run the policies of examples/policies.Caddyfile, as its
// snippets hold them, against the emulators: B2 clients in gateway mode, in
// passthrough mode and translated to Flashback; Flashback clients in gateway
// mode and translated to B2.
func policySites(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../examples/policies.Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	snippets, _, ok := strings.Cut(string(src), "\n# B2 clients with gateway keys")
	if !ok {
		t.Fatal("examples/policies.Caddyfile no longer has its B2 gateway site after the snippets")
	}
	// The key the passthrough site lets make buckets public.
	t.Setenv("RELEASE_KEY_ID", "release-b2-key")
	return globals + snippets + `
:$b2-emulator {
	b2_emulator {
		api_url http://127.0.0.1:$b2-emulator
		account policy-account {
			key gateway-b2-key gateway-b2-secret {
				capabilities all
			}
			key release-b2-key release-b2-secret {
				capabilities all
			}
			key other-b2-key other-b2-secret {
				capabilities all
			}
			bucket policy-bucket {
				id 7a48fe8875c6214145260818
				type allPrivate
				info name "[protected] Backups"
				info workspaceId platform
			}
		}
	}
}
:$flashback-emulator {
	flashback_emulator {
		workspace platform
		workspace personal-ann
		user fb-token {
			role platform WRITE
			role personal-ann WRITE
		}
		bucket "[protected] Archive" {
			id 33333333-2222-3333-4444-555555555555
			workspace platform
			storage_type S3
			bucket archive-bucket
			key AKIAIOSFODNN7EXAMPLE
			secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
		}
	}
}
(gateway_keys) {
	key release release-secret {
		name release
		capabilities all
		allow_public
		workspace platform WRITE
	}
	key ci-deployer ci-secret {
		name ci
		capabilities all
		allow_public
		workspace platform WRITE
		workspace personal-ann WRITE
	}
}
:$gw-b2 {
	bucketgate {
		api b2
		mode gateway
		signing_secret policy-test-signing-secret-0123456789abcdef
		import gateway_keys
		upstream {
			realm http://127.0.0.1:$b2-emulator
			key_id gateway-b2-key
			application_key gateway-b2-secret
		}
		import b2_guardrails
	}
	reverse_proxy {http.bucketgate.upstream}
}
:$pass-b2 {
	bucketgate {
		api b2
		upstream {
			realm http://127.0.0.1:$b2-emulator
		}
		import b2_guardrails
	}
	reverse_proxy {http.bucketgate.upstream}
}
:$b2-to-fb {
	bucketgate {
		api b2
		upstream_api flashback
		mode gateway
		signing_secret policy-test-signing-secret-0123456789abcdef
		import gateway_keys
		upstream {
			token fb-token
		}
		import b2_guardrails
	}
	reverse_proxy 127.0.0.1:$flashback-emulator
}
:$gw-fb {
	bucketgate {
		api flashback
		mode gateway
		import gateway_keys
		upstream {
			token fb-token
		}
		import flashback_guardrails
	}
	reverse_proxy 127.0.0.1:$flashback-emulator
}
:$fb-to-b2 {
	bucketgate {
		api flashback
		upstream_api b2
		mode gateway
		import gateway_keys
		upstream {
			realm http://127.0.0.1:$b2-emulator
			key_id gateway-b2-key
			application_key gateway-b2-secret
		}
		import flashback_guardrails
	}
	reverse_proxy {http.bucketgate.upstream}
}
`
}

// TestExamplePolicies holds each policy of examples/policies.Caddyfile to
// what its comment says, through the emulators, in gateway mode,
// passthrough mode and translation; a warning reaches blazer, a real B2
// client, which keeps working; and the audit lists the buckets that fail.
func TestExamplePolicies(t *testing.T) {
	tester := startCaddy(t, policySites(t), "caddyfile")
	const bucketID = "7a48fe8875c6214145260818"
	const fbBucket = "33333333-2222-3333-4444-555555555555"
	release := b2SignIn(t, tester, "http://127.0.0.1:$gw-b2", "release", "release-secret")
	ci := b2SignIn(t, tester, "http://127.0.0.1:$gw-b2", "ci-deployer", "ci-secret")
	direct := b2SignIn(t, tester, "http://127.0.0.1:$pass-b2", "release-b2-key", "release-b2-secret")
	other := b2SignIn(t, tester, "http://127.0.0.1:$pass-b2", "other-b2-key", "other-b2-secret")
	across := b2SignIn(t, tester, "http://127.0.0.1:$b2-to-fb", "ci-deployer", "ci-secret")
	b2call := func(s b2Session, call, body string) (int, http.Header, string) {
		return do(t, tester, "POST", s.apiURL+"/b2api/v3/"+call, body, "Authorization", s.token)
	}
	owner := `"bucketInfo":{"owner":"storage-team"}`
	for _, tc := range []struct {
		name    string
		s       b2Session
		call    string
		body    string
		status  int
		answer  string
		warning string
	}{
		{"public by another gateway key", ci, "b2_create_bucket", `{"accountId":"policy-account","bucketName":"pub-by-ci","bucketType":"allPublic",` + owner + `}`,
			403, `{"status":403,"code":"access_denied","message":"policy public-by-release: only the release key makes a bucket public"}`, ""},
		{"public by the release key", release, "b2_create_bucket", `{"accountId":"policy-account","bucketName":"pub-by-release","bucketType":"allPublic",` + owner + `}`, 200, `"bucketType":"allPublic"`, ""},
		{"public by another B2 key, passthrough", other, "b2_create_bucket", `{"accountId":"policy-account","bucketName":"pub-by-other","bucketType":"allPublic",` + owner + `}`,
			403, "policy public-by-release", ""},
		{"public by the release B2 key, passthrough", direct, "b2_create_bucket", `{"accountId":"policy-account","bucketName":"pub-by-direct","bucketType":"allPublic",` + owner + `}`, 200, "", ""},
		{"hidden files kept a week", ci, "b2_update_bucket", `{"accountId":"policy-account","bucketId":"` + bucketID + `","lifecycleRules":[{"fileNamePrefix":"logs/","daysFromHidingToDeleting":7}]}`,
			403, "policy keep-hidden-30-days: lifecycle rules keep hidden files at least 30 days", ""},
		{"hidden files kept a month", ci, "b2_update_bucket", `{"accountId":"policy-account","bucketId":"` + bucketID + `","lifecycleRules":[{"fileNamePrefix":"logs/","daysFromHidingToDeleting":30}]}`, 200, "", ""},
		{"a CORS origin elsewhere", ci, "b2_update_bucket", `{"accountId":"policy-account","bucketId":"` + bucketID + `","corsRules":[{"corsRuleName":"webapp","allowedOrigins":["https://app.example.com","https://evil.test"],"allowedOperations":["s3_get"],"maxAgeSeconds":60}]}`,
			403, "policy cors-in-example-com", ""},
		{"CORS origins within example.com", ci, "b2_update_bucket", `{"accountId":"policy-account","bucketId":"` + bucketID + `","corsRules":[{"corsRuleName":"webapp","allowedOrigins":["https://app.example.com"],"allowedOperations":["s3_get"],"maxAgeSeconds":60}]}`, 200, "", ""},
		{"encryption on", ci, "b2_update_bucket", `{"accountId":"policy-account","bucketId":"` + bucketID + `","defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"}}`, 200, "", ""},
		{"encryption off again", ci, "b2_update_bucket", `{"accountId":"policy-account","bucketId":"` + bucketID + `","defaultServerSideEncryption":{"mode":"none"}}`,
			403, "policy encryption-stays-on: server-side encryption is never turned off once on", ""},
		{"encryption off again, passthrough", direct, "b2_update_bucket", `{"accountId":"policy-account","bucketId":"` + bucketID + `","defaultServerSideEncryption":{"mode":null}}`,
			403, "policy encryption-stays-on", ""},
		{"a bucket without an owner", ci, "b2_create_bucket", `{"accountId":"policy-account","bucketName":"no-owner","bucketType":"allPrivate"}`,
			200, "", `299 bucketgate "policy name-an-owner: name the bucket's owner in bucketInfo (owner)"`},
		// Translated to Flashback: the rules judge the B2 client's terms.
		{"translated: hidden files kept a week", across, "b2_update_bucket", `{"accountId":"flashback","bucketId":"` + fbBucket + `","lifecycleRules":[{"fileNamePrefix":"a/","daysFromHidingToDeleting":7}]}`,
			403, "policy keep-hidden-30-days", ""},
		{"translated: a rename without an owner", across, "b2_update_bucket", `{"accountId":"flashback","bucketId":"` + fbBucket + `","bucketInfo":{"name":"[protected] Archive","workspaceId":"platform"}}`,
			200, "", `299 bucketgate "policy name-an-owner: name the bucket's owner in bucketInfo (owner)"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := b2call(tc.s, tc.call, tc.body)
			if status != tc.status || !strings.Contains(body, tc.answer) {
				t.Errorf("got %d %s, want %d with %s", status, body, tc.status, tc.answer)
			}
			if got := strings.Join(hdr.Values("Warning"), "|"); got != tc.warning {
				t.Errorf("Warning %q, want %q", got, tc.warning)
			}
		})
	}

	// A protected bucket stays; it is the B2 bucket marked protected=true.
	status, _, body := b2call(release, "b2_create_bucket", `{"accountId":"policy-account","bucketName":"keep-me","bucketType":"allPrivate","bucketInfo":{"owner":"ops","protected":"true"}}`)
	var made struct{ BucketID string }
	if err := json.Unmarshal([]byte(body), &made); status != 200 || err != nil {
		t.Fatalf("creating a protected bucket: %d %s", status, body)
	}
	for _, s := range []b2Session{ci, direct} {
		if status, _, body := b2call(s, "b2_delete_bucket", `{"accountId":"policy-account","bucketId":"`+made.BucketID+`"}`); status != 403 || !strings.Contains(body, "policy protected-stays") {
			t.Errorf("deleting the protected bucket: %d %s", status, body)
		}
	}

	// Flashback clients, in front of Flashback and translated to B2.
	fb := func(method, base, path, body string) (int, http.Header, string) {
		return do(t, tester, method, "http://127.0.0.1:"+base+path, body, "Authorization", "Bearer ci-secret", "Content-Type", "application/json")
	}
	for _, tc := range []struct {
		name, method, base, path, body string
		status                         int
		answer                         string
	}{
		{"an http endpoint", "PUT", "$gw-fb", "/bucket/" + fbBucket, `{"endpoint":"http://s3.example.com"}`, 403, `{"success":false,"message":"policy https-endpoints: endpoints must use https"}`},
		{"an https endpoint", "PUT", "$gw-fb", "/bucket/" + fbBucket, `{"endpoint":"https://s3.example.com"}`, 200, `"success":true`},
		{"a protected bucket deleted", "DELETE", "$gw-fb", "/bucket/" + fbBucket, "", 403, "policy protected-stays: this bucket is protected ([protected] in its name); rename it first"},
		{"a bucket in a personal workspace: audited only", "POST", "$gw-fb", "/bucket",
			`{"name":"Scratch","storageType":"S3","bucket":"ann-scratch","workspaceId":"personal-ann","key":"AKIAIOSFODNN7EXAMPLE","secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`, 200, `"success":true`},
		{"translated: a protected B2 bucket deleted", "DELETE", "$fb-to-b2", "/bucket/" + bucketID, "", 403, "policy protected-stays"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := fb(tc.method, tc.base, tc.path, tc.body)
			if status != tc.status || !strings.Contains(body, tc.answer) {
				t.Errorf("got %d %s, want %d with %s", status, body, tc.status, tc.answer)
			}
		})
	}

	// A bucket B2's rule does not mark protected is deleted, whatever its
	// display name says in Flashback's terms.
	if status, _, body := b2call(ci, "b2_delete_bucket", `{"accountId":"policy-account","bucketId":"`+bucketID+`"}`); status != 200 {
		t.Errorf("deleting an unprotected bucket: %d %s", status, body)
	}

	t.Run("a warning reaches blazer, which keeps working", func(t *testing.T) {
		rec := &headerWire{}
		client, err := b2.NewClient(context.Background(), "ci-deployer", "ci-secret", b2.APIBase(ports(t, "http://127.0.0.1:$gw-b2")), b2.Transport(rec))
		if err != nil {
			t.Fatal(err)
		}
		bucket, err := client.NewBucket(context.Background(), "blazer-no-owner", &b2.BucketAttrs{Type: b2.Private})
		if err != nil {
			t.Fatalf("blazer's creation with a warning: %v", err)
		}
		if got := rec.warnings("b2_create_bucket"); len(got) != 1 || !strings.Contains(got[0], "policy name-an-owner") {
			t.Errorf("blazer's answer carried warnings %q", got)
		}
		if err := bucket.Delete(context.Background()); err != nil {
			t.Errorf("blazer's deletion: %v", err)
		}
	})

	t.Run("the audit lists the buckets that fail", func(t *testing.T) {
		status, _, body := do(t, tester, "GET", "http://localhost:$admin/bucketgate/audit", "")
		var audit struct {
			Handlers []struct {
				API, UpstreamAPI string
				Checked          int
				Error            string
				Failures         []struct {
					BucketID string `json:"bucket_id"`
					Policies []struct{ Name, Action, Message string }
				}
			}
		}
		if err := json.Unmarshal([]byte(body), &audit); err != nil || status != 200 || len(audit.Handlers) != 4 {
			t.Fatalf("audit: %d %s", status, body)
		}
		failing := map[string]bool{}
		for _, h := range audit.Handlers {
			if h.Error != "" || h.Checked == 0 {
				t.Errorf("%s -> %s: checked %d, error %q", h.API, h.UpstreamAPI, h.Checked, h.Error)
			}
			for _, f := range h.Failures {
				for _, p := range f.Policies {
					failing[h.API+">"+f.BucketID+">"+p.Name] = true
				}
			}
		}
		// The bucket made without an owner, and the Flashback bucket seen
		// by B2 clients, whose bucketInfo holds no owner.
		for _, want := range []string{"b2>" + fbBucket + ">name-an-owner"} {
			if !failing[want] {
				t.Errorf("the audit does not list %s: %s", want, body)
			}
		}
		for _, secret := range []string{"wJalr", "AKIA", "ci-secret", "gateway-b2-secret", "fb-token"} {
			if strings.Contains(body, secret) {
				t.Errorf("the audit shows %q: %s", secret, body)
			}
		}
	})
}

// headerWire records the Warning headers of each call a client makes.
type headerWire struct {
	mu  sync.Mutex
	got map[string][]string
}

func (w *headerWire) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		w.mu.Lock()
		if w.got == nil {
			w.got = map[string][]string{}
		}
		call := path.Base(r.URL.Path)
		w.got[call] = append(w.got[call], resp.Header.Values("Warning")...)
		w.mu.Unlock()
	}
	return resp, err
}

func (w *headerWire) warnings(call string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got[call]
}
