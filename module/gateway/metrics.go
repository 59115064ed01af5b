package gateway

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The gateway's metrics. They are created once and registered with every
// configuration's registry, since Caddy makes a new registry on each load.
// Labels are few and bounded: never a key, a bucket, or any value a client
// sent.
var (
	decisionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "bucketgate",
		Name:      "decisions_total",
		Help:      "Calls the gateway decided on, by API, call, outcome and refusal kind.",
	}, []string{"api", "call", "outcome", "refusal"})
	decisionSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "caddy",
		Subsystem: "bucketgate",
		Name:      "decision_duration_seconds",
		Help:      "Time from a call's arrival to the gateway's answer, upstream included, by API and call.",
		Buckets:   prometheus.DefBuckets,
	}, []string{"api", "call"})
)

func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{decisionsTotal, decisionSeconds} {
		if err := reg.Register(c); err != nil {
			if _, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); !ok {
				return err
			}
		}
	}
	return nil
}

// observe counts the decision.
func (d *decision) observe(took time.Duration) {
	call := callNames[d.call]
	refusal := ""
	if d.kind != 0 {
		refusal = d.kind.String()
	}
	decisionsTotal.WithLabelValues(d.api, call, d.outcome, refusal).Inc()
	decisionSeconds.WithLabelValues(d.api, call).Observe(took.Seconds())
}
