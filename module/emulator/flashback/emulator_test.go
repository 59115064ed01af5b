package flashbackemulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

const (
	wsMain  = "workspace-123" // the seed page's workspaceId, declared so its example applies as is
	wsOther = "workspace-456"

	bucketA = "11111111-2222-3333-4444-555555555555"
	bucketB = "22222222-3333-4444-5555-666666666666"

	seedKey    = "AKIASEEDKEYEXAMPLE"
	seedSecret = "seed-secret-do-not-echo"
)

// testConfig has a bucket in each workspace and a user for every situation
// the role tests need.
func testConfig() *Emulator {
	return &Emulator{
		Workspaces: []string{wsMain, wsOther},
		Users: []User{
			{Token: "tok-reader", Name: "reader", Roles: map[string]string{wsMain: "READ"}},
			{Token: "tok-writer", Name: "writer", Roles: map[string]string{wsMain: "WRITE"}},
			{Token: "tok-admin", Name: "admin", Roles: map[string]string{wsMain: "ADMIN", wsOther: "ADMIN"}},
			{Token: "tok-outsider", Name: "outsider", Roles: map[string]string{wsOther: "WRITE"}},
			{Token: "tok-mover", Name: "mover", Roles: map[string]string{wsMain: "WRITE", wsOther: "WRITE"}},
			{Token: "tok-half", Name: "half", Roles: map[string]string{wsMain: "WRITE", wsOther: "READ"}},
			{Token: "tok-nobody", Name: "nobody"},
		},
		Buckets: []Bucket{
			{ID: bucketA, Name: "Backups", Workspace: wsMain, StorageType: "S3", Bucket: "backups.example",
				Region: "us-east-1", Endpoint: "https://s3.us-east-1.amazonaws.com", Key: seedKey, Secret: seedSecret,
				WalletAddress: "GWALLETA"},
			{ID: bucketB, Name: "Archive", Workspace: wsOther, StorageType: "GCS", Bucket: "archive-bucket"},
		},
	}
}

// ticking is a clock that moves one second per reading, so every timestamp
// the emulator takes is distinct and predictable.
func ticking() func() time.Time {
	t := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func start(t *testing.T, e *Emulator) *Emulator {
	t.Helper()
	if e.now == nil {
		e.now = ticking()
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := e.Provision(ctx); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	e.logger = zaptest.NewLogger(t) // shown only when the test fails
	return e
}

// answer is a decoded reply of the emulator.
type answer struct {
	status int
	header http.Header
	raw    string

	Success  bool             `json:"success"`
	Message  string           `json:"message"`
	BucketID string           `json:"bucketId"`
	Buckets  []map[string]any `json:"buckets"`
}

func call(t *testing.T, e *Emulator, method, target, token, body string) answer {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if method == http.MethodPut || method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, e, req)
}

func send(t *testing.T, e *Emulator, req *http.Request) answer {
	t.Helper()
	rec := httptest.NewRecorder()
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		t.Error("the emulator called the next handler")
		return nil
	})
	if err := e.ServeHTTP(rec, req, next); err != nil {
		t.Fatalf("ServeHTTP: %v", err)
	}
	a := answer{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("reply is not JSON: %v: %s", err, a.raw)
	}
	if a.Success != (a.status == http.StatusOK) {
		t.Errorf("status %d with success %v", a.status, a.Success)
	}
	return a
}

// listed returns the buckets token sees, by id.
func listed(t *testing.T, e *Emulator, token, query string) map[string]map[string]any {
	t.Helper()
	a := call(t, e, http.MethodGet, "/bucket"+query, token, "")
	if a.status != http.StatusOK {
		t.Fatalf("GET /bucket%s: %d %s", query, a.status, a.raw)
	}
	out := make(map[string]map[string]any, len(a.Buckets))
	for _, b := range a.Buckets {
		out[b["id"].(string)] = b
	}
	return out
}

// bucketAs is bucket id as the admin, who sees both workspaces, lists it.
func bucketAs(t *testing.T, e *Emulator, id string) map[string]any {
	t.Helper()
	b, ok := listed(t, e, "tok-admin", "")[id]
	if !ok {
		t.Fatalf("bucket %s not listed", id)
	}
	return b
}

// The example body of the seed page, verbatim.
const seedExample = `{
  "name": "Updated Backup Bucket",
  "storageType": "S3",
  "bucket": "my-updated-bucket",
  "key": "AKIAIOSFODNN7EXAMPLE",
  "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "region": "us-west-2",
  "endpoint": "https://s3.us-west-2.amazonaws.com",
  "workspaceId": "workspace-123"
}`

func TestSeedExampleUpdate(t *testing.T) {
	e := start(t, testConfig())
	before := bucketAs(t, e, bucketA)

	a := call(t, e, http.MethodPut, "/bucket/"+bucketA, "tok-writer", seedExample)
	if a.status != http.StatusOK || a.BucketID != bucketA {
		t.Fatalf("PUT: %d %s", a.status, a.raw)
	}

	got := listed(t, e, "tok-writer", "")
	b := got[bucketA]
	want := map[string]any{
		"id": bucketA, "name": "Updated Backup Bucket", "storageType": "S3", "bucket": "my-updated-bucket",
		"key": "AKIAIOSFODNN7EXAMPLE", "region": "us-west-2", "endpoint": "https://s3.us-west-2.amazonaws.com",
		"workspaceId": wsMain, "status": "ONLINE", "createdAt": before["createdAt"],
		"secret": map[string]any{}, "walletAddress": "GWALLETA", "repos": []any{},
	}
	for k, v := range want {
		if fmt.Sprint(b[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, b[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, b["lastStatusAt"].(string)); err != nil {
		t.Errorf("lastStatusAt: %v", err)
	}
	raw := call(t, e, http.MethodGet, "/bucket", "tok-writer", "").raw
	if strings.Contains(raw, "wJalrXUtnFEMI") {
		t.Errorf("GET returns the secret in clear: %s", raw)
	}
	if rec := e.store.buckets[bucketA]; rec.SecretSHA256 != digest("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") {
		t.Errorf("the new secret was not stored")
	}
}

func TestRouting(t *testing.T) {
	e := start(t, testConfig())
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/", http.StatusNotFound, ""},
		{http.MethodGet, "/buckets", http.StatusNotFound, ""},
		{http.MethodGet, "/bucket/" + bucketA + "/status", http.StatusNotFound, ""},
		{http.MethodPut, "/bucket//", http.StatusNotFound, ""},
		{http.MethodPatch, "/bucket", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodDelete, "/bucket", http.StatusMethodNotAllowed, "GET, POST"},
		{http.MethodGet, "/bucket/" + bucketA, http.StatusMethodNotAllowed, "PUT, DELETE"},
		{http.MethodPost, "/bucket/" + bucketA, http.StatusMethodNotAllowed, "PUT, DELETE"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			// No token: routing is judged before authentication.
			a := call(t, e, tc.method, tc.path, "", "")
			if a.status != tc.status || a.Message == "" {
				t.Fatalf("got %d %s, want %d", a.status, a.raw, tc.status)
			}
			if got := a.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
	if a := call(t, e, http.MethodGet, "/bucket/", "tok-reader", ""); a.status != http.StatusOK {
		t.Errorf("GET /bucket/: %d, want the list", a.status)
	}
}

func TestValidateConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Emulator)
		want   string // "" for a valid configuration
	}{
		{"valid", func(*Emulator) {}, ""},
		{"empty workspace", func(e *Emulator) { e.Workspaces = append(e.Workspaces, "") }, "empty workspace id"},
		{"duplicate workspace", func(e *Emulator) { e.Workspaces = append(e.Workspaces, wsMain) }, "declared twice"},
		{"missing token", func(e *Emulator) { e.Users[2].Token = "" }, "users[2] (admin): token is required"},
		{"duplicate token", func(e *Emulator) { e.Users[3].Token = "tok-reader" }, "users[3] (outsider): same token as users[0]"},
		{"role in unknown workspace", func(e *Emulator) { e.Users[0].Roles["nowhere"] = "READ" }, `role in undeclared workspace "nowhere"`},
		{"bad role", func(e *Emulator) { e.Users[1].Roles[wsMain] = "OWNER" }, "must be READ, WRITE or ADMIN"},
		{"lowercase role", func(e *Emulator) { e.Users[1].Roles[wsMain] = "write" }, "must be READ, WRITE or ADMIN"},
		{"bucket in unknown workspace", func(e *Emulator) { e.Buckets[1].Workspace = "nowhere" }, `buckets[1] ("Archive"): workspace "nowhere" is not declared`},
		{"duplicate bucket id", func(e *Emulator) { e.Buckets[1].ID = bucketA }, "id already used by buckets[0]"},
		{"bucket id not a UUID", func(e *Emulator) { e.Buckets[0].ID = "bucket-1" }, "id must be a lowercase UUID"},
		{"bucket id in capitals", func(e *Emulator) { e.Buckets[0].ID = "AAAAAAAA-2222-3333-4444-555555555555" }, "id must be a lowercase UUID"},
		{"bad storage type", func(e *Emulator) { e.Buckets[0].StorageType = "FTP" }, "storage_type: must be one of S3, GCS, BLOB"},
		{"missing provider bucket", func(e *Emulator) { e.Buckets[1].Bucket = "" }, "bucket: is required"},
		{"bad provider bucket", func(e *Emulator) { e.Buckets[0].Bucket = "Backups" }, "bucket: not a valid S3 bucket name"},
		{"ftp endpoint", func(e *Emulator) { e.Buckets[0].Endpoint = "ftp://s3.example.com" }, "endpoint: must use http or https"},
		{"bad api key id", func(e *Emulator) { e.Buckets[0].APIKeyID = "key-1" }, "api_key_id: must be a UUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := testConfig()
			tc.change(e)
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			if err := e.Provision(ctx); err != nil {
				t.Fatalf("Provision: %v", err)
			}
			err := e.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.want)
			}
			for _, secret := range []string{"tok-reader", seedSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes a credential: %v", err)
				}
			}
		})
	}
}

// TestLogsHoldNoCredentials drives every call, refusals included, and looks
// for tokens, keys and secrets in everything logged.
func TestLogsHoldNoCredentials(t *testing.T) {
	e := start(t, testConfig())
	core, logs := observer.New(zap.DebugLevel)
	e.logger = zap.New(core)

	const key, secret = "AKIALOGCHECKKEY", "log-check-secret"
	creds := `"key":"` + key + `","secret":"` + secret + `"`
	a := call(t, e, http.MethodPost, "/bucket", "tok-writer",
		`{"name":"n","storageType":"S3","bucket":"log-check","workspaceId":"`+wsMain+`",`+creds+`}`)
	if a.status != http.StatusOK {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	call(t, e, http.MethodPut, "/bucket/"+a.BucketID, "tok-writer", `{`+creds+`}`)
	call(t, e, http.MethodPut, "/bucket/"+a.BucketID, "tok-writer", `{"region":"bad_region",`+creds+`}`)
	call(t, e, http.MethodPut, "/bucket/"+a.BucketID, "tok-reader", `{`+creds+`}`)
	call(t, e, http.MethodGet, "/bucket", "tok-unknown-token", "")
	call(t, e, http.MethodDelete, "/bucket/"+a.BucketID, "tok-writer", "")

	if logs.Len() < 6 {
		t.Fatalf("only %d log entries; the calls above should each log", logs.Len())
	}
	for _, entry := range logs.All() {
		text := entry.Message + fmt.Sprint(entry.ContextMap())
		for _, c := range []string{key, secret, "tok-writer", "tok-reader", "tok-unknown-token", seedSecret} {
			if strings.Contains(text, c) {
				t.Errorf("log entry %q holds a credential: %s", entry.Message, text)
			}
		}
	}
}
