package b2emulator

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func keysOf(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestAuthorizeShapePerVersion(t *testing.T) {
	h := newEmulator(t)
	flat := []string{"absoluteMinimumPartSize", "accountId", "allowed", "apiUrl", "authorizationToken", "downloadUrl", "recommendedPartSize", "s3ApiUrl"}
	top34 := []string{"accountId", "apiInfo", "applicationKeyExpirationTimestamp", "authorizationToken"}
	for _, tc := range []struct {
		version string
		top     []string
		storage []string // keys of apiInfo.storageApi, v3 and v4
		allowed []string // keys of the allowed object
	}{
		{"v1", append([]string{"minimumPartSize"}, flat...), nil, []string{"bucketId", "bucketName", "capabilities", "namePrefix"}},
		{"v2", flat, nil, []string{"bucketId", "bucketName", "capabilities", "namePrefix"}},
		{"v3", top34, []string{"absoluteMinimumPartSize", "apiUrl", "bucketId", "bucketName", "capabilities", "downloadUrl", "infoType", "namePrefix", "recommendedPartSize", "s3ApiUrl"}, nil},
		{"v4", top34, []string{"absoluteMinimumPartSize", "allowed", "apiUrl", "downloadUrl", "recommendedPartSize", "s3ApiUrl"}, []string{"buckets", "capabilities", "namePrefix"}},
	} {
		for _, method := range []struct{ verb, body string }{{"GET", ""}, {"POST", "{}"}, {"POST", ""}} {
			t.Run(tc.version+" "+method.verb+" "+method.body, func(t *testing.T) {
				r := httptest.NewRequest(method.verb, "/b2api/"+tc.version+"/b2_authorize_account", strings.NewReader(method.body))
				r.Header.Set("Authorization", basic("master-id", "master-secret"))
				m := wantOK(t, serve(h, r))
				if got := keysOf(m); !slices.Equal(got, sortedCopy(tc.top)) {
					t.Fatalf("top-level keys %v, want %v", got, sortedCopy(tc.top))
				}
				if m["accountId"] != acctOne || !strings.HasPrefix(m["authorizationToken"].(string), "4_") {
					t.Errorf("accountId %v token %v", m["accountId"], m["authorizationToken"])
				}
				urls := m
				if tc.storage != nil {
					urls = m["apiInfo"].(map[string]any)["storageApi"].(map[string]any)
					if got := keysOf(urls); !slices.Equal(got, tc.storage) {
						t.Fatalf("storageApi keys %v, want %v", got, tc.storage)
					}
				}
				if urls["apiUrl"] != "http://example.com" {
					t.Errorf("apiUrl %v, want the request's scheme and host", urls["apiUrl"])
				}
				allowed := urls
				if tc.allowed != nil {
					allowed = urls["allowed"].(map[string]any)
					if got := keysOf(allowed); !slices.Equal(got, tc.allowed) {
						t.Fatalf("allowed keys %v, want %v", got, tc.allowed)
					}
				}
				if caps := allowed["capabilities"].([]any); len(caps) != len(allCapabilities) {
					t.Errorf("capability all gave %d capabilities, want %d", len(caps), len(allCapabilities))
				}
				if tc.version == "v3" && urls["infoType"] != "storageApi" {
					t.Errorf("infoType %v", urls["infoType"])
				}
			})
		}
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func TestAuthorizeRestrictedKeyAndAPIURL(t *testing.T) {
	h := newEmulator(t, func(h *Emulator) { h.APIURL = "http://127.0.0.1:9100" })
	alpha := bucketID(t, h, "alpha-bucket")
	auth := func(version, id, secret string) map[string]any {
		r := httptest.NewRequest(http.MethodGet, "/b2api/"+version+"/b2_authorize_account", nil)
		r.Header.Set("Authorization", basic(id, secret))
		return wantOK(t, serve(h, r))
	}
	for _, v := range []string{"v1", "v2"} {
		m := auth(v, "reader-id", "reader-secret")
		allowed := m["allowed"].(map[string]any)
		if allowed["bucketId"] != alpha || allowed["bucketName"] != "alpha-bucket" || allowed["namePrefix"] != "photos/" {
			t.Errorf("%s allowed %v", v, allowed)
		}
		if m["apiUrl"] != "http://127.0.0.1:9100" {
			t.Errorf("%s apiUrl %v, want the configured api_url", v, m["apiUrl"])
		}
	}
	storage := auth("v3", "reader-id", "reader-secret")["apiInfo"].(map[string]any)["storageApi"].(map[string]any)
	if storage["bucketId"] != alpha || storage["bucketName"] != "alpha-bucket" || storage["namePrefix"] != "photos/" {
		t.Errorf("v3 storageApi %v", storage)
	}
	allowed := auth("v4", "reader-id", "reader-secret")["apiInfo"].(map[string]any)["storageApi"].(map[string]any)["allowed"].(map[string]any)
	buckets, _ := allowed["buckets"].([]any)
	if len(buckets) != 1 || buckets[0].(map[string]any)["id"] != alpha || buckets[0].(map[string]any)["name"] != "alpha-bucket" {
		t.Errorf("v4 allowed.buckets %v", allowed["buckets"])
	}
	if got := allowed["capabilities"].([]any); len(got) != 3 || got[0] != "listBuckets" {
		t.Errorf("v4 capabilities %v, want the key's own", got)
	}
	unrestricted := auth("v4", "master-id", "master-secret")["apiInfo"].(map[string]any)["storageApi"].(map[string]any)["allowed"].(map[string]any)
	if unrestricted["buckets"] != nil || unrestricted["namePrefix"] != nil {
		t.Errorf("unrestricted key allowed %v, want null buckets and namePrefix", unrestricted)
	}
	caps := auth("v2", "nolist-id", "nolist-secret")["allowed"].(map[string]any)["capabilities"].([]any)
	if len(caps) != 2 || caps[1] != "futureCapability" {
		t.Errorf("unknown capability not passed through: %v", caps)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	h := newEmulator(t)
	for _, tc := range []struct {
		name, header, code string
	}{
		{"no header", "", "bad_auth_token"},
		{"not basic", "Bearer abc", "bad_auth_token"},
		{"bad base64", "Basic !!!", "bad_auth_token"},
		{"no colon", "Basic " + "bWFzdGVyLWlk", "bad_auth_token"},
		{"unknown key id", basic("nobody", "master-secret"), "unauthorized"},
		{"wrong secret", basic("master-id", "other-secret"), "unauthorized"},
		{"another key's secret", basic("master-id", "writer-secret"), "unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/b2api/v3/b2_authorize_account", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			rec := serve(h, r)
			wantError(t, rec, http.StatusUnauthorized, tc.code, "")
			if got := rec.Header().Get("WWW-Authenticate"); got != `BASIC realm="authorize_account"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
			if strings.Contains(rec.Body.String(), "-secret") {
				t.Errorf("error echoes a secret: %s", rec.Body)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	var clock testClock
	h := newEmulator(t, withClock(&clock))
	tok := login(t, h, "master-id", "master-secret")
	list := `{"accountId":"acct-one"}`

	wantError(t, post(h, "", "/b2api/v3/b2_list_buckets", list), 401, "bad_auth_token", "")
	wantError(t, post(h, "4_unknown", "/b2api/v3/b2_list_buckets", list), 401, "bad_auth_token", "")
	wantError(t, post(h, "Bearer "+tok, "/b2api/v3/b2_list_buckets", list), 401, "bad_auth_token", "")
	wantOK(t, post(h, tok, "/b2api/v3/b2_list_buckets", list))

	clock.advance(tokenLifetime - time.Second)
	wantOK(t, post(h, tok, "/b2api/v3/b2_list_buckets", list))

	clock.advance(time.Second)
	wantError(t, post(h, tok, "/b2api/v3/b2_list_buckets", list), 401, "expired_auth_token", "Authorization token has expired")
	// Issuing new tokens must not make the old one unknown.
	fresh := login(t, h, "master-id", "master-secret")
	wantError(t, post(h, tok, "/b2api/v1/b2_list_buckets", list), 401, "expired_auth_token", "")
	wantOK(t, post(h, fresh, "/b2api/v1/b2_list_buckets", list))
}

func TestExpireSomeTokensTestMode(t *testing.T) {
	h := newEmulator(t)
	list := `{"accountId":"acct-one"}`
	tok := login(t, h, "master-id", "master-secret")

	// Without the header a token is reused freely.
	for range 3 {
		wantOK(t, post(h, tok, "/b2api/v3/b2_list_buckets", list))
	}
	// With it, a token already used is expired on its next use, for good.
	wantError(t, post(h, tok, "/b2api/v3/b2_list_buckets", list, testModeHeader, expireTestMode), 401, "expired_auth_token", "")
	wantError(t, post(h, tok, "/b2api/v3/b2_list_buckets", list), 401, "expired_auth_token", "")

	// A fresh token's first use succeeds even with the header, so a client
	// that re-authorizes always gets its retry through.
	fresh := login(t, h, "master-id", "master-secret")
	wantOK(t, post(h, fresh, "/b2api/v3/b2_list_buckets", list, testModeHeader, expireTestMode))
	wantError(t, post(h, fresh, "/b2api/v3/b2_list_buckets", list, testModeHeader, "fail_some_uploads, "+expireTestMode), 401, "expired_auth_token", "")

	// Other test modes do not expire tokens.
	other := login(t, h, "master-id", "master-secret")
	for range 3 {
		wantOK(t, post(h, other, "/b2api/v3/b2_list_buckets", list, testModeHeader, "fail_some_uploads"))
	}
}

func TestCapabilityChecks(t *testing.T) {
	h := newEmulator(t)
	master := login(t, h, "master-id", "master-secret")
	writer := login(t, h, "writer-id", "writer-secret")
	reader := login(t, h, "reader-id", "reader-secret")
	remover := login(t, h, "remover-id", "remover-secret")
	nolist := login(t, h, "nolist-id", "nolist-secret")
	other := login(t, h, "other-id", "other-secret")
	alpha := bucketID(t, h, "alpha-bucket")
	locked := bucketID(t, h, "locked-bucket")

	for _, tc := range []struct {
		name, token, path, body, msg string
	}{
		{"list without listBuckets", nolist, "/b2api/v2/b2_list_buckets", `{"accountId":"acct-one"}`, "listBuckets"},
		{"create without writeBuckets", nolist, "/b2api/v2/b2_create_bucket", `{"accountId":"acct-one","bucketName":"new-bucket","bucketType":"allPrivate"}`, "writeBuckets"},
		{"update without writeBuckets", nolist, "/b2api/v2/b2_update_bucket", `{"bucketId":"` + alpha + `","bucketType":"allPublic"}`, "writeBuckets"},
		{"delete without deleteBuckets", reader, "/b2api/v2/b2_delete_bucket", `{"accountId":"acct-one","bucketId":"` + alpha + `"}`, "deleteBuckets"},
		{"encryption without writeBucketEncryption", writer, "/b2api/v3/b2_update_bucket", `{"bucketId":"` + alpha + `","defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"}}`, "writeBucketEncryption"},
		{"retention without writeBucketRetentions", writer, "/b2api/v3/b2_update_bucket", `{"bucketId":"` + locked + `","defaultRetention":{"mode":null}}`, "writeBucketRetentions"},
		{"file lock without writeBucketRetentions", writer, "/b2api/v3/b2_update_bucket", `{"bucketId":"` + alpha + `","fileLockEnabled":true}`, "writeBucketRetentions"},
		{"replication without writeBucketReplications", writer, "/b2api/v3/b2_update_bucket", `{"bucketId":"` + alpha + `","replicationConfiguration":{"asReplicationSource":null}}`, "writeBucketReplications"},
		{"update naming another account", master, "/b2api/v3/b2_update_bucket", `{"accountId":"acct-two","bucketId":"` + alpha + `"}`, "acct-two"},
		{"list naming another account", master, "/b2api/v3/b2_list_buckets", `{"accountId":"acct-two"}`, "acct-two"},
		{"create in another account", other, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"new-bucket","bucketType":"allPrivate"}`, "acct-one"},
		{"delete in another account", other, "/b2api/v3/b2_delete_bucket", `{"accountId":"acct-one","bucketId":"` + alpha + `"}`, "acct-one"},
		{"restricted key updates its own bucket", reader, "/b2api/v3/b2_update_bucket", `{"bucketId":"` + alpha + `","bucketType":"allPublic"}`, "restricted"},
		{"restricted key creates", reader, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"new-bucket","bucketType":"allPrivate"}`, "restricted"},
		// B2 does not let a bucket-restricted key hold deleteBuckets, so
		// even its own bucket is out of its reach.
		{"restricted key deletes its own bucket", remover, "/b2api/v3/b2_delete_bucket", `{"accountId":"acct-one","bucketId":"` + alpha + `"}`, "restricted"},
		{"create with Object Lock without writeBucketRetentions", writer, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"new-bucket","bucketType":"allPrivate","fileLockEnabled":true}`, "writeBucketRetentions"},
		{"create with encryption without writeBucketEncryption", writer, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"new-bucket","bucketType":"allPrivate","defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"}}`, "writeBucketEncryption"},
		{"create with replication without writeBucketReplications", writer, "/b2api/v3/b2_create_bucket", `{"accountId":"acct-one","bucketName":"new-bucket","bucketType":"allPrivate","replicationConfiguration":{"asReplicationDestination":{"sourceToDestinationKeyMapping":{}}}}`, "writeBucketReplications"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(h, tc.token, tc.path, tc.body), http.StatusUnauthorized, "unauthorized", tc.msg)
		})
	}
	// writeBuckets alone is enough for the unguarded settings, and false
	// needs no retention capability.
	wantOK(t, post(h, writer, "/b2api/v3/b2_update_bucket", `{"bucketId":"`+alpha+`","bucketType":"allPublic","bucketInfo":{},"fileLockEnabled":false}`))
}
