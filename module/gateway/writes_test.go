package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// storage is an upstream that speaks just enough B2 and Flashback for the
// writes: B2's sign-in, list, create, update and delete of bucket b1
// (revision 7), and Flashback's list, create, update and delete of bucket
// fbID (workspace ws). Writes change nothing but the Flashback buckets it
// created, which it lists. It records every call.
type storage struct {
	mu    sync.Mutex
	calls []storageCall
	// made are the buckets created, by id, as the list shows them.
	made map[string]map[string]any
}

type storageCall struct{ method, path, auth, body string }

func newStorage() *storage { return &storage{made: map[string]map[string]any{}} }

func (s *storage) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	raw, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, storageCall{r.Method, r.URL.Path, r.Header.Get("Authorization"), string(raw)})
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	w.Header().Set("Content-Type", "application/json")
	answer := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	b2Bucket := map[string]any{"accountId": "acct", "bucketId": "b1", "bucketName": "demo-bucket", "bucketType": "allPrivate",
		"bucketInfo": map[string]any{"workspaceId": "ws", "name": "Backups"}, "revision": 7}
	fbBucket := map[string]any{"id": fbID, "name": "Backups", "bucket": "demo-bucket", "storageType": "S3", "workspaceId": "ws"}
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, "/b2_authorize_account"):
		answer(map[string]any{"accountId": "acct", "authorizationToken": "up-token", "apiInfo": map[string]any{"storageApi": map[string]any{
			"apiUrl": "http://b2.test", "downloadUrl": "http://f.test", "s3ApiUrl": "https://s3.us-west-004.backblazeb2.com", "capabilities": []string{"all"}}}})
	case strings.HasSuffix(p, "/b2_list_buckets"):
		answer(map[string]any{"buckets": []any{b2Bucket}})
	case strings.HasSuffix(p, "/b2_create_bucket"):
		answer(map[string]any{"accountId": doc["accountId"], "bucketId": "b-new", "bucketName": doc["bucketName"], "bucketType": doc["bucketType"],
			"bucketInfo": doc["bucketInfo"], "revision": 2})
	case strings.HasSuffix(p, "/b2_delete_bucket"):
		answer(b2Bucket)
	case strings.HasSuffix(p, "/b2_update_bucket"):
		b2Bucket["revision"] = 8
		answer(b2Bucket)
	case r.Method == http.MethodPut && p == "/bucket/"+fbID:
		answer(map[string]any{"success": true, "bucketId": fbID})
	case r.Method == http.MethodGet && p == "/bucket":
		list := []any{fbBucket}
		for _, b := range s.made {
			list = append(list, b)
		}
		answer(map[string]any{"success": true, "buckets": list})
	case r.Method == http.MethodPost && p == "/bucket":
		id := "22222222-3333-4444-5555-666666666666"
		doc["id"] = id
		delete(doc, "secret")
		s.made[id] = doc
		answer(map[string]any{"success": true, "bucketId": id})
	case r.Method == http.MethodDelete && p == "/bucket/"+fbID:
		answer(map[string]any{"success": true, "message": "Bucket deleted"})
	default:
		w.WriteHeader(http.StatusNotFound)
		answer(map[string]any{"success": false, "message": "Not found"})
	}
	return nil
}

// writes are the calls that changed something upstream: every call but the
// reads and sign-ins.
func (s *storage) writes() []storageCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storageCall
	for _, c := range s.calls {
		if !strings.HasSuffix(c.path, "/b2_authorize_account") && !strings.HasSuffix(c.path, "/b2_list_buckets") && !(c.method == http.MethodGet && c.path == "/bucket") {
			out = append(out, c)
		}
	}
	return out
}

// TestEveryWriteIsJudged: a creation and a deletion, like an update, are
// authenticated, checked against their operation's contract, authorised,
// and then performed: with the client's credential in passthrough mode and
// the gateway's own in gateway mode, translated where the APIs differ. A
// write refused reaches nothing upstream.
func TestEveryWriteIsJudged(t *testing.T) {
	b2Gateway := func() *Handler {
		return &Handler{API: "b2", Mode: "gateway", SigningSecret: strings.Repeat("s", 32),
			Keys: []auth.Key{
				{ID: "admin", Secret: "admin-secret", Capabilities: []string{"all"}, AllowPublic: true},
				{ID: "writer", Secret: "writer-secret", Capabilities: []string{"listBuckets", "readBuckets", "writeBuckets"}},
				{ID: "limited", Secret: "limited-secret", Capabilities: []string{"all"}, Buckets: []string{"b1"}},
			},
			Upstream: &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}}
	}
	fbGateway := func(upstreamAPI string) *Handler {
		h := &Handler{API: "flashback", UpstreamAPI: upstreamAPI, Mode: "gateway",
			Keys: []auth.Key{
				{ID: "writer", Secret: "writer-secret", Workspaces: map[string]string{"ws": "WRITE"}},
				{ID: "reader", Secret: "reader-secret", Workspaces: map[string]string{"ws": "READ"}},
			},
			Upstream: &UpstreamCredentials{Token: "fb-token"}}
		if upstreamAPI == "b2" {
			h.Upstream = &UpstreamCredentials{Realm: "https://b2.test", KeyID: "up", ApplicationKey: "up-key"}
		}
		return h
	}
	b2ToFlashback := func() *Handler {
		h := b2Gateway()
		h.UpstreamAPI, h.Upstream = "flashback", &UpstreamCredentials{Token: "fb-token"}
		h.Keys[0].Workspaces = map[string]string{"ws": "WRITE"}
		return h
	}
	const fbCreate = `{"name":"Media","storageType":"S3","bucket":"media-bucket","workspaceId":"ws","key":"AKIAEXAMPLE","secret":"s3cret-value"}`
	for _, tc := range []struct {
		name   string
		h      func() *Handler
		method string
		target string
		body   string
		key    string // a gateway key's id (its secret is <id>-secret), or the client's own credential
		status int
		// sent is the write that must reach the upstream: method, path and
		// a part of the body; none for a refusal.
		sent     string
		sentBody string
		answer   string // in the client's answer
		etag     bool
	}{
		// B2, passthrough: judged, then sent with the client's token.
		{name: "b2 passthrough create", h: func() *Handler { return &Handler{API: "b2"} },
			method: "POST", target: "/b2api/v3/b2_create_bucket", body: `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPrivate"}`, key: "4_client",
			status: 200, sent: "POST /b2api/v3/b2_create_bucket", sentBody: `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPrivate"}`, answer: `"bucketId":"b-new"`, etag: true},
		{name: "b2 passthrough create by GET", h: func() *Handler { return &Handler{API: "b2"} },
			method: "GET", target: "/b2api/v2/b2_create_bucket?accountId=acct&bucketName=new-bucket&bucketType=allPrivate", key: "4_client",
			status: 200, sent: "POST /b2api/v2/b2_create_bucket", sentBody: `"bucketName":"new-bucket"`, etag: true},
		{name: "b2 passthrough create, name B2 refuses", h: func() *Handler { return &Handler{API: "b2"} },
			method: "POST", target: "/b2api/v3/b2_create_bucket", body: `{"accountId":"acct","bucketName":"b2-reserved","bucketType":"allPrivate"}`, key: "4_client",
			status: 400, answer: "bucketName"},
		{name: "b2 passthrough create, CORS rules B2 refuses", h: func() *Handler { return &Handler{API: "b2"} },
			method: "POST", target: "/b2api/v3/b2_create_bucket", key: "4_client",
			body:   `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPrivate","corsRules":[{"corsRuleName":"ruleone","allowedOrigins":["*","https://a.example"],"allowedOperations":["s3_get"],"maxAgeSeconds":1}]}`,
			status: 400, answer: "corsRules[0].allowedOrigins[0]"},
		{name: "b2 passthrough delete", h: func() *Handler { return &Handler{API: "b2"} },
			method: "POST", target: "/b2api/v3/b2_delete_bucket", body: `{"accountId":"acct","bucketId":"b1"}`, key: "4_client",
			status: 200, sent: "POST /b2api/v3/b2_delete_bucket", sentBody: `{"accountId":"acct","bucketId":"b1"}`},
		{name: "b2 passthrough delete without accountId", h: func() *Handler { return &Handler{API: "b2"} },
			method: "POST", target: "/b2api/v3/b2_delete_bucket", body: `{"bucketId":"b1"}`, key: "4_client",
			status: 400, answer: "accountId: is required"},
		{name: "b2 passthrough delete, stale If-Match", h: func() *Handler { return &Handler{API: "b2"} },
			method: "POST", target: "/b2api/v3/b2_delete_bucket", body: `{"accountId":"acct","bucketId":"b1"}`, key: "4_client",
			status: 412},
		// B2, gateway mode: the key's rights, then the gateway's token.
		{name: "b2 gateway create", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_create_bucket", key: "admin",
			body:   `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPublic","bucketInfo":{"owner":"ops"}}`,
			status: 200, sent: "POST /b2api/v3/b2_create_bucket", sentBody: `"bucketType":"allPublic"`, answer: `"bucketId":"b-new"`, etag: true},
		{name: "b2 gateway create, public without allow_public", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_create_bucket", key: "writer",
			body: `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPublic"}`, status: 401, answer: "allow_public"},
		{name: "b2 gateway create, key limited to buckets", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_create_bucket", key: "limited",
			body: `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPrivate"}`, status: 401, answer: "cannot create"},
		{name: "b2 gateway create, another account", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_create_bucket", key: "admin",
			body: `{"accountId":"other","bucketName":"new-bucket","bucketType":"allPrivate"}`, status: 401, answer: "accountId"},
		{name: "b2 gateway delete, without deleteBuckets", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_delete_bucket", key: "writer",
			body: `{"accountId":"acct","bucketId":"b1"}`, status: 401, answer: "deleteBuckets"},
		{name: "b2 gateway delete of its own bucket", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_delete_bucket", key: "limited",
			body: `{"accountId":"acct","bucketId":"b1"}`, status: 200, sent: "POST /b2api/v3/b2_delete_bucket", sentBody: `"bucketId":"b1"`},
		{name: "b2 gateway delete of another bucket", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_delete_bucket", key: "limited",
			body: `{"accountId":"acct","bucketId":"b2"}`, status: 401, answer: "may not use this bucket"},
		{name: "b2 gateway create with If-Match", h: b2Gateway, method: "POST", target: "/b2api/v3/b2_create_bucket", key: "admin",
			body: `{"accountId":"acct","bucketName":"new-bucket","bucketType":"allPrivate"}`, status: 400, answer: "being created has none"},
		// Flashback, passthrough and gateway mode.
		{name: "flashback passthrough create", h: func() *Handler { return &Handler{API: "flashback"} },
			method: "POST", target: "/bucket", body: fbCreate, key: "Bearer fb-token",
			status: 200, sent: "POST /bucket", sentBody: fbCreate, answer: `"bucketId":"22222222-3333-4444-5555-666666666666"`, etag: true},
		{name: "flashback passthrough create without credentials", h: func() *Handler { return &Handler{API: "flashback"} },
			method: "POST", target: "/bucket", body: `{"name":"Media","storageType":"S3","bucket":"media-bucket","workspaceId":"ws"}`, key: "Bearer fb-token",
			status: 400, answer: "key: is required, or apiKeyUuid in its place"},
		{name: "flashback passthrough create, AZURE name", h: func() *Handler { return &Handler{API: "flashback"} },
			method: "POST", target: "/bucket", body: `{"name":"Media","storageType":"AZURE","bucket":"media_bucket","workspaceId":"ws","apiKeyUuid":"0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"}`, key: "Bearer fb-token",
			status: 400, answer: "Azure container name"},
		{name: "flashback passthrough delete", h: func() *Handler { return &Handler{API: "flashback"} },
			method: "DELETE", target: "/bucket/" + fbID, key: "Bearer fb-token", status: 200, sent: "DELETE /bucket/" + fbID},
		{name: "flashback gateway create", h: func() *Handler { return fbGateway("") }, method: "POST", target: "/bucket", body: fbCreate, key: "writer",
			status: 200, sent: "POST /bucket", sentBody: `"bucket":"media-bucket"`, etag: true},
		{name: "flashback gateway create, READ only", h: func() *Handler { return fbGateway("") }, method: "POST", target: "/bucket", body: fbCreate, key: "reader",
			status: 403, answer: "WRITE or ADMIN on its workspace"},
		{name: "flashback gateway delete, READ only", h: func() *Handler { return fbGateway("") }, method: "DELETE", target: "/bucket/" + fbID, key: "reader",
			status: 403, answer: "WRITE or ADMIN on the bucket's workspace"},
		{name: "flashback gateway delete", h: func() *Handler { return fbGateway("") }, method: "DELETE", target: "/bucket/" + fbID, key: "writer",
			status: 200, sent: "DELETE /bucket/" + fbID, answer: `"success":true`},
		// Translation, both ways.
		{name: "flashback create on B2", h: func() *Handler { return fbGateway("b2") }, method: "POST", target: "/bucket", key: "writer",
			body:   `{"name":"Media","storageType":"S3","bucket":"media-bucket","workspaceId":"ws"}`,
			status: 200, sent: "POST /b2api/v3/b2_create_bucket", sentBody: `"bucketInfo":{"name":"Media","workspaceId":"ws"}`, answer: `{"success":true,"bucketId":"b-new"}`, etag: true},
		{name: "flashback create on B2 with credentials", h: func() *Handler { return fbGateway("b2") }, method: "POST", target: "/bucket", body: fbCreate, key: "writer",
			status: 400, answer: "key: B2 keeps bucketInfo unencrypted"},
		{name: "flashback delete on B2", h: func() *Handler { return fbGateway("b2") }, method: "DELETE", target: "/bucket/b1", key: "writer",
			status: 200, sent: "POST /b2api/v3/b2_delete_bucket", sentBody: `"bucketId":"b1"`, answer: `{"success":true}`},
		{name: "b2 create on Flashback", h: b2ToFlashback, method: "POST", target: "/b2api/v3/b2_create_bucket", key: "admin",
			body: `{"accountId":"flashback","bucketName":"new-bucket","bucketType":"allPrivate"}`, status: 400, answer: "storageType and credentials"},
		{name: "b2 delete on Flashback", h: b2ToFlashback, method: "POST", target: "/b2api/v3/b2_delete_bucket", key: "admin",
			body: `{"accountId":"flashback","bucketId":"` + fbID + `"}`, status: 200, sent: "DELETE /bucket/" + fbID, answer: `"bucketName":"demo-bucket"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHandler(t, tc.h())
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			switch {
			case h.Mode == modeGateway && h.signer != nil:
				r.Header.Set("Authorization", h.signer.Issue(tc.key, time.Now(), time.Hour))
			case h.Mode == modeGateway:
				r.Header.Set("Authorization", "Bearer "+tc.key+"-secret")
			default:
				r.Header.Set("Authorization", tc.key)
			}
			if strings.Contains(tc.name, "If-Match") {
				r.Header.Set("If-Match", `"3"`)
			}
			caddyhttp.NewTestReplacer(r)
			up := newStorage()
			w := serveNext(t, h, up, r)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.answer) {
				t.Fatalf("got %d %s, want %d with %s", w.Code, w.Body, tc.status, tc.answer)
			}
			if got := w.Header().Get("ETag") != ""; got != tc.etag {
				t.Errorf("ETag %q, want one: %v", w.Header().Get("ETag"), tc.etag)
			}
			writes := up.writes()
			if tc.sent == "" {
				if len(writes) != 0 {
					t.Errorf("a refused write reached the upstream: %+v", writes)
				}
				return
			}
			if len(writes) != 1 || writes[0].method+" "+writes[0].path != tc.sent || !strings.Contains(writes[0].body, tc.sentBody) {
				t.Fatalf("upstream writes %+v, want one %s with %s", writes, tc.sent, tc.sentBody)
			}
			want := tc.key
			switch {
			case h.Mode == modeGateway && h.upstreamSide.signIn != nil:
				want = "up-token"
			case h.Mode == modeGateway:
				want = "Bearer fb-token"
			}
			if writes[0].auth != want {
				t.Errorf("sent with %q, want %q", writes[0].auth, want)
			}
		})
	}
}
