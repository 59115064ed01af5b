package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Backblaze/blazer/b2"
	"github.com/caddyserver/caddy/v2/caddytest"
)

// The demo's sites as the tests run them: on the test's own ports (see
// demoConfig).
const (
	demoGateway     = "http://127.0.0.1:$demo-b2-gateway"
	demoPassthrough = "http://127.0.0.1:$demo-b2-passthrough"
	demoBucketID    = "4a48fe8875c6214145260818"
)

// wire records the calls a client makes and the statuses it gets back.
type wire struct {
	mu    sync.Mutex
	calls []string
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		w.mu.Lock()
		w.calls = append(w.calls, path.Base(r.URL.Path)+" "+http.StatusText(resp.StatusCode))
		w.mu.Unlock()
	}
	return resp, err
}

func (w *wire) count(call string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.calls {
		if c == call {
			n++
		}
	}
	return n
}

// TestBlazerThroughGateway drives blazer, a real B2 client, unchanged,
// through the demo's gateway in gateway mode (demo-b2-gateway, gateway keys)
// and in passthrough mode (demo-b2-passthrough, B2 keys) to the B2 emulator
// behind it.
func TestBlazerThroughGateway(t *testing.T) {
	startCaddy(t, demoConfig(t), "caddyfile")
	for _, mode := range []struct{ name, base, keyID, key string }{
		{"gateway mode", demoGateway, "demo-gw-key-id", "demo-gw-app-key"},
		{"passthrough mode", demoPassthrough, "demo-key-id", "demo-app-key"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			blazerScenario(t, mode.base, mode.keyID, mode.key)
		})
	}
}

func blazerScenario(t *testing.T, base, keyID, key string) {
	ctx := context.Background()
	rec := &wire{}
	client, err := b2.NewClient(ctx, keyID, key, b2.APIBase(ports(t, base)), b2.Transport(rec))
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	buckets, err := client.ListBuckets(ctx)
	if err != nil || len(buckets) != 1 || buckets[0].Name() != "demo-bucket" {
		t.Fatalf("list: %v %v", buckets, err)
	}
	bucket, err := client.Bucket(ctx, "demo-bucket")
	if err != nil {
		t.Fatal(err)
	}

	rules := []b2.LifecycleRule{{Prefix: "logs/", DaysHiddenUntilDeleted: 7}, {Prefix: "tmp/", DaysNewUntilHidden: 1, DaysHiddenUntilDeleted: 2}}
	if err := bucket.Update(ctx, &b2.BucketAttrs{Type: b2.Public, Info: map[string]string{"team": "storage"}, LifecycleRules: rules}); err != nil {
		t.Fatalf("update: %v", err)
	}
	attrs, err := bucket.Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Type != b2.Public || !reflect.DeepEqual(attrs.Info, map[string]string{"team": "storage"}) || !reflect.DeepEqual(attrs.LifecycleRules, rules) {
		t.Errorf("attributes after update: %+v", attrs)
	}

	overlapping := []b2.LifecycleRule{{Prefix: "photos/", DaysHiddenUntilDeleted: 1}, {Prefix: "photos/kittens/", DaysHiddenUntilDeleted: 2}}
	if err := bucket.Update(ctx, &b2.BucketAttrs{LifecycleRules: overlapping}); err == nil || !strings.Contains(err.Error(), "overlaps the prefix of lifecycleRules[0]") {
		t.Errorf("overlapping rules: %v, want the gateway's refusal", err)
	}
	if attrs, err := bucket.Attrs(ctx); err != nil || len(attrs.LifecycleRules) != 2 || attrs.LifecycleRules[0].Prefix != "logs/" {
		t.Errorf("refused update changed the bucket: %+v %v", attrs, err)
	}

	first, err := client.Bucket(ctx, "demo-bucket")
	if err != nil {
		t.Fatal(err)
	}
	second, err := client.Bucket(ctx, "demo-bucket")
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"by": "first"}}); err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := second.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"by": "second"}}); !b2.IsUpdateConflict(err) {
		t.Fatalf("stale update: %v, want an update conflict", err)
	}
	if attrs, err := second.Attrs(ctx); err != nil || attrs.Info["by"] != "first" {
		t.Errorf("after the conflict: %+v %v", attrs, err)
	}
	if n := rec.count("b2_update_bucket OK"); n != 2 {
		t.Errorf("%d applied updates, want 2: %v", n, rec.calls)
	}

	// Buckets come and go as blazer makes and removes them: its own
	// creation body (bucketInfo and lifecycleRules null when unset, no
	// Content-Type) and deletion.
	made, err := client.NewBucket(ctx, "blazer-made-by-"+keyID, &b2.BucketAttrs{Type: b2.Private, Info: map[string]string{"made-by": "blazer"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if attrs, err := made.Attrs(ctx); err != nil || attrs.Info["made-by"] != "blazer" {
		t.Errorf("the new bucket: %+v %v", attrs, err)
	}
	if err := made.Delete(ctx); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if rec.count("b2_create_bucket OK") != 1 || rec.count("b2_delete_bucket OK") != 1 {
		t.Errorf("creation and deletion: %v", rec.calls)
	}
	if _, err := client.NewBucket(ctx, "b2-not-a-name", nil); err == nil {
		t.Error("a name B2 refuses was created")
	}
	if buckets, err := client.ListBuckets(ctx); err != nil || len(buckets) != 1 {
		t.Errorf("after the bucket came and went: %v %v", buckets, err)
	}
}

// TestBlazerRecoversExpiredTokens: a token that expires upstream or at the
// gateway costs the client at most its own re-authorization, never a failed
// update.
func TestBlazerRecoversExpiredTokens(t *testing.T) {
	logFile := t.TempDir() + "/caddy.log"
	startCaddy(t, withLog(t, demoConfig(t), logFile), "caddyfile")
	ctx := context.Background()
	updates := func(t *testing.T, client *b2.Client, n int, pause time.Duration) {
		t.Helper()
		for i := range n {
			time.Sleep(pause)
			bucket, err := client.Bucket(ctx, "demo-bucket")
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
			if err := bucket.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"round": string(rune('a' + i))}}); err != nil {
				t.Fatalf("round %d: update failed: %v", i, err)
			}
		}
	}

	t.Run("upstream expires the client's token (passthrough)", func(t *testing.T) {
		rec := &wire{}
		client, err := b2.NewClient(ctx, "demo-key-id", "demo-app-key", b2.APIBase(ports(t, demoPassthrough)), b2.Transport(rec), b2.ExpireSomeAuthTokens())
		if err != nil {
			t.Fatal(err)
		}
		updates(t, client, 3, 0)
		if rec.count("b2_update_bucket OK") != 3 || rec.count("b2_authorize_account OK") < 2 {
			t.Errorf("want 3 applied updates after at least one re-authorization: %v", rec.calls)
		}
	})

	t.Run("upstream expires the gateway's own token (gateway mode)", func(t *testing.T) {
		rec := &wire{}
		// The test-mode header reaches the B2 emulator with the gateway's
		// calls, so it is the gateway's own upstream token that expires.
		client, err := b2.NewClient(ctx, "demo-gw-key-id", "demo-gw-app-key", b2.APIBase(ports(t, demoGateway)), b2.Transport(rec), b2.ExpireSomeAuthTokens())
		if err != nil {
			t.Fatal(err)
		}
		updates(t, client, 3, 0)
		if rec.count("b2_update_bucket OK") != 3 || rec.count("b2_authorize_account OK") != 1 || len(rec.calls) != rec.count("b2_update_bucket OK")+rec.count("b2_list_buckets OK")+1 {
			t.Errorf("the client saw the gateway's upstream token expire: %v", rec.calls)
		}
		renewals := 0
		for _, line := range logLines(t, logFile) {
			if strings.Contains(line, `"msg":"signed in upstream"`) && strings.Contains(line, "refused the gateway's token") {
				renewals++
			}
		}
		if renewals == 0 {
			t.Error("the gateway's upstream token never expired, so its renewal went untested")
		}
	})

	startCaddy(t, strings.ReplaceAll(demoConfig(t), "api b2\n", "api b2\n\t\ttoken_lifetime 1s\n"), "caddyfile")
	for _, mode := range []struct{ name, base, keyID, key string }{
		{"gateway token expires at the gateway", demoGateway, "demo-gw-key-id", "demo-gw-app-key"},
		{"gateway forgets a passthrough token", demoPassthrough, "demo-key-id", "demo-app-key"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			rec := &wire{}
			client, err := b2.NewClient(ctx, mode.keyID, mode.key, b2.APIBase(ports(t, mode.base)), b2.Transport(rec))
			if err != nil {
				t.Fatal(err)
			}
			updates(t, client, 2, 1100*time.Millisecond)
			if rec.count("b2_update_bucket OK") != 2 || rec.count("b2_authorize_account OK") < 2 {
				t.Errorf("want 2 applied updates and a re-authorization: %v", rec.calls)
			}
		})
	}
}

// TestConcurrentUpdatesThroughGateway: many clients update one bucket with
// the same ifRevisionIs at once; exactly one wins, every other gets 409, and
// the bucket ends as the winner left it.
func TestConcurrentUpdatesThroughGateway(t *testing.T) {
	tester := startCaddy(t, demoConfig(t), "caddyfile")
	token := signIn(t, tester, demoGateway, "demo-gw-key-id", "demo-gw-app-key")
	const n = 16
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := `{"bucketId":"` + demoBucketID + `","bucketInfo":{"writer":"w` + string(rune('a'+i)) + `"},"ifRevisionIs":1}`
			statuses[i], _, _ = do(t, tester, "POST", demoGateway+"/b2api/v2/b2_update_bucket", body, "Authorization", token)
		})
	}
	wg.Wait()
	winner := onlyWinner(t, statuses, http.StatusConflict)
	_, _, list := do(t, tester, "POST", demoGateway+"/b2api/v2/b2_list_buckets", `{"accountId":"demo-account","bucketId":"`+demoBucketID+`"}`, "Authorization", token)
	want := `"bucketInfo":{"writer":"w` + string(rune('a'+winner)) + `"}`
	if !strings.Contains(list, want) || !strings.Contains(list, `"revision":2`) {
		t.Errorf("final state %s, want the winner's %s at revision 2", list, want)
	}
}

// signIn signs in to a B2 front door and returns the token.
func signIn(t *testing.T, tester *caddytest.Tester, base, keyID, key string) string {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(keyID + ":" + key))
	status, _, body := do(t, tester, "GET", base+"/b2api/v3/b2_authorize_account", "", "Authorization", "Basic "+basic)
	var a struct{ AuthorizationToken string }
	if err := json.Unmarshal([]byte(body), &a); err != nil || status != 200 || a.AuthorizationToken == "" {
		t.Fatalf("sign in as %s at %s: %d %s", keyID, base, status, body)
	}
	return a.AuthorizationToken
}
