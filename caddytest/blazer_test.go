package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"path"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/Backblaze/blazer/b2"
)

const (
	demoGateway  = "http://127.0.0.1:8080"
	demoB2       = "http://127.0.0.1:9100"
	demoBucketID = "4a48fe8875c6214145260818"
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
// through the demo's gateway on :8080 and the B2 emulator behind it.
func TestBlazerThroughGateway(t *testing.T) {
	startCaddy(t, demoConfig(t), "caddyfile")
	ctx := context.Background()
	rec := &wire{}
	client, err := b2.NewClient(ctx, "demo-key-id", "demo-app-key", b2.APIBase(demoGateway), b2.Transport(rec))
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

	t.Run("update type, info and lifecycle", func(t *testing.T) {
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
		if n := rec.count("b2_update_bucket OK"); n != 1 {
			t.Errorf("%d successful update calls, want 1 (%v)", n, rec.calls)
		}
	})

	t.Run("invalid update refused by the gateway", func(t *testing.T) {
		overlapping := []b2.LifecycleRule{{Prefix: "photos/", DaysHiddenUntilDeleted: 1}, {Prefix: "photos/kittens/", DaysHiddenUntilDeleted: 2}}
		err := bucket.Update(ctx, &b2.BucketAttrs{LifecycleRules: overlapping})
		if err == nil || !strings.Contains(err.Error(), "overlaps the prefix of lifecycleRules[0]") {
			t.Fatalf("got %v, want the gateway's overlap refusal", err)
		}
		attrs, err := bucket.Attrs(ctx)
		if err != nil || len(attrs.LifecycleRules) != 2 || attrs.LifecycleRules[0].Prefix != "logs/" {
			t.Errorf("refused update changed the bucket: %+v %v", attrs, err)
		}
	})

	t.Run("stale update is an update conflict", func(t *testing.T) {
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
	})

	t.Run("expired tokens recovered by the client's own re-authorization", func(t *testing.T) {
		rec := &wire{}
		client, err := b2.NewClient(ctx, "demo-key-id", "demo-app-key", b2.APIBase(demoGateway), b2.Transport(rec), b2.ExpireSomeAuthTokens())
		if err != nil {
			t.Fatal(err)
		}
		for i, owner := range []string{"a", "b", "c"} {
			bucket, err := client.Bucket(ctx, "demo-bucket")
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
			if err := bucket.Update(ctx, &b2.BucketAttrs{Info: map[string]string{"owner": owner}}); err != nil {
				t.Fatalf("round %d: update failed: %v", i, err)
			}
		}
		if rec.count("b2_update_bucket OK") != 3 {
			t.Errorf("want 3 applied updates: %v", rec.calls)
		}
		if rec.count("b2_list_buckets Unauthorized")+rec.count("b2_update_bucket Unauthorized") == 0 || rec.count("b2_authorize_account OK") < 2 {
			t.Errorf("no token expired and was renewed: %v", rec.calls)
		}
	})
}

// TestConcurrentUpdatesThroughGateway: many clients update one bucket with
// the same ifRevisionIs at once; exactly one wins, every other gets 409, and
// the bucket ends as the winner left it.
func TestConcurrentUpdatesThroughGateway(t *testing.T) {
	tester := startCaddy(t, demoConfig(t), "caddyfile")
	_, _, auth := do(t, tester, "GET", demoGateway+"/b2api/v3/b2_authorize_account", "", "Authorization", "Basic ZGVtby1rZXktaWQ6ZGVtby1hcHAta2V5")
	var a struct{ AuthorizationToken string }
	if err := json.Unmarshal([]byte(auth), &a); err != nil || a.AuthorizationToken == "" {
		t.Fatalf("authorize: %s %v", auth, err)
	}
	const n = 16
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := `{"bucketId":"` + demoBucketID + `","bucketInfo":{"writer":"w` + string(rune('a'+i)) + `"},"ifRevisionIs":1}`
			statuses[i], _, _ = do(t, tester, "POST", demoGateway+"/b2api/v2/b2_update_bucket", body, "Authorization", a.AuthorizationToken)
		})
	}
	wg.Wait()
	winner := -1
	for i, s := range statuses {
		switch {
		case s == 200 && winner < 0:
			winner = i
		case s == 200:
			t.Errorf("clients %d and %d both won", winner, i)
		case s != 409:
			t.Errorf("client %d: status %d", i, s)
		}
	}
	if winner < 0 {
		t.Fatal("no update won")
	}
	_, _, list := do(t, tester, "POST", demoB2+"/b2api/v2/b2_list_buckets", `{"accountId":"demo-account","bucketId":"`+demoBucketID+`"}`, "Authorization", a.AuthorizationToken)
	want := `"bucketInfo":{"writer":"w` + string(rune('a'+winner)) + `"}`
	if !strings.Contains(list, want) || !strings.Contains(list, `"revision":2`) {
		t.Errorf("final state %s, want the winner's %s at revision 2", list, want)
	}
}
