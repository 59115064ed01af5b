package gateway

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/checker"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/schema"
)

// Policy is a rule of the operator's own over the writes a handler judges,
// beyond the service's contract: a CEL expression over the write, the
// caller and the bucket that is true when the write passes it. Policies run
// after the contract's validation and the caller's authorisation, before
// the precondition and the send, in the order they are written.
type Policy struct {
	// Name names the policy in messages, logs, metrics and the status and
	// audit answers. Unique within a handler.
	Name string `json:"name"`

	// On are the writes the policy judges: "create", "update", "delete".
	// Default: create and update.
	On []string `json:"on,omitempty"`

	// Expression is the rule, in CEL (https://cel.dev), true when the write
	// passes. Its variables, the same for both APIs, are call (op: create,
	// update or delete; api: the client's, b2 or flashback), request (the
	// write's document as the client sent it, in its API's field names,
	// with the fields sent as null left out, so that has(request.x) means
	// that the write sets x; for a deletion, the fields that name the
	// bucket), bucket (the bucket's current state as the client's API
	// describes it, null on creation; read from the upstream only for
	// writes a policy that refers to it judges) and principal (id, name,
	// mode, capabilities, buckets, workspaces). See docs/policies.md.
	Expression string `json:"expression"`

	// Message says why, when a write fails the policy; the client reads
	// "policy <name>: <message>".
	Message string `json:"message,omitempty"`

	// Action is what a failing write gets: "deny" (refused with 403,
	// nothing sent upstream), "warn" (sent, and the answer carries a
	// Warning header) or "audit" (sent; only the log and the metrics tell).
	// Default: deny.
	Action string `json:"action,omitempty"`
}

// Policy actions.
const (
	actionDeny  = "deny"
	actionWarn  = "warn"
	actionAudit = "audit"
)

// Policy results, in the policy_results metric and the decision line.
const (
	resultPass  = "pass"
	resultFail  = "fail"
	resultError = "error"
)

// policyOps are the writes a policy can judge, by their names in On.
var policyOps = map[string]dialect.Op{"create": dialect.OpCreate, "update": dialect.OpUpdate, "delete": dialect.OpDelete}

// Every evaluation of a policy is bounded in CEL's cost units (about one
// per value visited), one of two ways. When the policy compiles, CEL's
// estimator finds the largest write over which the expression provably
// costs at most maxPolicyCost (unmeteredUpTo): it bounds each list, map and
// string of request by the write's size in bytes, and by the contract
// where that says less (a B2 bucket has at most 100 CORS rules), and
// anything else the policy reads by the largest document the gateway reads
// (the bucket an upstream answers with). A write within that size runs the
// policy unmetered, as most writes do under most rules: metering costs a
// little per step. A larger one is metered as it runs and stopped at
// maxPolicyCost, ample for the most CORS and lifecycle rules B2 allows and
// a bound on an expression that would go over them again and again. The
// audit, whose request is a bucket's state rather than a validated write,
// always meters.
const maxPolicyCost = 1_000_000

// policyEnv is the one CEL environment every policy compiles in: the four
// variables, CEL's standard library, its string extensions, optional
// values (request.?x.orValue(y), for fields a write may leave out), and
// numbers of different types compared by value (JSON has one number type).
var policyEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("call", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("bucket", cel.DynType),
		cel.Variable("principal", cel.MapType(cel.StringType, cel.DynType)),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(),
	)
})

// compiledPolicy is a policy ready to run.
type compiledPolicy struct {
	Policy
	ops     []dialect.Op
	program cel.Program
	// metered is program with CEL's cost limit on, for writes larger than
	// unmeteredUpTo bytes and for the audit. program is metered too when
	// no write is small enough to run without it (unmeteredUpTo is -1).
	metered       cel.Program
	unmeteredUpTo int
	// readsBucket is whether the expression refers to bucket, known when it
	// is compiled: only writes such a policy judges read the bucket.
	readsBucket bool
	// counters are its policy_results counters, by server.
	counters sync.Map
}

// compile checks p, one of a handler's policies, and compiles it: the one
// place a policy's rules are written, for the Caddyfile adapter (at the
// policy's file and line) and for Provision. With no bound (checking the
// settings alone) it stops once the expression type-checks; Provision,
// which knows the contracts, makes the programs.
func (p Policy) compile(b *sizeBound) (*compiledPolicy, error) {
	// Each refusal names the policy's subdirective at fault, for its line.
	bad := func(sub, format string, args ...any) error {
		return badSetting("policy "+p.Name+" "+sub, "policy %s: "+format, append([]any{p.Name}, args...)...)
	}
	if p.Name == "" || strings.ContainsAny(p.Name, " \t\r\n\"") {
		return nil, badSetting("policy", "a policy needs a name of its own, without spaces or quotes")
	}
	c := &compiledPolicy{Policy: p}
	on := p.On
	if len(on) == 0 {
		on = []string{"create", "update"}
	}
	for _, name := range on {
		op, ok := policyOps[name]
		if !ok {
			return nil, bad("on", "on '%s' is not a write: write create, update or delete%s", name, suggest(name, slices.Sorted(maps.Keys(policyOps))))
		}
		if !slices.Contains(c.ops, op) {
			c.ops = append(c.ops, op)
		}
	}
	switch p.Action {
	case "", actionDeny, actionWarn, actionAudit:
	default:
		return nil, bad("action", "action '%s' is not known: write deny, warn or audit%s", p.Action, suggest(p.Action, []string{actionDeny, actionWarn, actionAudit}))
	}
	if strings.ContainsAny(p.Message, "\r\n") {
		return nil, bad("message", "message must be one line: it is sent in a Warning header")
	}
	if strings.TrimSpace(p.Expression) == "" {
		return nil, bad("expression", "expression is missing")
	}
	env, err := policyEnv()
	if err != nil {
		return nil, err
	}
	checked, issues := env.Compile(p.Expression)
	if issues.Err() != nil {
		// One line per problem, at its column in the expression.
		var problems []string
		for _, e := range issues.Errors() {
			problems = append(problems, fmt.Sprintf("column %d: %s", e.Location.Column()+1, e.Message))
		}
		return nil, bad("expression", "expression does not compile: %s", strings.Join(problems, "; "))
	}
	if checked.OutputType() != cel.BoolType {
		return nil, bad("expression", "expression gives %s, not a bool: it must say whether the write passes", checked.OutputType())
	}
	for _, ref := range checked.NativeRep().ReferenceMap() {
		if ref.Name == "bucket" {
			c.readsBucket = true
		}
	}
	if b == nil {
		return c, nil
	}
	optimized := cel.EvalOptions(cel.OptOptimize)
	c.metered, err = env.Program(checked, optimized, cel.CostLimit(maxPolicyCost))
	if err != nil {
		return nil, bad("expression", "expression cannot run: %v", err)
	}
	c.program, c.unmeteredUpTo = c.metered, b.unmeteredUpTo(env, checked, c.ops)
	if c.unmeteredUpTo >= 0 {
		if c.program, err = env.Program(checked, optimized); err != nil {
			return nil, bad("expression", "expression cannot run: %v", err)
		}
	}
	return c, nil
}

// programFor is p's program for a write of size bytes.
func (p *compiledPolicy) programFor(size int) cel.Program {
	if size <= p.unmeteredUpTo {
		return p.program
	}
	return p.metered
}

// sizeBound is what a policy's cost is estimated over.
type sizeBound struct {
	// largest is the size of the largest document the gateway reads, a
	// write or an answer: no list, map or string in it holds more values.
	largest uint64
	// contract is the client's schema for each write.
	contract func(dialect.Op) *schema.Schema
}

// unmeteredUpTo is the size, in bytes, of the largest write of ops over
// which the expression costs at most maxPolicyCost; -1 when not even an
// empty one does (an expression looping over the bucket). A larger write
// costs at least as much, so the size is found by halving.
func (b sizeBound) unmeteredUpTo(env *cel.Env, checked *cel.Ast, ops []dialect.Op) int {
	contracts := make([]*schema.Schema, 0, len(ops))
	for _, op := range ops {
		contracts = append(contracts, b.contract(op))
	}
	within := func(size uint64) bool {
		est, err := env.EstimateCost(checked, writeSize{b, size, contracts})
		return err == nil && est.Max <= maxPolicyCost
	}
	if !within(0) {
		return -1
	}
	lo, hi := uint64(0), b.largest
	if within(hi) {
		return int(hi)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if within(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return int(lo)
}

// writeSize estimates a policy's cost over a write of size bytes whose
// contracts are those of the writes the policy judges.
type writeSize struct {
	sizeBound
	size      uint64
	contracts []*schema.Schema
}

func (w writeSize) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	path := n.Path()
	if len(path) == 0 || path[0] != "request" {
		return &checker.SizeEstimate{Min: 0, Max: w.largest}
	}
	most := w.size
	if len(path) > 1 && len(w.contracts) > 0 {
		var bound uint64
		for _, s := range w.contracts {
			b, ok := uint64(0), false
			if s != nil {
				b, ok = s.Bound(path[1:])
			}
			if !ok {
				return &checker.SizeEstimate{Min: 0, Max: most}
			}
			bound = max(bound, b)
		}
		most = min(most, bound)
	}
	return &checker.SizeEstimate{Min: 0, Max: most}
}

func (writeSize) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// action is p's action, its default filled in.
func (p *compiledPolicy) action() string {
	if p.Action == "" {
		return actionDeny
	}
	return p.Action
}

// compilePolicies compiles a handler's policies, checking that their names
// are unique; with no bound, it only checks them (see compile).
func compilePolicies(ps []Policy, b *sizeBound) ([]*compiledPolicy, error) {
	out := make([]*compiledPolicy, 0, len(ps))
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		if seen[p.Name] {
			return nil, badSetting("policy "+p.Name, "policy %s is written twice: each policy needs a name of its own", p.Name)
		}
		seen[p.Name] = true
		c, err := p.compile(b)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// policyBound is what bounds the documents h's policies read: the
// handler's limits and the client's contracts, known once its sides are.
func (h *Handler) policyBound() *sizeBound {
	body, answer := h.MaxBodySize, h.MaxResponseSize
	if body == 0 {
		body = DefaultMaxBodySize
	}
	if answer == 0 {
		answer = DefaultMaxResponseSize
	}
	return &sizeBound{largest: uint64(max(body, answer)), contract: h.clientSide.Contract}
}

// policiesOn are the handler's policies that judge op.
func (h *Handler) policiesOn(op dialect.Op) []*compiledPolicy {
	return h.byOp[op]
}

// readsBucket reports whether a policy that judges op refers to bucket, so
// that its writes read the bucket before they are judged.
func (h *Handler) readsBucket(op dialect.Op) bool {
	for _, p := range h.byOp[op] {
		if p.readsBucket {
			return true
		}
	}
	return false
}

// policyResult is one policy's result on one write, for the decision line.
type policyResult struct {
	name, action, result string
	// err is why the policy could not be evaluated.
	err string
}

// judge runs the policies that judge the write, once, against bucket (its
// current state in the client's terms, nil on creation or when no policy
// reads it). A failing deny policy refuses the write; a failing warn policy
// adds a Warning header to the answer; audit ones are only recorded. Every
// failing policy, whatever its action, is in the decision line, and every
// result is counted.
func (h *Handler) judge(x *exchange, bucket map[string]any) *dialect.Error {
	x.judged = true
	ps := h.policiesOn(x.doc.Call.Op)
	if len(ps) == 0 {
		return nil
	}
	vars, size := h.policyVars(x, bucket)
	var denials []string
	for _, p := range ps {
		result, reason := evaluate(p.programFor(size), vars)
		p.count(x.d.server, result)
		if result == resultPass {
			continue
		}
		x.d.policies = append(x.d.policies, policyResult{p.Name, p.action(), result, reason})
		msg := "policy " + p.Name + ": " + p.Message
		if result == resultError {
			msg = "policy " + p.Name + " could not be evaluated, so the write fails it"
		}
		switch p.action() {
		case actionDeny:
			denials = append(denials, msg)
		case actionWarn:
			x.w.Header().Add("Warning", warning(msg))
		}
	}
	if len(denials) > 0 {
		return dialect.NewError(dialect.PolicyDenied, strings.Join(denials, "; "))
	}
	return nil
}

// evaluate runs a policy's program, failing closed: an expression that errors, exceeds its
// cost, or gives anything but true or false counts as failing. CEL turns a
// panic in an evaluation into an error; nothing a policy does can crash the
// gateway.
func evaluate(program cel.Program, vars interpreter.Activation) (result, reason string) {
	out, _, err := program.Eval(vars)
	switch {
	case err != nil:
		return resultError, capped(err.Error())
	case out.Value() == true:
		return resultPass, ""
	case out.Value() == false:
		return resultFail, ""
	}
	return resultError, "the expression gave " + string(out.Type().TypeName())
}

// count counts one result of p at server, in the policy_results metric:
// each policy's counters are looked up once per server.
func (p *compiledPolicy) count(server, result string) {
	cs, ok := p.counters.Load(server)
	if !ok {
		var made [3]prometheus.Counter
		for i, r := range []string{resultPass, resultFail, resultError} {
			made[i] = policyResults.WithLabelValues(server, p.Name, p.action(), r)
		}
		cs, _ = p.counters.LoadOrStore(server, &made)
	}
	counters := cs.(*[3]prometheus.Counter)
	switch result {
	case resultPass:
		counters[0].Inc()
	case resultFail:
		counters[1].Inc()
	default:
		counters[2].Inc()
	}
}

// policyVars are the variables the policies of one write read, and the
// size of its request.
func (h *Handler) policyVars(x *exchange, bucket map[string]any) (interpreter.Activation, int) {
	var request any = celJSON(x.doc.Tree())
	size := x.doc.Size()
	if x.doc.Call.Op == dialect.OpDelete && x.doc.Tree().Len() == 0 {
		// A deletion without a body (Flashback) names its bucket in the path.
		request = map[string]any{"bucketId": x.doc.Call.BucketID}
		size = len(`{"bucketId":""}`) + len(x.doc.Call.BucketID)
	}
	return h.policyVariables(x.doc.Call.Op, request, bucket, h.principal(x.who)), size
}

// policyVariables are the variables of one write's evaluations, made once
// for all its policies.
func (h *Handler) policyVariables(op dialect.Op, request any, bucket map[string]any, principal ref.Val) interpreter.Activation {
	a := &policyActivation{call: h.vars.calls[op], request: request, bucket: types.NullValue, principal: principal}
	if bucket != nil {
		a.bucket = bucket
	}
	return a
}

// policyActivation is one write's variables.
type policyActivation struct {
	call            ref.Val
	request, bucket any
	principal       ref.Val
}

func (a *policyActivation) ResolveName(name string) (any, bool) {
	switch name {
	case "call":
		return a.call, true
	case "request":
		return a.request, true
	case "bucket":
		return a.bucket, true
	case "principal":
		return a.principal, true
	}
	return nil, false
}

func (*policyActivation) Parent() interpreter.Activation { return nil }

// policyConstants are what policies read that does not change from one
// write to the next, made into CEL values once: the call variable of each
// write, and the principal of a caller no credential names and of each
// gateway key.
type policyConstants struct {
	calls     map[dialect.Op]ref.Val
	anonymous ref.Val
	// keys are the principals of gateway keys, by key id, made on a key's
	// first write: a handler's keys stay what they are until a reload
	// provisions a new handler.
	keys *sync.Map
}

func (h *Handler) newPolicyConstants() policyConstants {
	c := policyConstants{calls: make(map[dialect.Op]ref.Val), anonymous: celValue(emptyPrincipal(h.Mode)), keys: new(sync.Map)}
	for op := range policyOps {
		c.calls[policyOps[op]] = celValue(map[string]string{"op": op, "api": h.clientSide.Name()})
	}
	return c
}

// celValue is v, of the types the principal and call variables hold, as a
// CEL value made whole once, so that reading it converts nothing again.
func celValue(v any) ref.Val {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[ref.Val]ref.Val, len(v))
		for k, e := range v {
			m[types.String(k)] = celValue(e)
		}
		return types.NewRefValMap(types.DefaultTypeAdapter, m)
	case map[string]string:
		m := make(map[ref.Val]ref.Val, len(v))
		for k, e := range v {
			m[types.String(k)] = types.String(e)
		}
		return types.NewRefValMap(types.DefaultTypeAdapter, m)
	case []string:
		l := make([]ref.Val, len(v))
		for i, e := range v {
			l[i] = types.String(e)
		}
		return types.NewRefValList(types.DefaultTypeAdapter, l)
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

// principal is the caller as policies see it. What a mode cannot know is
// an empty value: a plain passthrough caller has no id.
func (h *Handler) principal(c *caller) ref.Val {
	switch {
	case c.key != nil:
		if p, ok := h.vars.keys.Load(c.key.KeyID); ok {
			return p.(ref.Val)
		}
		p := emptyPrincipal(h.Mode)
		workspaces := make(map[string]string, len(c.key.Workspaces))
		for ws, role := range c.key.Workspaces {
			workspaces[ws] = role.String()
		}
		p["id"], p["name"], p["capabilities"], p["workspaces"] = c.key.KeyID, c.key.Name, c.key.Capabilities, workspaces
		if c.key.Buckets != nil {
			p["buckets"] = c.key.Buckets
		}
		v, _ := h.vars.keys.LoadOrStore(c.key.KeyID, celValue(p))
		return v.(ref.Val)
	case c.remembered != nil:
		// What the upstream granted a token is its own for each caller.
		p := emptyPrincipal(h.Mode)
		p["id"], p["capabilities"] = c.remembered.KeyID, c.remembered.Capabilities
		if c.remembered.Buckets != nil {
			p["buckets"] = c.remembered.Buckets
		}
		return celValue(p)
	}
	return h.vars.anonymous
}

// emptyPrincipal is a principal of mode that no credential names.
func emptyPrincipal(mode string) map[string]any {
	return map[string]any{"id": "", "name": "", "mode": mode, "capabilities": []string{}, "buckets": []string{}, "workspaces": map[string]string{}}
}

// warning is msg as a Warning header's value (RFC 9111 5.5): code 299,
// agent bucketgate, and msg as a quoted string, as the Kubernetes API
// server sends its admission warnings.
func warning(msg string) string {
	msg = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(msg)
	return `299 bucketgate "` + msg + `"`
}
