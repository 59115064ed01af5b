package integration

import (
	"encoding/base64"
	"strings"
	"testing"
)

const (
	bucketA   = "aaaaaaaaaaaaaaaaaaaaaaaa"
	bucketB   = "bbbbbbbbbbbbbbbbbbbbbbbb"
	fbBucket1 = "11111111-0000-0000-0000-000000000001"
	fbBucket2 = "22222222-0000-0000-0000-000000000002"
)

// identitySites: B2 and Flashback emulators, and a gateway-mode site for
// each with keys that differ in one respect each. Two more B2 sites share
// the signing secret, and one has another, to test replicas.
const identitySites = globals + `
:$b2-emulator {
	b2_emulator {
		api_url http://127.0.0.1:$b2-emulator
		account acct-1 {
			key up-key up-secret {
				capabilities all
			}
			bucket bucket-a {
				id aaaaaaaaaaaaaaaaaaaaaaaa
			}
			bucket bucket-b {
				id bbbbbbbbbbbbbbbbbbbbbbbb
			}
		}
	}
}
:$flashback-emulator {
	flashback_emulator {
		workspace ws1 ws2
		user up-token {
			role ws1 ADMIN
			role ws2 ADMIN
		}
		bucket "Bucket one" {
			id 11111111-0000-0000-0000-000000000001
			workspace ws1
			storage_type S3
			bucket bucket-one
		}
		bucket "Bucket two" {
			id 22222222-0000-0000-0000-000000000002
			workspace ws2
			storage_type S3
			bucket bucket-two
		}
	}
}
(keys) {
	key full {env.BG_FULL} {
		capabilities all
		allow_public
		workspace ws1 WRITE
		workspace ws2 WRITE
	}
	key limited {env.BG_LIMITED} {
		capabilities listBuckets readBuckets writeBuckets
		workspace ws1 ADMIN
	}
	key readonly {env.BG_READONLY} {
		capabilities listBuckets readBuckets
		workspace ws1 READ
	}
	key only-a {env.BG_ONLY_A} {
		capabilities all
		buckets aaaaaaaaaaaaaaaaaaaaaaaa 11111111-0000-0000-0000-000000000001
		workspace ws1 WRITE
		workspace ws2 WRITE
	}
	key expired {env.BG_EXPIRED} {
		capabilities all
		workspace ws1 WRITE
		expires 2020-01-01T00:00:00Z
	}
}
(b2gate) {
	bucketgate {
		api b2
		mode gateway
		signing_secret {args[0]}
		import keys
		upstream {
			realm http://127.0.0.1:$b2-emulator
			key_id up-key
			application_key {env.BG_UP_SECRET}
		}
	}
	reverse_proxy {http.bucketgate.upstream}
}
:$b2-gateway {
	import b2gate {env.BG_SIGNING}
}
:$b2-replica {
	import b2gate {env.BG_SIGNING}
}
:$b2-other-secret {
	import b2gate {env.BG_OTHER_SIGNING}
}
:$flashback-gateway {
	bucketgate {
		api flashback
		mode gateway
		import keys
		upstream {
			token {env.BG_UP_TOKEN}
		}
	}
	reverse_proxy 127.0.0.1:$flashback-emulator
}
`

// gatewaySecrets are the gateway-side secrets of identitySites, given to it
// through the environment as an operator would, so the configuration itself
// holds none of them. The emulators' own keys are upstream-side.
var gatewaySecrets = map[string]string{
	"BG_FULL": "full-secret-1", "BG_LIMITED": "limited-secret-1", "BG_READONLY": "readonly-secret-1",
	"BG_ONLY_A": "only-a-secret-1", "BG_EXPIRED": "expired-secret-1", "BG_UP_SECRET": "up-secret", "BG_UP_TOKEN": "up-token",
	"BG_SIGNING": "replica-signing-secret-0123456789abcdef", "BG_OTHER_SIGNING": "another-signing-secret-0123456789abcdef",
}

func setGatewaySecrets(t *testing.T) {
	for k, v := range gatewaySecrets {
		t.Setenv(k, v)
	}
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// TestIdentityMatrix: keys × capabilities and grants × fields × buckets,
// in both dialects, each with the status and code a client acts on.
func TestIdentityMatrix(t *testing.T) {
	setGatewaySecrets(t)
	tester := startCaddy(t, identitySites, "caddyfile")
	const b2gw = "http://127.0.0.1:$b2-gateway"
	tokens := map[string]string{}
	for _, k := range []string{"full", "limited", "readonly", "only-a"} {
		tokens[k] = signIn(t, tester, b2gw, k, k+"-secret-1")
	}

	t.Run("B2 sign-in", func(t *testing.T) {
		for _, tc := range []struct {
			name, auth string
			status     int
			code       string
		}{
			{"wrong secret", basicAuth("full", "nope-nope-1"), 401, `"code":"unauthorized"`},
			{"unknown key", basicAuth("nobody", "full-secret-1"), 401, `"code":"unauthorized"`},
			{"expired key", basicAuth("expired", "expired-secret-1"), 401, `"code":"unauthorized"`},
			{"no credentials", "", 401, `"code":"bad_auth_token"`},
		} {
			status, _, body := do(t, tester, "GET", b2gw+"/b2api/v3/b2_authorize_account", "", "Authorization", tc.auth)
			if status != tc.status || !strings.Contains(body, tc.code) {
				t.Errorf("%s: %d %s", tc.name, status, body)
			}
		}
	})

	t.Run("B2 update", func(t *testing.T) {
		for _, tc := range []struct {
			key, bucket, fields string
			status              int
			code                string
		}{
			{"full", bucketA, `"bucketInfo":{"k":"v"}`, 200, ""},
			{"full", bucketA, `"bucketType":"allPublic"`, 200, ""},
			{"full", bucketA, `"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"}`, 200, ""},
			{"full", bucketB, `"replicationConfiguration":{"asReplicationSource":null,"asReplicationDestination":null}`, 200, ""},
			{"limited", bucketA, `"bucketInfo":{"k":"limited"}`, 200, ""},
			{"limited", bucketB, `"bucketType":"allPrivate","lifecycleRules":[]`, 200, ""},
			// b2-sdk-java sends null for every setting it was not given;
			// a null needs no capability.
			{"limited", bucketA, `"bucketInfo":{"k":"java"},"defaultServerSideEncryption":null,"defaultRetention":null,"fileLockEnabled":null,"replicationConfiguration":null,"ifRevisionIs":null`, 200, ""},
			{"limited", bucketA, `"bucketType":"allPublic"`, 401, "reserved to keys granted it"},
			{"limited", bucketA, `"defaultServerSideEncryption":{"mode":"none"}`, 401, "writeBucketEncryption"},
			{"limited", bucketA, `"defaultRetention":{"mode":null}`, 401, "writeBucketRetentions"},
			{"limited", bucketA, `"fileLockEnabled":true`, 401, "writeBucketRetentions"},
			{"limited", bucketA, `"replicationConfiguration":{"asReplicationSource":null}`, 401, "writeBucketReplications"},
			{"readonly", bucketA, `"bucketInfo":{}`, 401, "writeBuckets"},
			{"only-a", bucketA, `"bucketInfo":{"k":"a"}`, 200, ""},
			{"only-a", bucketB, `"bucketInfo":{"k":"b"}`, 401, "may not use this bucket"},
		} {
			body := `{"accountId":"acct-1","bucketId":"` + tc.bucket + `",` + tc.fields + `}`
			status, _, got := do(t, tester, "POST", b2gw+"/b2api/v2/b2_update_bucket", body, "Authorization", tokens[tc.key])
			want := `"code":"unauthorized"`
			if status != tc.status || (tc.status == 401 && (!strings.Contains(got, want) || !strings.Contains(got, tc.code))) {
				t.Errorf("%s on %s with %s: %d %s, want %d %s", tc.key, tc.bucket[:1], tc.fields, status, got, tc.status, tc.code)
			}
		}
		// B2 refuses an accountId that is not the token's; the gateway must
		// not put its own in and apply what B2 would refuse.
		body := `{"accountId":"another-account","bucketId":"` + bucketA + `","bucketInfo":{"k":"other"}}`
		if status, _, got := do(t, tester, "POST", b2gw+"/b2api/v2/b2_update_bucket", body, "Authorization", tokens["full"]); status != 401 || !strings.Contains(got, `"code":"unauthorized"`) {
			t.Errorf("another account's id: %d %s", status, got)
		}
		// An accountId left out, or null as b2-sdk-java may send it, is the
		// token's own.
		body = `{"accountId":null,"bucketId":"` + bucketA + `","bucketInfo":{"k":"v"}}`
		if status, _, got := do(t, tester, "POST", b2gw+"/b2api/v2/b2_update_bucket", body, "Authorization", tokens["full"]); status != 200 {
			t.Errorf("null accountId: %d %s", status, got)
		}
	})

	t.Run("B2 list", func(t *testing.T) {
		for _, tc := range []struct {
			key          string
			status       int
			wantA, wantB bool
		}{
			{"full", 200, true, true},
			{"only-a", 200, true, false},
			{"readonly", 200, true, true},
		} {
			status, _, body := do(t, tester, "POST", b2gw+"/b2api/v2/b2_list_buckets", `{"accountId":"acct-1"}`, "Authorization", tokens[tc.key])
			if status != tc.status || strings.Contains(body, bucketA) != tc.wantA || strings.Contains(body, bucketB) != tc.wantB {
				t.Errorf("%s: %d %s", tc.key, status, body)
			}
		}
		_, _, body := do(t, tester, "POST", b2gw+"/b2api/v2/b2_list_buckets", `{"accountId":"acct-1","bucketId":"`+bucketA+`"}`, "Authorization", tokens["limited"])
		if !strings.Contains(body, `"defaultServerSideEncryption":{"isClientAuthorizedToRead":false,"value":null}`) {
			t.Errorf("a key without readBucketEncryption sees the encryption setting: %s", body)
		}
		_, _, body = do(t, tester, "POST", b2gw+"/b2api/v2/b2_list_buckets", `{"accountId":"acct-1","bucketId":"`+bucketA+`"}`, "Authorization", tokens["full"])
		if !strings.Contains(body, `"mode":"SSE-B2"`) {
			t.Errorf("a key with readBucketEncryption does not see the encryption setting: %s", body)
		}
	})

	t.Run("B2 tokens", func(t *testing.T) {
		update := `{"bucketId":"` + bucketA + `","bucketInfo":{"k":"replica"}}`
		for _, tc := range []struct {
			name, base, token string
			status            int
			code              string
		}{
			{"same signing secret on another replica", "http://127.0.0.1:$b2-replica", tokens["full"], 200, ""},
			{"another signing secret", "http://127.0.0.1:$b2-other-secret", tokens["full"], 401, `"code":"bad_auth_token"`},
			{"tampered token", b2gw, tokens["full"][:len(tokens["full"])-2] + "AA", 401, `"code":"bad_auth_token"`},
			{"upstream token at the gateway", b2gw, "4_notagatewaytoken", 401, `"code":"bad_auth_token"`},
		} {
			status, _, body := do(t, tester, "POST", tc.base+"/b2api/v2/b2_update_bucket", update, "Authorization", tc.token)
			if status != tc.status || !strings.Contains(body, tc.code) {
				t.Errorf("%s: %d %s", tc.name, status, body)
			}
		}
		status, _, body := do(t, tester, "POST", b2gw+"/b2api/v2/b2_list_file_names", `{"bucketId":"`+bucketA+`"}`, "Authorization", tokens["full"])
		if status != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("other calls with a gateway token: %d %s", status, body)
		}
	})

	t.Run("Flashback update", func(t *testing.T) {
		const fb = "http://127.0.0.1:$flashback-gateway/bucket/"
		for _, tc := range []struct {
			secret, bucket, body string
			status               int
			want                 string
		}{
			{"full-secret-1", fbBucket1, `{"name":"by full"}`, 200, ""},
			{"limited-secret-1", fbBucket1, `{"name":"by limited (ADMIN)"}`, 200, ""},
			{"readonly-secret-1", fbBucket1, `{"name":"by readonly"}`, 403, "WRITE or ADMIN on the bucket's workspace"},
			{"limited-secret-1", fbBucket2, `{"name":"no role in ws2"}`, 403, "WRITE or ADMIN on the bucket's workspace"},
			{"limited-secret-1", fbBucket1, `{"workspaceId":"ws2"}`, 403, "target workspace"},
			{"only-a-secret-1", fbBucket2, `{"name":"not my bucket"}`, 403, "may not use this bucket"},
			{"expired-secret-1", fbBucket1, `{"name":"too late"}`, 401, "expired"},
			{"no-such-secret", fbBucket1, `{"name":"who"}`, 401, "unknown gateway key"},
			{"full-secret-1", fbBucket1, `{"workspaceId":"ws2"}`, 200, ""},
			{"full-secret-1", fbBucket1, `{"workspaceId":"ws1"}`, 200, ""},
		} {
			status, _, got := do(t, tester, "PUT", fb+tc.bucket, tc.body, "Authorization", "Bearer "+tc.secret, "Content-Type", "application/json")
			if status != tc.status || !strings.Contains(got, tc.want) {
				t.Errorf("%s on %s with %s: %d %s, want %d %q", tc.secret, tc.bucket[:1], tc.body, status, got, tc.status, tc.want)
			}
		}
		_, _, list := do(t, tester, "GET", "http://127.0.0.1:$flashback-emulator/bucket", "", "Authorization", "Bearer up-token")
		if !strings.Contains(list, `"name":"by limited (ADMIN)"`) || strings.Contains(list, "by readonly") || strings.Contains(list, "no role") {
			t.Errorf("upstream state after the matrix: %s", list)
		}
		if n := strings.Count(list, `"workspaceId":"ws1"`); n != 1 {
			t.Errorf("bucket one did not move to ws2 and back: %s", list)
		}
	})
}
