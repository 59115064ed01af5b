package b2emulator

import (
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// The file calls made on the apiUrl, with an account authorization token.
// Each one needs the capability its B2 doc page names, and a key restricted
// to a bucket, or to a file name prefix, may only reach files inside them:
// otherwise B2 answers 401 unauthorized (b2_list_file_names docs, and the
// "v1: Application keys (July 26, 2018)" note on every file call's page).

const (
	defaultMaxFileCount = 100
	maxMaxFileCount     = 10000

	// maxDownloadAuthorization is b2_get_download_authorization's longest
	// validDurationInSeconds: one week.
	maxDownloadAuthorization = 604800
)

// needFile checks that a key may reach a file of a bucket.
func (p *principal) needFile(bucketID, name string) *apiError {
	if aerr := p.needBucket(bucketID); aerr != nil {
		return aerr
	}
	if !strings.HasPrefix(name, p.namePrefix) {
		return unauthorized("the application key is restricted to file names starting with %q", p.namePrefix)
	}
	return nil
}

// needBucket checks a key's bucket restriction.
func (p *principal) needBucket(bucketID string) *apiError {
	if p.bucketID != "" && p.bucketID != bucketID {
		return unauthorized("the application key is restricted to bucket %s", p.bucketID)
	}
	return nil
}

// bucketFor finds the bucket a file call names, after the checks every file
// call makes first: the capability, then the key's bucket restriction.
func (h *Emulator) bucketFor(p *principal, bucketID, capability string) (*entry, *apiError) {
	if aerr := firstError(p.need(capability), p.needBucket(bucketID)); aerr != nil {
		return nil, aerr
	}
	return h.store.lookup(p.accountID, bucketID)
}

// snapshotRefusal is what B2 answers for a change to the files of a
// snapshot bucket, which Backblaze keeps for its own use (b2_hide_file
// docs' error table; the "Snapshots" docs: users cannot modify them).
func snapshotRefusal(b *bucket) *apiError {
	if b.Type == "snapshot" {
		return badRequest("Snapshot buckets are reserved for Backblaze use")
	}
	return nil
}

func (h *Emulator) getUploadURL(r *request) (any, *apiError) {
	if aerr := r.params.only("", "bucketId"); aerr != nil {
		return nil, aerr
	}
	bucketID, aerr := r.params.needString("", "bucketId")
	if aerr != nil {
		return nil, aerr
	}
	e, aerr := h.bucketFor(r.p, bucketID, "writeFiles")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := snapshotRefusal(e.b); aerr != nil {
		return nil, aerr
	}
	uploadID := rand.Text()
	token := h.uploads.issue(uploadGrant{p: r.p, bucketID: bucketID, uploadID: uploadID})
	return map[string]any{
		"bucketId":           bucketID,
		"uploadUrl":          r.base + uploadPathPrefix(r.version) + bucketID + "/" + uploadID,
		"authorizationToken": token,
	}, nil
}

// listFilesRequest is a b2_list_file_names or b2_list_file_versions call.
type listFilesRequest struct {
	bucketID string
	q        listQuery
}

func parseListFiles(f fields, versions bool) (*listFilesRequest, *apiError) {
	allowed := []string{"bucketId", "startFileName", "maxFileCount", "prefix", "delimiter"}
	if versions {
		allowed = append(allowed, "startFileId")
	}
	if aerr := f.only("", allowed...); aerr != nil {
		return nil, aerr
	}
	req := &listFilesRequest{q: listQuery{versions: versions, max: defaultMaxFileCount}}
	var aerr *apiError
	if req.bucketID, aerr = f.needString("", "bucketId"); aerr != nil {
		return nil, aerr
	}
	for _, s := range []struct {
		name string
		dst  *string
	}{{"startFileName", &req.q.startName}, {"prefix", &req.q.prefix}, {"delimiter", &req.q.delimiter}} {
		if *s.dst, aerr = f.optString("", s.name); aerr != nil {
			return nil, aerr
		}
	}
	if v, ok := f.get("maxFileCount"); ok {
		n, aerr := asInt(v, "maxFileCount")
		if aerr != nil {
			return nil, aerr
		}
		// 0 means the default; out_of_range is the code the list calls'
		// docs give for a count past the maximum.
		if n < 0 || n > maxMaxFileCount {
			return nil, newError(http.StatusBadRequest, "out_of_range", "maxFileCount out of range: %d is not between 1 and %d (0 means %d)", n, maxMaxFileCount, defaultMaxFileCount)
		}
		if n > 0 {
			req.q.max = int(n)
		}
	}
	if !versions {
		return req, nil
	}
	startID, aerr := f.optString("", "startFileId")
	if aerr != nil || startID == "" {
		return req, aerr
	}
	if _, ok := f.get("startFileName"); !ok {
		return nil, badRequest("startFileId needs startFileName")
	}
	if _, req.q.startSeq, req.q.hasStart = parseFileID(startID); !req.q.hasStart {
		return nil, newError(http.StatusBadRequest, "invalid_file_id", "Invalid startFileId: %s", startID)
	}
	return req, nil
}

func (h *Emulator) listFileNames(r *request) (any, *apiError) {
	return h.listFiles(r, false)
}

func (h *Emulator) listFileVersions(r *request) (any, *apiError) {
	return h.listFiles(r, true)
}

func (h *Emulator) listFiles(r *request, versions bool) (any, *apiError) {
	req, aerr := parseListFiles(r.params, versions)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := firstError(r.p.need("listFiles"), r.p.needBucket(req.bucketID)); aerr != nil {
		return nil, aerr
	}
	if !strings.HasPrefix(req.q.prefix, r.p.namePrefix) {
		// v1 predates name prefix restrictions and quietly narrows the
		// answer; later versions refuse (b2_list_file_names docs, "v2:
		// Remove application key workaround").
		if r.version > 1 {
			return nil, unauthorized("the application key is restricted to file names starting with %q; list with a prefix that starts with it", r.p.namePrefix)
		}
		req.q.within = r.p.namePrefix
	}
	e, aerr := h.store.lookup(r.p.accountID, req.bucketID)
	if aerr != nil {
		// The list calls' docs give invalid_bucket_id for this.
		return nil, newError(http.StatusBadRequest, "invalid_bucket_id", "Invalid bucketId: %s", req.bucketID)
	}
	page, next := e.files.list(req.q)
	files := make([]map[string]any, 0, len(page))
	for _, le := range page {
		var m map[string]any
		if le.v == nil {
			m = folderView(e.b.AccountID, e.b.ID, le.folder)
		} else {
			m = le.v.view(r.p)
		}
		if r.version == 1 {
			v1ListShape(m)
		}
		files = append(files, m)
	}
	resp := map[string]any{"files": files, "nextFileName": nil}
	if versions {
		resp["nextFileId"] = nil
	}
	if next != nil {
		resp["nextFileName"] = next.name()
		if versions && next.v != nil {
			resp["nextFileId"] = next.v.id
		}
	}
	return resp, nil
}

// v1ListShape gives a list entry the v1 shape: v2 added accountId and
// bucketId and dropped size, and later v2 changes added
// serverSideEncryption, fileRetention and legalHold (b2_list_file_versions
// docs, "API Versions").
func v1ListShape(m map[string]any) {
	for _, k := range []string{"accountId", "bucketId", "serverSideEncryption", "fileRetention", "legalHold"} {
		delete(m, k)
	}
	m["size"] = m["contentLength"]
}

// fileByID finds a version by id for a key, after its capability and bucket
// restriction. A version the key's account cannot see is as absent as one
// that never existed.
func (h *Emulator) fileByID(p *principal, id, capability string) (*entry, *fileVersion, *apiError) {
	if aerr := p.need(capability); aerr != nil {
		return nil, nil, aerr
	}
	bucketID, _, ok := parseFileID(id)
	if !ok {
		return nil, nil, badRequest("fileId %s is not a valid file id", id)
	}
	if aerr := p.needBucket(bucketID); aerr != nil {
		return nil, nil, aerr
	}
	e, aerr := h.store.lookup(p.accountID, bucketID)
	if aerr != nil {
		return nil, nil, aerr
	}
	return e, e.files.byFileID(id), nil
}

func (h *Emulator) getFileInfo(r *request) (any, *apiError) {
	if aerr := r.params.only("", "fileId"); aerr != nil {
		return nil, aerr
	}
	id, aerr := r.params.needString("", "fileId")
	if aerr != nil {
		return nil, aerr
	}
	_, v, aerr := h.fileByID(r.p, id, "readFiles")
	if aerr != nil {
		return nil, aerr
	}
	if v == nil {
		// b2sdk: "get_file_info returns 404 and not_found"
		// (exception.py, interpret_b2_error).
		return nil, newError(http.StatusNotFound, "not_found", "File with id %s does not exist", id)
	}
	if aerr := r.p.needFile(v.bucketID, v.name); aerr != nil {
		return nil, aerr
	}
	return v.view(r.p), nil
}

func (h *Emulator) hideFile(r *request) (any, *apiError) {
	if aerr := r.params.only("", "bucketId", "fileName"); aerr != nil {
		return nil, aerr
	}
	bucketID, aerr := r.params.needString("", "bucketId")
	if aerr != nil {
		return nil, aerr
	}
	name, aerr := needFileName(r.params)
	if aerr != nil {
		return nil, aerr
	}
	e, aerr := h.bucketFor(r.p, bucketID, "writeFiles")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := firstError(r.p.needFile(bucketID, name), snapshotRefusal(e.b)); aerr != nil {
		return nil, aerr
	}
	if aerr := h.storage.reserve(0); aerr != nil {
		return nil, aerr
	}
	v := h.newVersion(e.b, name, actionHide)
	v.contentType, v.sha1, v.md5 = hideMarkerType, emptySHA1, emptyMD5
	if aerr := e.files.hide(v); aerr != nil {
		h.storage.release(0)
		return nil, aerr
	}
	h.logger.Debug("file hidden", zap.String("bucket_id", bucketID), zap.String("file_id", v.id))
	return v.view(r.p), nil
}

// needFileName reads the fileName parameter and applies B2's rules for
// names to it.
func needFileName(f fields) (string, *apiError) {
	v, aerr := f.need("", "fileName")
	if aerr != nil {
		return "", aerr
	}
	name, aerr := asString(v, "fileName")
	if aerr != nil {
		return "", aerr
	}
	return name, fileNameProblem(name)
}

// newVersion starts a version of a file, with its id and upload time.
func (h *Emulator) newVersion(b *bucket, name, action string) *fileVersion {
	now := h.now()
	seq := h.storage.seq.Add(1)
	return &fileVersion{
		id:        newFileID(b.ID, seq, now),
		seq:       seq,
		accountID: b.AccountID,
		bucketID:  b.ID,
		name:      name,
		action:    action,
		info:      map[string]string{},
		uploaded:  now.UnixMilli(),
	}
}

func (h *Emulator) deleteFileVersion(r *request) (any, *apiError) {
	if aerr := r.params.only("", "fileName", "fileId", "bypassGovernance"); aerr != nil {
		return nil, aerr
	}
	name, aerr := needFileName(r.params)
	if aerr != nil {
		return nil, aerr
	}
	id, aerr := r.params.needString("", "fileId")
	if aerr != nil {
		return nil, aerr
	}
	if v, ok := r.params.get("bypassGovernance"); ok {
		// Nothing is under retention here, so there is nothing to bypass.
		if _, aerr := asBool(v, "bypassGovernance"); aerr != nil {
			return nil, aerr
		}
	}
	e, _, aerr := h.fileByID(r.p, id, "deleteFiles")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := r.p.needFile(e.b.ID, name); aerr != nil {
		return nil, aerr
	}
	v, aerr := e.files.remove(id, name)
	if aerr != nil {
		return nil, aerr
	}
	h.storage.release(int64(len(v.data)))
	h.logger.Debug("file version deleted", zap.String("bucket_id", v.bucketID), zap.String("file_id", v.id))
	// Recorded B2 traffic answers with exactly these two fields.
	return map[string]any{"fileId": v.id, "fileName": v.name}, nil
}

// downloadGrant is what a b2_get_download_authorization token allows:
// downloads by name from one bucket, of names with a prefix, carrying the
// response header overrides it was made with.
type downloadGrant struct {
	accountID string
	bucketID  string
	prefix    string
	overrides map[string]string
}

func (h *Emulator) getDownloadAuthorization(r *request) (any, *apiError) {
	if aerr := r.params.only("", append([]string{"bucketId", "fileNamePrefix", "validDurationInSeconds"}, overrideParams...)...); aerr != nil {
		return nil, aerr
	}
	bucketID, aerr := r.params.needString("", "bucketId")
	if aerr != nil {
		return nil, aerr
	}
	v, aerr := r.params.need("", "fileNamePrefix")
	if aerr != nil {
		return nil, aerr
	}
	prefix, aerr := asString(v, "fileNamePrefix")
	if aerr != nil {
		return nil, aerr
	}
	v, aerr = r.params.need("", "validDurationInSeconds")
	if aerr != nil {
		return nil, aerr
	}
	seconds, aerr := asInt(v, "validDurationInSeconds")
	if aerr != nil {
		return nil, aerr
	}
	if seconds < 1 || seconds > maxDownloadAuthorization {
		return nil, badRequest("validDurationInSeconds must be between 1 and %d, got %d", maxDownloadAuthorization, seconds)
	}
	overrides, aerr := readOverrides(r.params)
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := h.bucketFor(r.p, bucketID, "shareFiles"); aerr != nil {
		return nil, aerr
	}
	if aerr := r.p.needFile(bucketID, prefix); aerr != nil {
		return nil, aerr
	}
	token := h.downloads.issueFor(downloadGrant{accountID: r.p.accountID, bucketID: bucketID, prefix: prefix, overrides: overrides},
		time.Duration(seconds)*time.Second)
	return map[string]any{"bucketId": bucketID, "fileNamePrefix": prefix, "authorizationToken": token}, nil
}
