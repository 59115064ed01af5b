package flashbackemulator

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPartialUpdate(t *testing.T) {
	e := start(t, testConfig())
	before := bucketAs(t, e, bucketA)

	if a := call(t, e, http.MethodPut, "/bucket/"+bucketA, "tok-writer", `{"region":"eu-west-1"}`); a.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", a.status, a.raw)
	}
	after := bucketAs(t, e, bucketA)
	for k, v := range before {
		want := v
		switch k {
		case "region":
			want = "eu-west-1"
		case "lastStatusAt":
			continue
		}
		if !reflect.DeepEqual(after[k], want) {
			t.Errorf("%s = %v, want %v", k, after[k], want)
		}
	}
	if e.store.buckets[bucketA].SecretSHA256 != digest(seedSecret) {
		t.Error("an update without secret changed the secret")
	}
}

func TestUpdateNeedsWriteRole(t *testing.T) {
	for _, tc := range []struct {
		token  string
		status int
	}{
		{"tok-reader", http.StatusForbidden},
		{"tok-writer", http.StatusOK},
		{"tok-admin", http.StatusOK},
		{"tok-outsider", http.StatusNotFound}, // no role in the bucket's workspace: not even told it exists
		{"tok-nobody", http.StatusNotFound},
	} {
		t.Run(tc.token, func(t *testing.T) {
			e := start(t, testConfig())
			a := call(t, e, http.MethodPut, "/bucket/"+bucketA, tc.token, `{"name":"Renamed"}`)
			if a.status != tc.status {
				t.Fatalf("got %d %s, want %d", a.status, a.raw, tc.status)
			}
			want := "Backups"
			if tc.status == http.StatusOK {
				want = "Renamed"
			}
			if got := bucketAs(t, e, bucketA)["name"]; got != want {
				t.Errorf("name = %v, want %v", got, want)
			}
		})
	}
}

// A refused caller learns nothing from its body: the role is judged first.
func TestRoleJudgedBeforeBody(t *testing.T) {
	e := start(t, testConfig())
	if a := call(t, e, http.MethodPut, "/bucket/"+bucketA, "tok-reader", `{"region":"bad_region"}`); a.status != http.StatusForbidden {
		t.Errorf("reader with a bad body: %d, want 403", a.status)
	}
	if a := call(t, e, http.MethodPut, "/bucket/"+bucketA, "tok-outsider", `not json`); a.status != http.StatusNotFound {
		t.Errorf("outsider with a bad body: %d, want 404", a.status)
	}
}

func TestMoveBetweenWorkspaces(t *testing.T) {
	for _, tc := range []struct {
		name, token, target string
		status              int
	}{
		{"write on both", "tok-mover", wsOther, http.StatusOK},
		{"admin on both", "tok-admin", wsOther, http.StatusOK},
		{"read on target", "tok-half", wsOther, http.StatusForbidden},
		{"no role on target", "tok-writer", wsOther, http.StatusNotFound},
		{"undeclared target", "tok-mover", "workspace-999", http.StatusNotFound},
		{"read on source", "tok-reader", wsOther, http.StatusForbidden},
		{"same workspace, write on it only", "tok-writer", wsMain, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, testConfig())
			a := call(t, e, http.MethodPut, "/bucket/"+bucketA, tc.token, `{"workspaceId":"`+tc.target+`"}`)
			if a.status != tc.status {
				t.Fatalf("got %d %s, want %d", a.status, a.raw, tc.status)
			}
			if a.status == http.StatusNotFound && !strings.HasPrefix(a.Message, "workspaceId:") {
				t.Errorf("message %q does not name workspaceId", a.Message)
			}
			want := wsMain
			if tc.status == http.StatusOK {
				want = tc.target
			}
			if got := bucketAs(t, e, bucketA)["workspaceId"]; got != want {
				t.Errorf("workspaceId = %v, want %v", got, want)
			}
		})
	}
}

func TestCreateAndDelete(t *testing.T) {
	e := start(t, testConfig())
	create := `{"name":"Media","storageType":"BLOB","bucket":"media-files","workspaceId":"` + wsMain + `",
		"key":"account","secret":"create-secret","endpoint":"https://acct.blob.core.windows.net",
		"walletAddress":"GWALLETM","apiKeyUuid":"99999999-8888-4777-8666-555555555555"}`

	for _, tc := range []struct {
		token, body string
		status      int
	}{
		// A create is refused alike in a workspace the caller reads, one
		// it has no role in and one that does not exist.
		{"tok-reader", create, http.StatusForbidden},
		{"tok-outsider", create, http.StatusForbidden},
		{"tok-writer", strings.Replace(create, wsMain, "workspace-999", 1), http.StatusForbidden},
	} {
		if a := call(t, e, http.MethodPost, "/bucket", tc.token, tc.body); a.status != tc.status {
			t.Errorf("create as %s: %d %s, want %d", tc.token, a.status, a.raw, tc.status)
		}
	}
	if n := len(listed(t, e, "tok-admin", "")); n != 2 {
		t.Fatalf("refused creates left %d buckets, want 2", n)
	}

	a := call(t, e, http.MethodPost, "/bucket", "tok-writer", create)
	if a.status != http.StatusOK || !isUUID(a.BucketID) {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	id := a.BucketID
	// The provider bucket is registered once per organisation, whatever
	// the workspace.
	again := call(t, e, http.MethodPost, "/bucket", "tok-admin", strings.Replace(create, wsMain, wsOther, 1))
	if again.status != http.StatusBadRequest || !strings.Contains(again.Message, "bucket:") {
		t.Errorf("second create of media-files: %d %s, want 400 naming bucket", again.status, again.raw)
	}
	if b := call(t, e, http.MethodPost, "/bucket", "tok-admin", strings.Replace(create, "media-files", "media-files-2", 1)); b.BucketID == id || !isUUID(b.BucketID) {
		t.Errorf("two creates got the same id, or none: %s", b.raw)
	}
	got := bucketAs(t, e, id)
	for k, v := range map[string]any{
		"name": "Media", "storageType": "BLOB", "bucket": "media-files", "workspaceId": wsMain, "key": "account",
		"endpoint": "https://acct.blob.core.windows.net", "walletAddress": "GWALLETM",
		"apiKeyId": "99999999-8888-4777-8666-555555555555", "status": "ONLINE",
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, got["createdAt"].(string)); err != nil {
		t.Errorf("createdAt: %v", err)
	}
	if s, ok := got["secret"].(map[string]any); !ok || len(s) != 0 {
		t.Errorf("secret = %v, want {}", got["secret"])
	}

	for _, tc := range []struct {
		token  string
		status int
	}{
		{"tok-reader", http.StatusForbidden},
		{"tok-outsider", http.StatusNotFound},
		{"tok-writer", http.StatusOK},
		{"tok-writer", http.StatusNotFound}, // already gone
	} {
		a := call(t, e, http.MethodDelete, "/bucket/"+id, tc.token, "")
		if a.status != tc.status {
			t.Errorf("delete as %s: %d %s, want %d", tc.token, a.status, a.raw, tc.status)
		}
		if a.status == http.StatusOK && a.Message != "Bucket deleted" {
			t.Errorf("delete message %q", a.Message)
		}
	}
	if _, ok := listed(t, e, "tok-admin", "")[id]; ok {
		t.Error("deleted bucket still listed")
	}
	if a := call(t, e, http.MethodPut, "/bucket/"+id, "tok-writer", `{"name":"x"}`); a.status != http.StatusNotFound {
		t.Errorf("update of a deleted bucket: %d, want 404", a.status)
	}
}

func TestUnknownBucket(t *testing.T) {
	e := start(t, testConfig())
	for _, id := range []string{"00000000-0000-4000-8000-000000000000", "not-a-uuid"} {
		for _, method := range []string{http.MethodPut, http.MethodDelete} {
			a := call(t, e, method, "/bucket/"+id, "tok-admin", `{"name":"x"}`)
			if a.status != http.StatusNotFound || a.Message != "Bucket not found" {
				t.Errorf("%s %s: %d %s", method, id, a.status, a.raw)
			}
		}
	}
}

func TestListFilters(t *testing.T) {
	e := start(t, testConfig())
	ids := func(m map[string]map[string]any) []string {
		var out []string
		for id := range m {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		token, query string
		want         []string
	}{
		{"tok-reader", "", []string{bucketA}},
		{"tok-admin", "", []string{bucketA, bucketB}},
		{"tok-nobody", "", nil},
		{"tok-admin", "?workspaceId=" + wsOther, []string{bucketB}},
		{"tok-admin", "?workspaceId=undefined&walletAddress=undefined", []string{bucketA, bucketB}},
		{"tok-admin", "?workspaceId=&walletAddress=", []string{bucketA, bucketB}},
		{"tok-admin", "?walletAddress=GWALLETA", []string{bucketA}},
		{"tok-admin", "?workspaceId=" + wsOther + "&walletAddress=GWALLETA", nil},
		{"tok-reader", "?workspaceId=" + wsOther, nil}, // not the reader's: empty, not an error
	} {
		if got := ids(listed(t, e, tc.token, tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("%s GET /bucket%s = %v, want %v", tc.token, tc.query, got, tc.want)
		}
	}
	// An empty list is [], which the TypeScript client can iterate; null it cannot.
	if a := call(t, e, http.MethodGet, "/bucket", "tok-nobody", ""); !strings.Contains(a.raw, `"buckets":[]`) {
		t.Errorf("empty list = %s", a.raw)
	}
}

func TestLastStatusAtMovesOnRead(t *testing.T) {
	e := start(t, testConfig())
	first, second := bucketAs(t, e, bucketA), bucketAs(t, e, bucketA)
	if first["lastStatusAt"] == second["lastStatusAt"] {
		t.Errorf("lastStatusAt did not move between reads: %v", first["lastStatusAt"])
	}
	if first["createdAt"] != second["createdAt"] {
		t.Errorf("createdAt moved: %v then %v", first["createdAt"], second["createdAt"])
	}
	if got := second["lastStatusAt"].(string); !strings.HasSuffix(got, ".000Z") {
		t.Errorf("lastStatusAt %q is not in the backend's format", got)
	}
}
