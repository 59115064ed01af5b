package gateway

import (
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/bucketgate/bucketgate/module/dialect"
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
}

func (d *decision) refused(e *dialect.Error) {
	d.outcome, d.reason, d.faults, d.kind = "refused", e.Message, e.Fields, e.Kind
	if e.Kind == dialect.PreconditionFailed {
		d.outcome = "precondition_failed"
	}
}

func (d *decision) forwarded(status int) {
	d.outcome, d.status = "forwarded", status
}

func (d *decision) upstreamFailed() {
	d.outcome = "upstream_failed"
}

var callNames = map[dialect.Op]string{
	dialect.OpUpdate:    "update",
	dialect.OpAuthorize: "sign-in",
	dialect.OpList:      "list",
}

// log writes the decision at INFO, under the handler's logger
// (http.handlers.bucketgate), so users can raise or lower it per logger.
func (d *decision) log(l *zap.Logger, took time.Duration) {
	msg := callNames[d.call] + " " + d.outcome
	ce := l.Check(zapcore.InfoLevel, msg)
	if ce == nil {
		return
	}
	fields := []zap.Field{zap.String("api", d.api), zap.Duration("duration", took)}
	if d.key != "" {
		fields = append(fields, zap.String("key_id", d.key))
	}
	if d.call == dialect.OpUpdate {
		fields = append(fields, zap.String("bucket_id", d.bucketID), zap.Strings("fields", d.fields))
	}
	if d.status != 0 {
		fields = append(fields, zap.Int("upstream_status", d.status))
	}
	if d.reason != "" {
		fields = append(fields, zap.String("reason", d.reason))
	}
	if d.kind != 0 {
		fields = append(fields, zap.Stringer("refusal", d.kind))
	}
	if len(d.faults) > 0 {
		fields = append(fields, zap.Strings("invalid_fields", d.faults))
	}
	ce.Write(fields...)
}
