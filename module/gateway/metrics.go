package gateway

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// The gateway's metrics. They are created once and registered with every
// configuration's registry, since Caddy makes a new registry on each load.
// Labels are few and bounded by the configuration, as Caddy's own HTTP
// metrics are: the server (as Caddy names it: srv0, or the name given in
// the servers global option), never a key, a bucket, or any value a client
// sent.
var (
	decisionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "bucketgate",
		Name:      "decisions_total",
		Help:      "Calls the gateway decided on, by server, API, call, outcome and refusal kind.",
	}, []string{"server", "api", "call", "outcome", "refusal"})
	lockWaits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "bucketgate",
		Name:      "bucket_lock_waits_total",
		Help:      "Waits for a bucket's lock in Caddy's storage, shared by every instance, by server and outcome: acquired, timed_out (the update gave up: 504), failed (a storage error), broken (the lock of a holder past its deadline, a crashed instance, was broken).",
	}, []string{"server", "outcome"})
	policyResults = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "bucketgate",
		Name:      "policy_results_total",
		Help:      "Operators' policies' results on the writes they judged, by server, policy, action (deny, warn, audit) and result (pass, fail, error: could not be evaluated, so failing).",
	}, []string{"server", "policy", "action", "result"})
	decisionSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "caddy",
		Subsystem: "bucketgate",
		Name:      "decision_duration_seconds",
		Help:      "Time from a call's arrival to the gateway's answer, upstream included, by server, API and call.",
		Buckets:   prometheus.DefBuckets,
	}, []string{"server", "api", "call"})
)

// upstreamSessions is read from the loaded handlers when metrics are
// scraped, so it is never stale and needs no bookkeeping on each request.
var upstreamSessions upstreamSessionCollector

var upstreamSessionsDesc = prometheus.NewDesc("caddy_bucketgate_upstream_sessions",
	"Gateway-mode handlers by the state of their own sign-in at the B2 upstream: signed_in (holding an unexpired token the upstream has not refused), failing (the last sign-in failed and no usable token is held), or not_yet (no call has needed one yet).",
	[]string{"server", "upstream_api", "state"}, nil)

type upstreamSessionCollector struct{}

func (upstreamSessionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- upstreamSessionsDesc }

func (upstreamSessionCollector) Collect(ch chan<- prometheus.Metric) {
	where := servers()
	counts := map[[3]string]int{}
	loaded.each(func(h *Handler) {
		if h.session == nil || h.Mode != modeGateway {
			return
		}
		counts[[3]string{where[h].name, h.UpstreamAPI, h.session.status().State}]++
	})
	for labels, n := range counts {
		ch <- prometheus.MustNewConstMetric(upstreamSessionsDesc, prometheus.GaugeValue, float64(n), labels[0], labels[1], labels[2])
	}
}

func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{decisionsTotal, decisionSeconds, lockWaits, policyResults, upstreamSessions} {
		if err := reg.Register(c); err != nil {
			if _, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); !ok {
				return err
			}
		}
	}
	return nil
}
