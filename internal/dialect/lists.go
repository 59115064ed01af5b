package dialect

import "net/http"

// WorkspaceLists is an API whose clients list buckets by workspace
// (Flashback's GET /bucket), which a gateway answers for its own keys from
// the upstream's list: the keys never reach the upstream, and the upstream's
// credential never reaches the client.
type WorkspaceLists interface {
	// ListFilters reads the list call's filters; a filter not given is "".
	ListFilters(r *http.Request) (workspace, wallet string)
	// FilterList keeps the entries of the upstream's own list that keep
	// accepts, less every credential, in the API's list shape. keep is given
	// each entry as a Bucket and its wallet address, read from the same
	// parse the kept entries are written from.
	FilterList(a *Answer, keep func(b Bucket, wallet string) bool) ([]byte, *Error)
	// WriteList answers a list call with buckets of another API.
	WriteList(w http.ResponseWriter, buckets []Bucket)
}
