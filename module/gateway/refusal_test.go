package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bucketgate/bucketgate/internal/auth"
)

// TestEveryRefusalIsDecided: refusals outside the update pipeline, of a
// gateway key on a call the gateway does not answer and of a routed call's
// unknown token, are logged and counted like every other.
func TestEveryRefusalIsDecided(t *testing.T) {
	t.Run("gateway key on another call", func(t *testing.T) {
		h, logs := newHandler(t, &Handler{API: "flashback", Mode: "gateway",
			Keys:     []auth.Key{{ID: "k1", Secret: "k1-secret-value", Workspaces: map[string]string{"demo-workspace": "WRITE"}}},
			Upstream: &UpstreamCredentials{Token: "demo-token"}})
		counted := decisionsTotal.WithLabelValues("", "flashback", "other", outcomeRefused, "forbidden")
		before := testutil.ToFloat64(counted)
		r := httptest.NewRequest(http.MethodGet, "/repo", nil)
		r.Header.Set("Authorization", "Bearer k1-secret-value")
		w := serveFB(t, h, newFakeFlashback(), r)
		if w.Code != http.StatusForbidden {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if n := len(logs.FilterMessage("other refused").All()); n != 1 {
			t.Errorf("%d refusals logged, want 1", n)
		}
		if got := testutil.ToFloat64(counted) - before; got != 1 {
			t.Errorf("refusal counted %v times, want 1", got)
		}
	})
	t.Run("routed call with an unknown token", func(t *testing.T) {
		h, logs := newHandler(t, &Handler{API: "b2", LocalState: true,
			Upstream: &UpstreamCredentials{Realm: "https://api.backblazeb2.com"}})
		counted := decisionsTotal.WithLabelValues("", "b2", "other", outcomeRefused, "unauthenticated")
		before := testutil.ToFloat64(counted)
		r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_list_file_names", strings.NewReader(`{"bucketId":"b1"}`))
		r.Header.Set("Authorization", "4_never_signed_in")
		up := &upstream{answer: `{}`}
		w := serve(t, h, up, r)
		if w.Code != http.StatusUnauthorized || up.calls != 0 {
			t.Fatalf("%d %s; upstream saw %d calls", w.Code, w.Body, up.calls)
		}
		if n := len(logs.FilterMessage("other refused").All()); n != 1 {
			t.Errorf("%d refusals logged, want 1", n)
		}
		if got := testutil.ToFloat64(counted) - before; got != 1 {
			t.Errorf("refusal counted %v times, want 1", got)
		}
	})
}
