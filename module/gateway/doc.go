// Package gateway is the bucketgate HTTP handler (http.handlers.bucketgate):
// admission control for buckets. Every write to a bucket (a creation, an
// update, a deletion) is judged before the next handler, normally
// reverse_proxy, sends it to the storage API: against the API's contract,
// the caller's rights, the bucket's revision and the operator's policies.
// The API's other calls are answered or routed where the identity mode
// needs it.
//
// # Sides and exchanges
//
// A Handler speaks two APIs, each a side (sides.go): the client's and the
// upstream's, each a dialect with what that dialect can do (sign-in, scopes,
// lists, revisions, translation), chosen once at Provision. They are the same
// side unless the gateway translates; translating is the sides differing.
// One call the gateway handles is one exchange (exchange.go): the request,
// next, the caller, the write and its precondition, and the decision the
// call comes to. Every step takes the exchange and either adds to it or
// refuses; every refusal goes through refuse, so each is written in the
// client's dialect, recorded once and counted.
//
// # A write, in the order it runs
//
// Every write, of any kind, in the client's API or translated, goes through
// the one pipeline these files hold, read top to bottom:
//
//	handler.go      the module's lifecycle in the order Caddy calls it:
//	                the Handler and its settings, Provision, Validate,
//	                Cleanup, ServeHTTP's entry, the interface guards.
//	exchange.go     serve recognises the call and picks its step; decide
//	                gives it its deadline and records what it came to;
//	                refuse and failUpstream answer every refusal.
//	write.go        write: read the body (under max_body_size), validate
//	                against the contract, authorise, judge by the policies,
//	                take the precondition; then writeNative (the upstream's
//	                own API) or writeTranslated (another API), send, and the
//	                answer, parsed once.
//	caller.go       authenticate (gateway keys, remembered upstream tokens)
//	                and authorise (capabilities, buckets, workspace roles).
//	policy.go       the operator's CEL policies: compiled and cost-bounded
//	                once, judged per write (judge), counted per result.
//	celjson.go      a write's document as CEL values over the parsed tree.
//	precondition.go the client's precondition (If-Match, the API's revision
//	                field, require_revision) checked against the bucket read
//	                under its lock, where the gateway derives revisions.
//	lock.go         the bucket's lock: in process, then in Caddy's storage.
//	storagelock.go  the lock in Caddy's storage, with the holder's record
//	                that lets another instance break an abandoned lock.
//	upstream.go     every call upstream goes through next: captured answers
//	                (roundTrip, each with its deadline), sub-requests that
//	                read buckets, routing, and the scrubbing of the
//	                gateway's secrets from answers.
//	decision.go     the decision: its fields, on the access log line where
//	                the site logs requests or one line of its own otherwise,
//	                and its metrics.
//
// The next handler is called once for each upstream call a request needs:
// a sign-in of the gateway's own, a read of the bucket for a precondition,
// a policy or a translation, the write, and a read-back where the answer
// does not carry the new revision. Handlers between bucketgate and
// reverse_proxy run on each.
//
// # The other calls and the rest
//
//	session.go      the gateway's own sign-in at the upstream (gateway
//	                mode): one shared by concurrent requests, renewed when
//	                refused, its state in the status answer.
//	signin.go       the client's sign-ins: answered with a gateway token
//	                (gateway mode), or proxied to learn what a token may do.
//	lists.go        bucket lists answered for gateway keys, filtered to what
//	                each key may see, by account or by workspace.
//	routing.go      passthrough mode with a realm: a token's calls routed to
//	                its account.
//	audit.go        the admin API's GET /bucketgate/audit: the buckets that
//	                exist, judged by the update policies.
//	config.go       every configuration rule, written once (checkSettings)
//	                for the Caddyfile and for Provision.
//	caddyfile.go    the Caddyfile directive, its errors at file and line.
//	sides.go        the APIs the gateway speaks, and the two sides.
//	identity.go     the identity settings provisioned: keys, signing
//	                secret, token memory.
//	admin.go        the admin API's GET /bucketgate/status, and the set of
//	                loaded handlers it, the audit and the metrics read.
//	metrics.go      the metrics and their registration in Caddy's registry.
//
// Refusals are written in the API's own error shape (B2:
// {"status","code","message"}; Flashback: {"success":false,"message"}), so
// they do not go through handle_errors.
package gateway
