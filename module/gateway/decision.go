package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/bucketgate/bucketgate/internal/dialect"
)

// decision collects what one update came to, for its single log line. It
// holds field names and the refusal's message, never values: refusal
// messages are written not to quote the body, and the body's secrets (keys,
// tokens) must never reach a log.
type decision struct {
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
	// outcomeRouted: a call the gateway checked and passed on untouched.
	outcomeRouted = "routed"
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

// requestID is Caddy's id for r, {http.request.uuid}, when r's server
// writes access logs. Asking for it adds it to the access log line too (as
// uuid), so the two lines can be matched. Without access logs there is no
// line to match, and the id would cost a random UUID per update for nothing.
func requestID(r *http.Request) string {
	if srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); !ok || srv.Logs == nil {
		return "" // no access log, or not served by Caddy's HTTP server
	}
	repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if !ok {
		return ""
	}
	id, _ := repl.GetString("http.request.uuid")
	return id
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
	dialect.OpUpdate:    "update",
	dialect.OpAuthorize: "sign-in",
	dialect.OpList:      "list",
	dialect.OpCreate:    "create",
	dialect.OpOther:     "other",
}

// log writes the decision at INFO, under the handler's logger
// (http.handlers.bucketgate), so users can raise or lower it per logger.
func (d *decision) log(l *zap.Logger, took time.Duration, r *http.Request) {
	msg := callNames[d.call] + " " + d.outcome
	ce := l.Check(zapcore.InfoLevel, msg)
	if ce == nil {
		return
	}
	// The fields' slice is reused: cores encode a line before Write
	// returns, and zap's own cores copy what they keep.
	buf := fieldsPool.Get().(*[]zap.Field)
	defer func() {
		clear(*buf)
		fieldsPool.Put(buf)
	}()
	fields := (*buf)[:0]
	fields = append(fields, zap.String("api", d.api), zap.Duration("duration", took))
	// Asked for only now that the line is written: Caddy makes the id on
	// first use, and the access log, written after this, still gets it.
	if id := requestID(r); id != "" {
		fields = append(fields, zap.String("request_id", id))
	}
	if d.key != "" {
		fields = append(fields, zap.String("key_id", capped(d.key)))
	}
	if d.call == dialect.OpUpdate {
		fields = append(fields, zap.String("bucket_id", capped(d.bucketID)), zap.Strings("fields", cappedList(d.fields)))
		if len(d.fields) > maxLoggedFields {
			fields = append(fields, zap.Int("fields_total", len(d.fields)))
		}
	}
	if d.status != 0 {
		fields = append(fields, zap.Int("upstream_status", d.status))
	}
	if d.reason != "" {
		reason := d.reason
		if len(reason) > maxLoggedReason {
			reason = strings.ToValidUTF8(reason[:maxLoggedReason], "") + "…"
		}
		fields = append(fields, zap.String("reason", reason))
	}
	if d.cause != "" {
		fields = append(fields, zap.String("cause", d.cause))
	}
	if d.kind != 0 {
		fields = append(fields, zap.Stringer("refusal", d.kind))
	}
	if len(d.faults) > 0 {
		fields = append(fields, zap.Strings("invalid_fields", cappedList(d.faults)))
	}
	ce.Write(fields...)
	*buf = fields
}

// fieldsPool holds slices with room for every field of a decision line.
var fieldsPool = sync.Pool{New: func() any {
	fields := make([]zap.Field, 0, 12)
	return &fields
}}

// observe counts the decision in the metrics.
func (d *decision) observe(took time.Duration) {
	call := callNames[d.call]
	refusal := ""
	if d.kind != 0 {
		refusal = d.kind.String()
	}
	decisionsTotal.WithLabelValues(d.api, call, d.outcome, refusal).Inc()
	decisionSeconds.WithLabelValues(d.api, call).Observe(took.Seconds())
}
