package dialect

import "net/http"

// Grant is what signing in gives a caller: a token and what it may do.
type Grant struct {
	Token        string
	AccountID    string
	APIURL       string
	DownloadURL  string
	S3APIURL     string
	Capabilities []string
	// Buckets are the buckets the token is limited to; nil means all.
	Buckets []BucketRef
}

// BucketRef names a bucket in a grant.
type BucketRef struct{ ID, Name string }

// The interfaces below are what an API may have besides updates, each on
// its own, so that an API implements only what it has. B2 has all three;
// Flashback has none of them (see WorkspaceLists).

// SignIn is implemented by dialects whose API has a sign-in call that hands
// out tokens (B2's b2_authorize_account). The gateway answers sign-ins with
// it (gateway mode), learns what upstream tokens may do (passthrough mode),
// and signs in upstream with its own key.
type SignIn interface {
	// SignIn reads the key id and secret of a sign-in call.
	SignIn(r *http.Request) (keyID, secret string, err *Error)
	// SignInRequest rewrites r into a sign-in call to the upstream with the
	// gateway's own key.
	SignInRequest(r *http.Request, keyID, secret string)
	// WriteGrant answers a sign-in call in the shape of call's version, or,
	// writing nothing, returns the API's refusal of a grant that version
	// cannot express.
	WriteGrant(w http.ResponseWriter, call Call, g Grant) *Error
	// ReadGrant reads an upstream sign-in answer of any version.
	ReadGrant(a *Answer) (Grant, *Error)
	// RedirectGrant points the API URL of an upstream sign-in answer at the
	// gateway, keeping the rest of the answer as the same parse read it.
	RedirectGrant(a *Answer, apiURL string) ([]byte, *Error)
	// TokenRefused reports whether an upstream answer refuses the token
	// itself (expired or unknown), so that signing in again may help.
	TokenRefused(a *Answer) bool
}

// Scopes is implemented by dialects whose API scopes its tokens by
// capability and account (B2): what a write needs, and what of a bucket a
// caller may read.
type Scopes interface {
	// Needs returns the capabilities a write requires.
	Needs(u *Document) []string
	// MakesPublic reports whether a write opens the bucket to everyone.
	MakesPublic(u *Document) bool
	// Account returns the account a write or list call names ("" if none).
	Account(u *Document) string
	// SetAccount makes the call name accountID.
	SetAccount(u *Document, accountID string)
	// FilterBucket hides, in a bucket answer, the settings a caller may not read.
	FilterBucket(a *Answer, canRead func(capability string) bool) ([]byte, *Error)
}

// AccountLists is implemented by dialects whose API lists an account's
// buckets (B2's b2_list_buckets), which a gateway answers for its own keys.
type AccountLists interface {
	// ListCapability is the capability a key needs to list buckets.
	ListCapability() string
	// DecodeList reads and validates a list call.
	DecodeList(r *http.Request, call Call, read func() ([]byte, *Error)) (*Document, *Error)
	// ListRequest rewrites r into the upstream list call for u.
	ListRequest(r *http.Request, u *Document, body []byte)
	// FilterList keeps the buckets a caller may see in a list answer, and
	// hides the settings it may not read: what it decides and what it
	// writes come from the answer's one parse.
	FilterList(a *Answer, visible func(bucketID string) bool, canRead func(capability string) bool) ([]byte, *Error)
	// ListMatches reports whether a list call's filters (bucket id, name,
	// types) select b.
	ListMatches(u *Document, b Bucket) bool
	// WriteBuckets answers a list call with buckets read from another API.
	WriteBuckets(w http.ResponseWriter, buckets []Bucket)
}
