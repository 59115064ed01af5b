package gateway

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	ctx, cancel := testContext(t)
	defer cancel()
	h := &Handler{API: "b2"}
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	// A second configuration in the same process (a reload) registers again.
	if err := (&Handler{API: "b2"}).Provision(ctx); err != nil {
		t.Fatalf("second provision: %v", err)
	}
	forwarded := decisionsTotal.WithLabelValues("", "b2", "update", "forwarded", "")
	refused := decisionsTotal.WithLabelValues("", "b2", "update", "refused", "bad_request")
	before, beforeRefused := testutil.ToFloat64(forwarded), testutil.ToFloat64(refused)

	const secret = "4_SECRET_TOKEN"
	for _, body := range []string{`{"bucketId":"bucket-one"}`, `{"bucketId":"bucket-one","bucketType":"snapshot"}`, `{"bucketId":"bucket-one","bucketType":"x"}`} {
		serve(t, h, &upstream{answer: bucketAnswer}, post(body, "Authorization", secret))
	}
	if got := testutil.ToFloat64(forwarded) - before; got != 1 {
		t.Errorf("forwarded counted %v times, want 1", got)
	}
	if got := testutil.ToFloat64(refused) - beforeRefused; got != 2 {
		t.Errorf("refused counted %v times, want 2", got)
	}

	families, err := ctx.GetMetricsRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "caddy_bucketgate_") {
			continue
		}
		found = true
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "bucket-one") || strings.Contains(l.GetValue(), "SECRET") {
					t.Errorf("%s label %s=%q holds a request value", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	if !found {
		t.Error("the gateway's metrics are not in the configuration's registry")
	}
}
