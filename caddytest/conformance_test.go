package integration

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// conformanceCase is one line of a corpus under testdata/conformance: a body
// a real client sends or a service documents, and the service's answer to it.
type conformanceCase struct {
	Name string `json:"name"`
	// Source names where the body comes from: a client's repository and
	// file, or a documentation page.
	Source string `json:"source"`
	// Bucket is how the bucket the body updates is created: B2's
	// b2_create_bucket settings, or Flashback's POST /bucket fields.
	Bucket map[string]any `json:"bucket"`
	// Body is sent after its placeholders are filled in: "$ACCOUNT_ID",
	// "$BUCKET_ID", "$BUCKET_NAME" and "$WORKSPACE_ID" with the values of
	// the run, and "$REVISION" (quotes and all) with the bucket's current
	// revision.
	Body json.RawMessage `json:"body"`
	// ID is the path's bucket id of a Flashback deletion, which has no
	// body: "$BUCKET_ID", or a literal id.
	ID   string `json:"id"`
	Want struct {
		Status int    `json:"status"`
		Code   string `json:"code"` // B2's error code; Flashback has none
	} `json:"want"`
}

func loadCorpus(t *testing.T, file string) []conformanceCase {
	t.Helper()
	f, err := os.Open("../testdata/conformance/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []conformanceCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var c conformanceCase
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s:%d: %v", file, line, err)
		}
		if c.Name == "" || c.Source == "" || len(c.Body) == 0 && c.ID == "" || c.Want.Status == 0 {
			t.Fatalf("%s:%d: a case needs a name, a source, a body (or a Flashback deletion's id) and the service's answer", file, line)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func fill(body json.RawMessage, values map[string]string) string {
	s := string(body)
	for k, v := range values {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// conformanceSites are the two emulators with the gateway in front of each,
// once passing clients' own credentials through and once in gateway mode.
const conformanceSites = globals + `
:$b2-emulator {
	b2_emulator {
		api_url http://127.0.0.1:$b2-emulator
		account conformance-account {
			key conf-key-id conf-app-key {
				capabilities all
			}
		}
	}
}
:$b2-passthrough {
	bucketgate {
		api b2
		upstream {
			realm http://127.0.0.1:$b2-emulator
		}
	}
	reverse_proxy {http.bucketgate.upstream}
}
:$b2-gateway {
	bucketgate {
		api b2
		mode gateway
		signing_secret conformance-signing-secret-0123456789abcdef
		key conf-gw-id conf-gw-key {
			capabilities all
			allow_public
		}
		upstream {
			realm http://127.0.0.1:$b2-emulator
			key_id conf-key-id
			application_key conf-app-key
		}
	}
	reverse_proxy {http.bucketgate.upstream}
}
:$flashback-emulator {
	flashback_emulator {
		workspace conf-workspace
		user conf-token {
			role conf-workspace WRITE
		}
	}
}
:$flashback-passthrough {
	bucketgate {
		api flashback
	}
	reverse_proxy 127.0.0.1:$flashback-emulator
}
:$flashback-gateway {
	bucketgate {
		api flashback
		mode gateway
		key conf-gw-id conf-gw-key {
			workspace conf-workspace WRITE
		}
		# No grant in not-my-workspace, which a corpus case creates in.
		upstream {
			token conf-token
		}
	}
	reverse_proxy 127.0.0.1:$flashback-emulator
}
`

// TestConformance runs every corpus case against each emulator over HTTP
// and against the gateway in front of it, through Caddy, in both modes.
// Every one of them must give the service's answer: the emulators are the
// oracle of the other integration tests, so they are held to the corpus
// independently of the gateway.
func TestConformance(t *testing.T) {
	b2Cases := loadCorpus(t, "b2_update_bucket.jsonl")
	fbCases := loadCorpus(t, "flashback_update_bucket.jsonl")
	if n := len(b2Cases) + len(fbCases); n < 150 {
		t.Fatalf("the corpus has %d cases; it must keep at least 150", n)
	}
	tester := startCaddy(t, conformanceSites, "caddyfile")

	owner := b2SignIn(t, tester, "http://127.0.0.1:$b2-emulator", "conf-key-id", "conf-app-key")
	for _, target := range []struct{ name, realm, keyID, key string }{
		{"b2 emulator", "http://127.0.0.1:$b2-emulator", "conf-key-id", "conf-app-key"},
		{"b2 gateway passthrough", "http://127.0.0.1:$b2-passthrough", "conf-key-id", "conf-app-key"},
		{"b2 gateway mode", "http://127.0.0.1:$b2-gateway", "conf-gw-id", "conf-gw-key"},
	} {
		t.Run(target.name, func(t *testing.T) {
			client := b2SignIn(t, tester, target.realm, target.keyID, target.key)
			for i, c := range b2Cases {
				t.Run(c.Name, func(t *testing.T) {
					id, rev := owner.createBucket(t, tester, fmt.Sprintf("conformance-%d", i), c.Bucket)
					defer owner.deleteBucket(t, tester, id)
					body := fill(c.Body, map[string]string{`"$REVISION"`: strconv.FormatInt(rev, 10), "$ACCOUNT_ID": client.accountID, "$BUCKET_ID": id})
					status, _, answer := do(t, tester, "POST", client.apiURL+"/b2api/v3/b2_update_bucket", body, "Authorization", client.token)
					var got struct {
						Code     string `json:"code"`
						BucketID string `json:"bucketId"`
					}
					_ = json.Unmarshal([]byte(answer), &got)
					if status != c.Want.Status || got.Code != c.Want.Code || (status == 200 && got.BucketID != id) {
						t.Errorf("got %d %.300s; the service answers %d %s (source: %s)", status, answer, c.Want.Status, c.Want.Code, c.Source)
					}
				})
			}
		})
	}

	owner2 := []string{"Authorization", "Bearer conf-token", "Content-Type", "application/json"}
	for _, target := range []struct{ name, base, token string }{
		{"flashback emulator", "http://127.0.0.1:$flashback-emulator", "conf-token"},
		{"flashback gateway passthrough", "http://127.0.0.1:$flashback-passthrough", "conf-token"},
		{"flashback gateway mode", "http://127.0.0.1:$flashback-gateway", "conf-gw-key"},
	} {
		t.Run(target.name, func(t *testing.T) {
			for i, c := range fbCases {
				t.Run(c.Name, func(t *testing.T) {
					create := map[string]any{"name": "Conformance", "storageType": "S3", "bucket": fmt.Sprintf("conformance-%d", i),
						"workspaceId": "conf-workspace", "key": "AKIAIOSFODNN7EXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
					for k, v := range c.Bucket {
						create[k] = v
					}
					raw, _ := json.Marshal(create)
					status, _, answer := do(t, tester, "POST", "http://127.0.0.1:$flashback-emulator/bucket", string(raw), owner2...)
					var made struct{ BucketID string }
					if err := json.Unmarshal([]byte(answer), &made); status != 200 || err != nil || made.BucketID == "" {
						t.Fatalf("creating the bucket: %d %s", status, answer)
					}
					defer do(t, tester, "DELETE", "http://127.0.0.1:$flashback-emulator/bucket/"+made.BucketID, "", owner2...)

					body := fill(c.Body, map[string]string{"$WORKSPACE_ID": "conf-workspace"})
					status, _, answer = do(t, tester, "PUT", target.base+"/bucket/"+made.BucketID, body,
						"Authorization", "Bearer "+target.token, "Content-Type", "application/json")
					var got struct{ Success bool }
					_ = json.Unmarshal([]byte(answer), &got)
					if status != c.Want.Status || got.Success != (status == 200) {
						t.Errorf("got %d %.300s; the service answers %d (source: %s)", status, answer, c.Want.Status, c.Source)
					}
				})
			}
		})
	}
}

// b2Session is a signed-in B2 client: where its calls go, and as whom.
type b2Session struct{ token, apiURL, accountID string }

func b2SignIn(t *testing.T, tester *caddytest.Tester, realm, keyID, key string) b2Session {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(keyID + ":" + key))
	status, _, body := do(t, tester, "GET", realm+"/b2api/v3/b2_authorize_account", "", "Authorization", "Basic "+basic)
	var a struct {
		AccountID          string `json:"accountId"`
		AuthorizationToken string `json:"authorizationToken"`
		APIInfo            struct {
			StorageAPI struct {
				APIURL string `json:"apiUrl"`
			} `json:"storageApi"`
		} `json:"apiInfo"`
	}
	if err := json.Unmarshal([]byte(body), &a); err != nil || status != 200 || a.AuthorizationToken == "" {
		t.Fatalf("sign in as %s at %s: %d %s", keyID, realm, status, body)
	}
	return b2Session{a.AuthorizationToken, a.APIInfo.StorageAPI.APIURL, a.AccountID}
}

// createBucket makes a bucket with the given extra settings and returns its
// id and revision.
func (s b2Session) createBucket(t *testing.T, tester *caddytest.Tester, name string, settings map[string]any) (string, int64) {
	t.Helper()
	req := map[string]any{"accountId": s.accountID, "bucketName": name, "bucketType": "allPrivate"}
	for k, v := range settings {
		req[k] = v
	}
	raw, _ := json.Marshal(req)
	status, _, body := do(t, tester, "POST", s.apiURL+"/b2api/v3/b2_create_bucket", string(raw), "Authorization", s.token)
	var b struct {
		BucketID string `json:"bucketId"`
		Revision int64  `json:"revision"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil || status != 200 {
		t.Fatalf("creating bucket %s: %d %s", name, status, body)
	}
	return b.BucketID, b.Revision
}

func (s b2Session) deleteBucket(t *testing.T, tester *caddytest.Tester, id string) {
	t.Helper()
	raw, _ := json.Marshal(map[string]string{"accountId": s.accountID, "bucketId": id})
	if status, _, body := do(t, tester, "POST", s.apiURL+"/b2api/v3/b2_delete_bucket", string(raw), "Authorization", s.token); status != 200 {
		t.Errorf("deleting bucket %s: %d %s", id, status, body)
	}
}

// TestConformanceWrites runs the creation and deletion corpora as
// TestConformance runs the update corpora: against each emulator and the
// gateway in front of it, in both modes. Every bucket a case makes is
// deleted again, so each case starts from the same account.
func TestConformanceWrites(t *testing.T) {
	b2Create, b2Delete := loadCorpus(t, "b2_create_bucket.jsonl"), loadCorpus(t, "b2_delete_bucket.jsonl")
	fbCreate, fbDelete := loadCorpus(t, "flashback_create_bucket.jsonl"), loadCorpus(t, "flashback_delete_bucket.jsonl")
	if n := len(b2Create) + len(b2Delete) + len(fbCreate) + len(fbDelete); n < 100 {
		t.Fatalf("the creation and deletion corpora have %d cases; they must keep at least 100", n)
	}
	tester := startCaddy(t, conformanceSites, "caddyfile")
	var got struct {
		Code     string `json:"code"`
		BucketID string `json:"bucketId"`
		Success  bool   `json:"success"`
	}
	owner := b2SignIn(t, tester, "http://127.0.0.1:$b2-emulator", "conf-key-id", "conf-app-key")
	for ti, target := range []struct{ name, realm, keyID, key string }{
		{"b2 emulator", "http://127.0.0.1:$b2-emulator", "conf-key-id", "conf-app-key"},
		{"b2 gateway passthrough", "http://127.0.0.1:$b2-passthrough", "conf-key-id", "conf-app-key"},
		{"b2 gateway mode", "http://127.0.0.1:$b2-gateway", "conf-gw-id", "conf-gw-key"},
	} {
		t.Run(target.name, func(t *testing.T) {
			client := b2SignIn(t, tester, target.realm, target.keyID, target.key)
			for i, c := range b2Create {
				t.Run("create/"+c.Name, func(t *testing.T) {
					body := fill(c.Body, map[string]string{"$ACCOUNT_ID": client.accountID, "$BUCKET_NAME": fmt.Sprintf("conf%dc%d", ti, i)})
					status, _, answer := do(t, tester, "POST", client.apiURL+"/b2api/v3/b2_create_bucket", body, "Authorization", client.token)
					got.Code, got.BucketID = "", ""
					_ = json.Unmarshal([]byte(answer), &got)
					if status == 200 && got.BucketID != "" {
						owner.deleteBucket(t, tester, got.BucketID)
					}
					if status != c.Want.Status || got.Code != c.Want.Code || (status == 200 && got.BucketID == "") {
						t.Errorf("got %d %.300s; the service answers %d %s (source: %s)", status, answer, c.Want.Status, c.Want.Code, c.Source)
					}
				})
			}
			for i, c := range b2Delete {
				t.Run("delete/"+c.Name, func(t *testing.T) {
					id, _ := owner.createBucket(t, tester, fmt.Sprintf("conf%dd%d", ti, i), c.Bucket)
					body := fill(c.Body, map[string]string{"$ACCOUNT_ID": client.accountID, "$BUCKET_ID": id})
					status, _, answer := do(t, tester, "POST", client.apiURL+"/b2api/v3/b2_delete_bucket", body, "Authorization", client.token)
					got.Code, got.BucketID = "", ""
					_ = json.Unmarshal([]byte(answer), &got)
					if status != 200 {
						owner.deleteBucket(t, tester, id)
					}
					if status != c.Want.Status || got.Code != c.Want.Code || (status == 200 && got.BucketID != id) {
						t.Errorf("got %d %.300s; the service answers %d %s (source: %s)", status, answer, c.Want.Status, c.Want.Code, c.Source)
					}
				})
			}
		})
	}

	ownerAuth := []string{"Authorization", "Bearer conf-token", "Content-Type", "application/json"}
	for ti, target := range []struct{ name, base, token string }{
		{"flashback emulator", "http://127.0.0.1:$flashback-emulator", "conf-token"},
		{"flashback gateway passthrough", "http://127.0.0.1:$flashback-passthrough", "conf-token"},
		{"flashback gateway mode", "http://127.0.0.1:$flashback-gateway", "conf-gw-key"},
	} {
		t.Run(target.name, func(t *testing.T) {
			auth := []string{"Authorization", "Bearer " + target.token, "Content-Type", "application/json"}
			for i, c := range fbCreate {
				t.Run("create/"+c.Name, func(t *testing.T) {
					body := fill(c.Body, map[string]string{"$WORKSPACE_ID": "conf-workspace", "$BUCKET_NAME": fmt.Sprintf("conf%dc%d", ti, i)})
					status, _, answer := do(t, tester, "POST", target.base+"/bucket", body, auth...)
					got.BucketID, got.Success = "", false
					_ = json.Unmarshal([]byte(answer), &got)
					if status == 200 && got.BucketID != "" {
						do(t, tester, "DELETE", "http://127.0.0.1:$flashback-emulator/bucket/"+got.BucketID, "", ownerAuth...)
					}
					if status != c.Want.Status || got.Success != (status == 200) || (status == 200 && got.BucketID == "") {
						t.Errorf("got %d %.300s; the service answers %d (source: %s)", status, answer, c.Want.Status, c.Source)
					}
				})
			}
			for i, c := range fbDelete {
				t.Run("delete/"+c.Name, func(t *testing.T) {
					create := map[string]any{"name": "Conformance", "storageType": "S3", "bucket": fmt.Sprintf("conf%dd%d", ti, i),
						"workspaceId": "conf-workspace", "key": "AKIAIOSFODNN7EXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
					for k, v := range c.Bucket {
						create[k] = v
					}
					raw, _ := json.Marshal(create)
					status, _, answer := do(t, tester, "POST", "http://127.0.0.1:$flashback-emulator/bucket", string(raw), ownerAuth...)
					var made struct{ BucketID string }
					if err := json.Unmarshal([]byte(answer), &made); status != 200 || err != nil || made.BucketID == "" {
						t.Fatalf("creating the bucket: %d %s", status, answer)
					}
					id := strings.ReplaceAll(c.ID, "$BUCKET_ID", made.BucketID)
					status, _, answer = do(t, tester, "DELETE", target.base+"/bucket/"+id, "", "Authorization", "Bearer "+target.token)
					if status != 200 {
						do(t, tester, "DELETE", "http://127.0.0.1:$flashback-emulator/bucket/"+made.BucketID, "", ownerAuth...)
					}
					got.Success = false
					_ = json.Unmarshal([]byte(answer), &got)
					if status != c.Want.Status || got.Success != (status == 200) {
						t.Errorf("got %d %.300s; the service answers %d (source: %s)", status, answer, c.Want.Status, c.Source)
					}
				})
			}
		})
	}
}
