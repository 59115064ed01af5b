// Package gateway is the bucketgate HTTP handler (http.handlers.bucketgate):
// it makes every bucket update safe before the next handler (normally
// reverse_proxy) sends it to the storage API, and answers or routes the
// API's other calls where its identity mode needs it.
//
// # Sides and exchanges
//
// A Handler speaks two APIs, each a side (sides.go): the client's and the
// upstream's, each a dialect with what that dialect can do (sign-in, scopes,
// lists, revisions, translation), chosen once at Provision. They are the same
// side unless the gateway translates; translating is the sides differing.
// One call the gateway handles is one exchange (handler.go): the request,
// next, the caller, the update and its precondition, and the decision the
// call comes to. Every step takes the exchange and either adds to it or
// refuses; every refusal goes through Handler.refuse, so each is written in
// the client's dialect, logged once and counted.
//
// # An update, in the order it runs
//
// Any update, in the client's API or translated, is read in these four
// files, top to bottom, and touches no other file of this package:
//
//	handler.go   ServeHTTP recognises the call and picks its handler; decide
//	             gives it its deadline, then logs and counts what it came to
//	             (the decision: its one log line, outcome names, metrics);
//	             refuse and failUpstream are how every refusal is answered.
//	update.go    update: authenticate, read (the body under max_body_size),
//	             validate, authorise, precondition; then write (the
//	             upstream's own API) or writeTranslated (another API), send,
//	             and the answer.
//	state.go     the state-and-precondition step shared by derived and
//	             translated updates: the client's precondition (If-Match,
//	             the API's revision field, require_revision), the bucket's
//	             lock (in process, then in Caddy's storage), and checkState,
//	             which reads the bucket under it and checks workspace grants
//	             and the precondition against it.
//	upstream.go  every call upstream, through next: captured answers
//	             (roundTrip), the gateway's own credentials (callUpstream)
//	             and its upstream session (one sign-in shared by concurrent
//	             requests), sub-requests that read buckets, routing and the
//	             scrubbing of the gateway's secrets from answers.
//
// # The other calls and the rest
//
//	signin.go    sign-ins: answered with a gateway token (gateway mode), or
//	             proxied to the realm to learn what a token may do.
//	lists.go     bucket lists answered for gateway keys, by account or by
//	             workspace, in the client's API or across APIs.
//	routing.go   passthrough mode with a realm: routing a token's calls to its
//	             account, and checking bucket creations on the way.
//	config.go    the module, its settings, Provision and Validate.
//	sides.go     the APIs the gateway speaks, and the two sides.
//	identity.go  the identity settings: modes, keys, signing secret, upstream
//	             credentials, token memory, provisioned and validated.
//	caddyfile.go the Caddyfile directive, with its errors at file and line.
//	admin.go     the admin API's GET /bucketgate/status, and the set of
//	             loaded handlers it and the metrics read.
//	metrics.go   the metrics and their registration.
//
// Refusals are written in the API's own error shape (B2:
// {"status","code","message"}; Flashback: {"success":false,"message"}), so
// they do not go through handle_errors.
package gateway
