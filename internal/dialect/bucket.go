package dialect

import "net/http"

// Bucket is a bucket's state in neither API's terms: what one API reports of
// it, in a form the other can be answered from.
type Bucket struct {
	ID        string
	AccountID string
	// Name is the display name (Flashback's name; an entry of B2's bucketInfo).
	Name string
	// Workspace is the Flashback workspace (an entry of B2's bucketInfo).
	Workspace string
	// ProviderName is the bucket's name at the storage provider (Flashback's
	// bucket; B2's bucketName).
	ProviderName string
	StorageType  string
	Region       string
	Endpoint     string
	Public       bool
	// Info holds B2 bucketInfo entries other than Name and Workspace.
	Info map[string]string
	// Revision changes whenever the bucket changes: B2's own, or derived.
	Revision int64
	// Entry is the bucket as its own API describes it (B2's bucket object,
	// Flashback's list entry less its credentials), as jsonscan.Value.Native
	// gives it; set by ReadBucket, for operators' policies.
	Entry map[string]any
}

// Field is one setting of a neutral change: whether the update sets it, to
// what, and the client's own path for it, so refusals name what the client
// sent.
type Field[T any] struct {
	Set   bool
	Value T
	From  string
}

// Extra is a value of the client's update that has no neutral meaning; the
// target API decides whether it can take it.
type Extra struct {
	From string
	Kind ExtraKind
}

// ExtraKind says what an Extra is.
type ExtraKind int

const (
	// Credential: provider credentials (Flashback key, secret, apiKeyUuid,
	// walletAddress).
	Credential ExtraKind = iota + 1
	// Setting: a storage setting one API has and the other lacks (B2 CORS,
	// lifecycle, encryption, retention, Object Lock, replication), with an
	// effect: values that change nothing are dropped before they get here.
	Setting
)

// Change is a write to a bucket in neither API's terms: a creation, an
// update or a deletion (Op), of the bucket BucketID (none for a creation).
type Change struct {
	Op           Op
	BucketID     string
	Name         Field[string]
	Workspace    Field[string]
	ProviderName Field[string]
	StorageType  Field[string]
	Region       Field[string]
	Endpoint     Field[string]
	Public       Field[bool]
	// Info holds B2 bucketInfo entries other than Name and Workspace, by key.
	Info   map[string]Field[string]
	Extras []Extra
}

// FindBucket returns the bucket with id among buckets.
func FindBucket(buckets []Bucket, id string) (Bucket, bool) {
	for _, b := range buckets {
		if b.ID == id {
			return b, true
		}
	}
	return Bucket{}, false
}

// BucketReader reads one bucket's state from an API.
type BucketReader interface {
	// ReadRequest rewrites sub into the call that reads one bucket (or,
	// without an id, lists the account's buckets).
	ReadRequest(sub *http.Request, bucketID, accountID string)
	// ReadBucket finds bucketID in the answer to ReadRequest.
	ReadBucket(a *Answer, bucketID string) (Bucket, *Error)
}

// Translator is implemented by dialects that take part in translation:
// reading a bucket, reading an update as a neutral change, writing a change
// as an update to the bucket as it stands, and speaking for the other side
// to their own clients.
type Translator interface {
	BucketReader
	// ReadBuckets reads every bucket of a list answer (the one ReadRequest
	// asks for, without a bucket id).
	ReadBuckets(a *Answer) ([]Bucket, *Error)

	// ToChange reads a validated write of this API as a neutral change.
	ToChange(u *Document) Change
	// FromChange writes c as a write of this API, refusing what this API
	// cannot take: an update to current, a deletion of current, or a
	// creation, for which current holds only what the upstream's side knows
	// of a bucket before it exists (its account, its endpoint). A nil write
	// means nothing to write.
	FromChange(c Change, current Bucket) (*Document, []Violation)
	// UpdatedBucket reads the bucket's new state from a successful update
	// answer, where the API reports it.
	UpdatedBucket(a *Answer) (Bucket, bool)
	// UpstreamError reads this API's refusal as a neutral one whose message
	// says that this API refused.
	UpstreamError(a *Answer) *Error

	// Describe is b as this API's clients see a bucket, in the form
	// Bucket.Entry has: what an operator's policy reads of a bucket of
	// another API.
	Describe(b Bucket) map[string]any
	// WriteWritten answers a client's successful write op: with the
	// bucket's new state b after a creation or an update, and with its
	// state before a deletion.
	WriteWritten(w http.ResponseWriter, op Op, b Bucket)
}
