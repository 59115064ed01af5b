package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// decision collects what one update came to, for its single log line. It
// holds field names and the refusal's message, never values: refusal
// messages are written not to quote the body, and the body's secrets (keys,
// tokens) must never reach a log.
type decision struct {
	// server is the Caddy server the call came to, for the metrics.
	server   string
	api      string
	call     dialect.Op
	key      string // a key id, never a secret or token
	bucketID string
	fields   []string
	outcome  string
	status   int
	reason   string
	faults   []string
	kind     dialect.Kind // the refusal's, if refused
	cause    string       // why the upstream failed, if it did
	// policies are the operator's policies the write failed.
	policies []policyResult
}

// Outcomes: what a call came to, in its log line's message and the
// decisions_total metric's outcome label.
const (
	// outcomeRefused: the gateway refused the call; nothing went upstream.
	outcomeRefused = "refused"
	// outcomePreconditionFailed: an If-Match named another revision.
	outcomePreconditionFailed = "precondition_failed"
	// outcomeForwarded: the upstream answered the call, with upstream_status.
	outcomeForwarded = "forwarded"
	// outcomeUpstreamFailed: the upstream failed the call, or answered it
	// in a way the client could not act on.
	outcomeUpstreamFailed = "upstream_failed"
	// outcomeUnchanged: a translated update that would change nothing the
	// upstream keeps, answered without writing.
	outcomeUnchanged = "unchanged"
	// outcomeAnswered: a list the gateway answered itself.
	outcomeAnswered = "answered"
	// outcomeAccepted: a sign-in the gateway answered with its own token.
	outcomeAccepted = "accepted"
)

func (d *decision) refused(e *dialect.Error) {
	d.outcome, d.reason, d.faults, d.kind, d.cause = outcomeRefused, e.Message, e.Fields, e.Kind, e.Cause
	if e.Kind == dialect.PreconditionFailed {
		d.outcome = outcomePreconditionFailed
	}
}

func (d *decision) forwarded(status int) {
	d.outcome, d.status = outcomeForwarded, status
}

// upstreamFailed records what the client was told and the cause behind it,
// such as reverse_proxy's dial error, which only the log shows.
func (d *decision) upstreamFailed(e *dialect.Error) {
	d.outcome, d.reason, d.cause, d.kind = outcomeUpstreamFailed, e.Message, e.Cause, e.Kind
}

// Bounds on what a decision line repeats of a client's values: bucket ids,
// field names and key ids are short in both APIs, and a client that sends
// long or many ones must not be able to grow the log at will.
const (
	maxLoggedValue  = 64
	maxLoggedFields = 32
	// A refusal's message names the fields at fault, which may be many.
	maxLoggedReason = 1024
)

// capped shortens s to maxLoggedValue bytes, saying so.
func capped(s string) string {
	if len(s) <= maxLoggedValue {
		return s
	}
	return strings.ToValidUTF8(s[:maxLoggedValue], "") + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// cappedList is names, at most maxLoggedFields of them, each capped. Names
// within the bounds, as they normally are, are logged as they are, without
// a copy.
func cappedList(names []string) []string {
	names = names[:min(len(names), maxLoggedFields)]
	for i, n := range names {
		if len(n) > maxLoggedValue {
			out := make([]string, len(names))
			copy(out, names[:i])
			for j := i; j < len(names); j++ {
				out[j] = capped(names[j])
			}
			return out
		}
	}
	return names
}

// unverifiedKey names a key id the gateway has not verified by a short
// digest: enough to tell repeated attempts apart, and never a secret a client
// sent in the key id's place.
func unverifiedKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "unverified:" + hex.EncodeToString(sum[:6])
}

var callNames = map[dialect.Op]string{
	dialect.OpCreate:    "create",
	dialect.OpUpdate:    "update",
	dialect.OpDelete:    "delete",
	dialect.OpAuthorize: "sign-in",
	dialect.OpList:      "list",
	dialect.OpOther:     "other",
}

// record writes the decision once. Where the site writes an access log for
// the call, the decision rides on that line, under the key bucketgate (as
// caddyhttp.ExtraLogFields carries log_append's fields), and no line of its
// own is written; elsewhere it is a line of its own, at INFO, under the
// handler's logger (http.handlers.bucketgate), so users can raise or lower
// it per logger. Either way every decision is recorded, once.
func (d *decision) record(l *zap.Logger, took time.Duration, r *http.Request) {
	if extra, ok := r.Context().Value(caddyhttp.ExtraLogFieldsCtxKey).(*caddyhttp.ExtraLogFields); ok && accessLogged(r) {
		extra.Add(zap.Object("bucketgate", d))
		return
	}
	if ce := l.Check(zapcore.InfoLevel, callNames[d.call]+" "+d.outcome); ce != nil {
		ce.Write(zap.Inline(d), zap.Duration("duration", took))
	}
}

// accessLogged reports whether r's server will write r to an access log, as
// caddyhttp.Server decides it: logs configured, the host not skipped, and
// the request not marked log_skip.
func accessLogged(r *http.Request) bool {
	srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if !ok || srv.Logs == nil {
		return false
	}
	if skip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.LogSkipVar).(bool); skip {
		return false
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	for name := range srv.Logs.LoggerNames {
		if certmagic.MatchWildcard(host, name) {
			return true
		}
	}
	for _, skipped := range srv.Logs.SkipHosts {
		if certmagic.MatchWildcard(host, skipped) {
			return false
		}
	}
	return !srv.Logs.SkipUnmappedHosts
}

// MarshalLogObject writes the decision's fields: on the access log line
// (under bucketgate) or inline on its own line.
func (d *decision) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("call", callNames[d.call])
	enc.AddString("outcome", d.outcome)
	enc.AddString("api", d.api)
	if d.key != "" {
		enc.AddString("key_id", capped(d.key))
	}
	if d.call.Writes() {
		enc.AddString("bucket_id", capped(d.bucketID))
		_ = enc.AddArray("fields", nameList(cappedList(d.fields)))
		if len(d.fields) > maxLoggedFields {
			enc.AddInt64("fields_total", int64(len(d.fields)))
		}
	}
	if d.status != 0 {
		enc.AddInt64("upstream_status", int64(d.status))
	}
	if d.reason != "" {
		reason := d.reason
		if len(reason) > maxLoggedReason {
			reason = strings.ToValidUTF8(reason[:maxLoggedReason], "") + "…"
		}
		enc.AddString("reason", reason)
	}
	if d.cause != "" {
		enc.AddString("cause", d.cause)
	}
	if d.kind != 0 {
		enc.AddString("refusal", d.kind.String())
	}
	if len(d.faults) > 0 {
		_ = enc.AddArray("invalid_fields", nameList(cappedList(d.faults)))
	}
	if len(d.policies) > 0 {
		_ = enc.AddArray("policies", failedPolicies(d.policies))
	}
	return nil
}

// failedPolicies logs the policies a write failed: name, action, result
// (fail, or error), and why one could not be evaluated.
type failedPolicies []policyResult

func (ps failedPolicies) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, p := range ps {
		_ = enc.AppendObject(zapcore.ObjectMarshalerFunc(func(o zapcore.ObjectEncoder) error {
			o.AddString("name", p.name)
			o.AddString("action", p.action)
			o.AddString("result", p.result)
			if p.err != "" {
				o.AddString("error", p.err)
			}
			return nil
		}))
	}
	return nil
}

// nameList logs a list of names as an array.
type nameList []string

func (n nameList) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, s := range n {
		enc.AppendString(s)
	}
	return nil
}

// observe counts the decision in the metrics.
func (d *decision) observe(took time.Duration) {
	call := callNames[d.call]
	refusal := ""
	if d.kind != 0 {
		refusal = d.kind.String()
	}
	decisionsTotal.WithLabelValues(d.server, d.api, call, d.outcome, refusal).Inc()
	decisionSeconds.WithLabelValues(d.server, d.api, call).Observe(took.Seconds())
}
