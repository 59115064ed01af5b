package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketgate/bucketgate/module/auth"
)

// fakeB2 is a B2 upstream for translation tests: sign-in, list by bucket id,
// and update with ifRevisionIs. interfere runs before each update is judged,
// as another writer would.
type fakeB2 struct {
	mu        sync.Mutex
	info      map[string]any
	revision  int64
	updates   int
	interfere func(f *fakeB2)
}

func (f *fakeB2) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	var doc map[string]any
	_ = json.NewDecoder(r.Body).Decode(&doc)
	bucket := func() map[string]any {
		return map[string]any{"accountId": "acct", "bucketId": "b1", "bucketName": "demo-bucket", "bucketType": "allPrivate",
			"bucketInfo": f.info, "revision": f.revision}
	}
	switch r.URL.Path {
	case "/b2api/v3/b2_authorize_account":
		_, _ = io.WriteString(w, `{"accountId":"acct","authorizationToken":"up-token","apiInfo":{"storageApi":{"apiUrl":"http://b2.test","s3ApiUrl":"https://s3.us-west-004.backblazeb2.com"}}}`)
	case "/b2api/v3/b2_list_buckets":
		_ = json.NewEncoder(w).Encode(map[string]any{"buckets": []any{bucket()}})
	case "/b2api/v3/b2_update_bucket":
		f.updates++
		if f.interfere != nil {
			f.interfere(f)
		}
		if rev, _ := doc["ifRevisionIs"].(float64); int64(rev) != f.revision {
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"status":409,"code":"conflict","message":"simultaneous updates to bucket"}`)
			return nil
		}
		f.info = doc["bucketInfo"].(map[string]any)
		f.revision++
		_ = json.NewEncoder(w).Encode(bucket())
	default:
		w.WriteHeader(http.StatusNotFound)
	}
	return nil
}

func newTranslatingHandler(t *testing.T) *Handler {
	t.Setenv("BG_TEST_UP_KEY", "up-application-key")
	h, _ := newHandler(t, &Handler{API: "flashback", UpstreamAPI: "b2", Mode: "gateway",
		Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret", Workspaces: map[string]string{"ws": "WRITE"}}},
		Upstream: &Upstream{Realm: "http://b2.test", KeyID: "up", ApplicationKey: "{env.BG_TEST_UP_KEY}"}})
	return h
}

func putName(name string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPut, "/bucket/b1", strings.NewReader(`{"name":"`+name+`"}`))
	r.Header.Set("Authorization", "Bearer k1-secret")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	caddyhttp.NewTestReplacer(r)
	return r
}

func TestTranslatedUpdateMergesAgainAfterAConflict(t *testing.T) {
	h := newTranslatingHandler(t)
	up := &fakeB2{info: map[string]any{"workspaceId": "ws", "owner": "a"}, revision: 7}
	interfered := false
	up.interfere = func(f *fakeB2) {
		if !interfered { // another writer gets in once, between read and write
			interfered = true
			f.info = map[string]any{"workspaceId": "ws", "owner": "b"}
			f.revision++
		}
	}
	w := serveFB(t, h, up, putName("Backups"))
	if w.Code != 200 || w.Header().Get("ETag") != `"9"` || w.Body.String() != `{"success":true,"bucketId":"b1"}` {
		t.Fatalf("got %d %s ETag %q", w.Code, w.Body, w.Header().Get("ETag"))
	}
	if up.updates != 2 || up.info["name"] != "Backups" || up.info["owner"] != "b" || up.info["workspaceId"] != "ws" {
		t.Errorf("after %d writes the bucket info is %v; want the name merged onto the other writer's owner", up.updates, up.info)
	}
}

func TestTranslatedUpdateGivesUpAfterBoundedAttempts(t *testing.T) {
	h := newTranslatingHandler(t)
	up := &fakeB2{info: map[string]any{"workspaceId": "ws"}, revision: 1}
	up.interfere = func(f *fakeB2) { f.revision++ } // someone always gets in first
	w := serveFB(t, h, up, putName("Backups"))
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "B2 refused the update") || up.updates != maxMergeAttempts {
		t.Errorf("got %d %s after %d writes", w.Code, w.Body, up.updates)
	}
}

func TestTranslatedIfMatchIsNotRetried(t *testing.T) {
	h := newTranslatingHandler(t)
	up := &fakeB2{info: map[string]any{"workspaceId": "ws"}, revision: 4}
	up.interfere = func(f *fakeB2) { f.revision++ }
	w := serveFB(t, h, up, putName("Backups", "If-Match", `"4"`))
	if w.Code != http.StatusPreconditionFailed || up.updates != 1 {
		t.Errorf("got %d %s after %d writes; a client's precondition must not be merged past", w.Code, w.Body, up.updates)
	}
	w = serveFB(t, h, up, putName("Backups", "If-Match", `"4"`))
	if w.Code != http.StatusPreconditionFailed || up.updates != 1 {
		t.Errorf("stale If-Match: got %d after %d writes; it must be refused before writing", w.Code, up.updates)
	}
}
