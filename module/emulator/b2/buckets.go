package b2emulator

import (
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"
)

// bucket is one bucket's settings. Values are never changed in place: an
// update builds a new bucket, so a *bucket can be read without a lock once
// obtained. The JSON form is the state file's.
type bucket struct {
	AccountID      string            `json:"accountId"`
	ID             string            `json:"bucketId"`
	Name           string            `json:"bucketName"`
	Type           string            `json:"bucketType"`
	Info           map[string]string `json:"bucketInfo"`
	CORSRules      []corsRule        `json:"corsRules"`
	LifecycleRules []lifecycleRule   `json:"lifecycleRules"`
	Encryption     encryption        `json:"defaultServerSideEncryption"`
	FileLock       bool              `json:"fileLockEnabled"`
	Retention      retention         `json:"defaultRetention"`
	Replication    *replication      `json:"replicationConfiguration"`
	Options        []string          `json:"options"`
	Revision       int64             `json:"revision"`
}

type corsRule struct {
	Name              string   `json:"corsRuleName"`
	AllowedOrigins    []string `json:"allowedOrigins"`
	AllowedHeaders    []string `json:"allowedHeaders"`
	AllowedOperations []string `json:"allowedOperations"`
	ExposeHeaders     []string `json:"exposeHeaders"`
	MaxAgeSeconds     int64    `json:"maxAgeSeconds"`
}

// lifecycleRule writes absent day counts as null, as B2 does.
type lifecycleRule struct {
	DaysFromHidingToDeleting                        *int64 `json:"daysFromHidingToDeleting"`
	DaysFromUploadingToHiding                       *int64 `json:"daysFromUploadingToHiding"`
	DaysFromStartingToCancelingUnfinishedLargeFiles *int64 `json:"daysFromStartingToCancelingUnfinishedLargeFiles"`
	FileNamePrefix                                  string `json:"fileNamePrefix"`
}

// encryption is off when both are nil, which B2 reports as nulls.
type encryption struct {
	Algorithm *string `json:"algorithm"`
	Mode      *string `json:"mode"`
}

// retention is off when Mode is nil; Period is set exactly when Mode is.
type retention struct {
	Mode   *string `json:"mode"`
	Period *period `json:"period"`
}

type period struct {
	Duration int64  `json:"duration"`
	Unit     string `json:"unit"`
}

type replication struct {
	AsReplicationDestination *replicationDestination `json:"asReplicationDestination"`
	AsReplicationSource      *replicationSource      `json:"asReplicationSource"`
}

type replicationSource struct {
	ReplicationRules       []replicationRule `json:"replicationRules"`
	SourceApplicationKeyID string            `json:"sourceApplicationKeyId"`
}

type replicationRule struct {
	DestinationBucketID  string `json:"destinationBucketId"`
	FileNamePrefix       string `json:"fileNamePrefix"`
	IncludeExistingFiles bool   `json:"includeExistingFiles"`
	IsEnabled            bool   `json:"isEnabled"`
	Priority             int64  `json:"priority"`
	ReplicationRuleName  string `json:"replicationRuleName"`
}

type replicationDestination struct {
	SourceToDestinationKeyMapping map[string]string `json:"sourceToDestinationKeyMapping"`
}

func (r *replication) isSource() bool {
	return r != nil && r.AsReplicationSource != nil && len(r.AsReplicationSource.ReplicationRules) > 0
}

// encryptsByDefault reports whether new files get SSE-B2 when their upload
// asks for no encryption.
func (b *bucket) encryptsByDefault() bool {
	return b.Encryption.Mode != nil && *b.Encryption.Mode == "SSE-B2"
}

func newBucket(accountID, id, name, typ string, revision int64) *bucket {
	return &bucket{
		AccountID:      accountID,
		ID:             id,
		Name:           name,
		Type:           typ,
		Info:           map[string]string{},
		CORSRules:      []corsRule{},
		LifecycleRules: []lifecycleRule{},
		Options:        []string{"s3"},
		Revision:       revision,
	}
}

// readGuard wraps the settings B2 shows only to keys with the matching read
// capability.
type readGuard struct {
	IsClientAuthorizedToRead bool `json:"isClientAuthorizedToRead"`
	Value                    any  `json:"value"`
}

func guard(authorized bool, v any) readGuard {
	if !authorized {
		return readGuard{}
	}
	return readGuard{IsClientAuthorizedToRead: true, Value: v}
}

// bucketView is the bucket object of every bucket call's answer. The three
// guarded settings are always objects, never null or missing: blazer
// dereferences fileLockConfiguration and replicationConfiguration
// unconditionally and panics otherwise.
type bucketView struct {
	AccountID                   string            `json:"accountId"`
	BucketID                    string            `json:"bucketId"`
	BucketInfo                  map[string]string `json:"bucketInfo"`
	BucketName                  string            `json:"bucketName"`
	BucketType                  string            `json:"bucketType"`
	CORSRules                   []corsRule        `json:"corsRules"`
	DefaultServerSideEncryption readGuard         `json:"defaultServerSideEncryption"`
	FileLockConfiguration       readGuard         `json:"fileLockConfiguration"`
	LifecycleRules              []lifecycleRule   `json:"lifecycleRules"`
	Options                     []string          `json:"options"`
	ReplicationConfiguration    readGuard         `json:"replicationConfiguration"`
	Revision                    int64             `json:"revision"`
}

type fileLockValue struct {
	DefaultRetention  retention `json:"defaultRetention"`
	IsFileLockEnabled bool      `json:"isFileLockEnabled"`
}

func (b *bucket) view(p *principal) bucketView {
	return bucketView{
		AccountID:                   b.AccountID,
		BucketID:                    b.ID,
		BucketInfo:                  b.Info,
		BucketName:                  b.Name,
		BucketType:                  b.Type,
		CORSRules:                   b.CORSRules,
		DefaultServerSideEncryption: guard(p.has["readBucketEncryption"], b.Encryption),
		FileLockConfiguration:       guard(p.has["readBucketRetentions"], fileLockValue{b.Retention, b.FileLock}),
		LifecycleRules:              b.LifecycleRules,
		Options:                     b.Options,
		ReplicationConfiguration:    guard(p.has["readBucketReplications"], b.Replication),
		Revision:                    b.Revision,
	}
}

// request is one authenticated API call.
type request struct {
	version int
	base    string // the emulator's address, as the client is to use it
	p       *principal
	params  fields
}

type callSpec struct {
	// jsonParams are the parameters that a GET carries as JSON text in the
	// query string; all others are plain strings.
	jsonParams map[string]bool
	run        func(*Emulator, *request) (any, *apiError)
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var settingJSONParams = []string{
	"bucketInfo", "corsRules", "lifecycleRules", "defaultServerSideEncryption",
	"defaultRetention", "fileLockEnabled", "replicationConfiguration",
}

var calls = map[string]callSpec{
	"b2_create_bucket": {jsonParams: set(settingJSONParams...), run: (*Emulator).createBucket},
	"b2_list_buckets":  {jsonParams: set("bucketTypes"), run: (*Emulator).listBuckets},
	"b2_update_bucket": {jsonParams: set(append(settingJSONParams, "ifRevisionIs")...), run: (*Emulator).updateBucket},
	"b2_delete_bucket": {jsonParams: set(), run: (*Emulator).deleteBucket},

	"b2_get_upload_url":             {jsonParams: set(), run: (*Emulator).getUploadURL},
	"b2_list_file_names":            {jsonParams: set("maxFileCount"), run: (*Emulator).listFileNames},
	"b2_list_file_versions":         {jsonParams: set("maxFileCount"), run: (*Emulator).listFileVersions},
	"b2_get_file_info":              {jsonParams: set(), run: (*Emulator).getFileInfo},
	"b2_hide_file":                  {jsonParams: set(), run: (*Emulator).hideFile},
	"b2_delete_file_version":        {jsonParams: set("bypassGovernance"), run: (*Emulator).deleteFileVersion},
	"b2_get_download_authorization": {jsonParams: set("validDurationInSeconds"), run: (*Emulator).getDownloadAuthorization},
}

func firstError(errs ...*apiError) *apiError {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (h *Emulator) createBucket(r *request) (any, *apiError) {
	req, aerr := parseCreate(r.params)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := firstError(r.p.needAccount(req.accountID), r.p.need(req.writeCapabilities()...), r.p.needUnrestricted()); aerr != nil {
		return nil, aerr
	}
	// A bucket may be born with Object Lock on whatever else it is created
	// with: the refusals of turning it on are about existing buckets (b2sdk's
	// integration test creates a replication source with Object Lock, on B2).
	fresh := newBucket(r.p.accountID, "", req.name, "", h.InitialRevision)
	fresh.FileLock = req.fileLock.v
	req.fileLock = opt[bool]{}
	b, aerr := applyChanges(fresh, req.changes)
	if aerr != nil {
		return nil, aerr
	}
	b, aerr = h.store.create(b)
	if aerr != nil {
		return nil, aerr
	}
	h.logger.Info("bucket created", zap.String("account", b.AccountID), zap.String("bucket_id", b.ID), zap.Int64("revision", b.Revision))
	return b.view(r.p), nil
}

var defaultListTypes = []string{"allPublic", "allPrivate", "snapshot"}

func (h *Emulator) listBuckets(r *request) (any, *apiError) {
	req, aerr := parseList(r.params)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := firstError(r.p.needAccount(req.accountID), r.p.need("listBuckets")); aerr != nil {
		return nil, aerr
	}
	restrictTo := ""
	if allowed := r.p.bucketID; allowed != "" {
		// v1 predates restricted keys naming their bucket in the request, so
		// it quietly narrows the answer; later versions require the request
		// to name the allowed bucket.
		if r.version == 1 {
			restrictTo = allowed
		} else if name, _ := h.store.name(allowed); req.bucketID != allowed && (req.bucketName == "" || !strings.EqualFold(req.bucketName, name)) {
			return nil, unauthorized("the application key is restricted to one bucket; name it with bucketId or bucketName")
		}
	}
	types := req.types
	if types == nil {
		types = defaultListTypes
	}
	buckets := h.store.list(r.p.accountID, func(b *bucket) bool {
		return (restrictTo == "" || b.ID == restrictTo) &&
			(req.bucketID == "" || b.ID == req.bucketID) &&
			(req.bucketName == "" || strings.EqualFold(b.Name, req.bucketName)) &&
			(types[0] == "all" || slices.Contains(types, b.Type))
	})
	views := make([]bucketView, 0, len(buckets))
	for _, b := range buckets {
		views = append(views, b.view(r.p))
	}
	return map[string]any{"buckets": views}, nil
}

func (h *Emulator) updateBucket(r *request) (any, *apiError) {
	req, aerr := parseUpdate(r.params)
	if aerr != nil {
		return nil, aerr
	}
	if req.accountID.set {
		if aerr := r.p.needAccount(req.accountID.v); aerr != nil {
			return nil, aerr
		}
	}
	if aerr := firstError(r.p.need(req.writeCapabilities()...), r.p.needUnrestricted()); aerr != nil {
		return nil, aerr
	}
	b, aerr := h.store.update(r.p.accountID, req.bucketID, func(cur *bucket) (*bucket, *apiError) {
		if req.ifRevisionIs.set && req.ifRevisionIs.v != cur.Revision {
			return nil, newError(http.StatusConflict, "conflict", "simultaneous updates to bucket")
		}
		next, aerr := applyChanges(cur, req.changes)
		if aerr != nil {
			return nil, aerr
		}
		next.Revision = cur.Revision + 1
		return next, nil
	})
	if aerr != nil {
		return nil, aerr
	}
	h.logger.Info("bucket updated", zap.String("account", b.AccountID), zap.String("bucket_id", b.ID), zap.Int64("revision", b.Revision))
	return b.view(r.p), nil
}

func (h *Emulator) deleteBucket(r *request) (any, *apiError) {
	req, aerr := parseDelete(r.params)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := firstError(r.p.needAccount(req.accountID), r.p.need("deleteBuckets"), r.p.needUnrestricted()); aerr != nil {
		return nil, aerr
	}
	b, aerr := h.store.remove(r.p.accountID, req.bucketID)
	if aerr != nil {
		return nil, aerr
	}
	h.logger.Info("bucket deleted", zap.String("account", b.AccountID), zap.String("bucket_id", b.ID))
	v := b.view(r.p)
	// Recorded B2 traffic answers a delete with the revision one past the
	// bucket's last.
	v.Revision++
	return v, nil
}

var lockRefusingTypes = []string{"snapshot", "shared", "restricted"}

// applyChanges returns cur with the changes applied, each present setting
// replacing the old one whole, or B2's refusal when the bucket's state does
// not allow them. cur itself is left as it was.
func applyChanges(cur *bucket, ch changes) (*bucket, *apiError) {
	next := *cur
	if ch.bucketType.set {
		next.Type = ch.bucketType.v
	}
	if ch.info.set {
		next.Info = ch.info.v
	}
	if ch.cors.set {
		next.CORSRules = ch.cors.v
	}
	if ch.lifecycle.set {
		next.LifecycleRules = ch.lifecycle.v
	}
	if ch.encryption.set {
		next.Encryption = ch.encryption.v
	}
	if ch.replication.set {
		next.Replication = ch.replication.v
	}
	if ch.fileLock.set && ch.fileLock.v != cur.FileLock {
		switch {
		case cur.FileLock:
			return nil, newError(http.StatusBadRequest, "file_lock_conflict", "fileLockEnabled value of false is not allowed when bucket is already file lock enabled")
		case slices.Contains(lockRefusingTypes, cur.Type):
			return nil, newError(http.StatusBadRequest, "restricted_bucket_conflict", "fileLockEnabled: file lock cannot be turned on for a %s bucket", cur.Type)
		case next.Replication.isSource():
			return nil, newError(http.StatusBadRequest, "source_replication_conflict", "fileLockEnabled: file lock cannot be turned on for a bucket that is a replication source")
		}
		next.FileLock = true
	}
	if ch.retention.set {
		if !next.FileLock {
			// B2's code for this case on b2_update_bucket is not documented;
			// bucket_missing_file_lock is what it answers for file
			// retention on a bucket without file lock.
			return nil, newError(http.StatusBadRequest, "bucket_missing_file_lock", "defaultRetention: the bucket is not file lock enabled")
		}
		next.Retention = ch.retention.v
	}
	return &next, nil
}
