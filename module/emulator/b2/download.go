package b2emulator

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Downloads, on the downloadUrl that b2_authorize_account hands out (here
// the emulator's own address): by name, GET or HEAD /file/<bucketName>/
// <fileName>, and by id, /b2api/vN/b2_download_file_by_id. A private
// bucket's files need an account token with readFiles, in Authorization;
// a download by name also takes a download authorization token, and either
// token as the Authorization query parameter. A public bucket's files need
// nothing ("Download Files with the Native API").

// overrideParams are the download parameters that set a response header,
// whatever the upload said (b2_download_file_by_name docs); a download
// authorization made with one requires downloads to repeat it
// (b2_get_download_authorization docs).
var overrideParams = []string{"b2ContentDisposition", "b2ContentLanguage", "b2Expires", "b2CacheControl", "b2ContentEncoding", "b2ContentType"}

var overrideHeaders = map[string]string{
	"b2ContentDisposition": "Content-Disposition",
	"b2ContentLanguage":    "Content-Language",
	"b2Expires":            "Expires",
	"b2CacheControl":       "Cache-Control",
	"b2ContentEncoding":    "Content-Encoding",
	"b2ContentType":        "Content-Type",
}

func readOverrides(f fields) (map[string]string, *apiError) {
	out := make(map[string]string)
	for _, name := range overrideParams {
		s, aerr := f.optString("", name)
		if aerr == nil && s != "" {
			aerr = headerValueProblem(name, overrideHeaders[name], s)
			out[name] = s
		}
		if aerr != nil {
			return nil, aerr
		}
	}
	return out, nil
}

// queryOverrides reads the overrides of a download by name, from its query
// string.
func queryOverrides(query url.Values) (map[string]string, *apiError) {
	f := make(fields)
	for _, name := range overrideParams {
		if v := query.Get(name); v != "" {
			f[name] = v
		}
	}
	return readOverrides(f)
}

func downloadNotFound(format string, args ...any) *apiError {
	return newError(http.StatusNotFound, "not_found", format, args...)
}

func (h *Emulator) downloadByName(w http.ResponseWriter, r *http.Request, rest string) *apiError {
	rawBucket, rawName, ok := strings.Cut(rest, "/")
	bucketName, okBucket := b2Decode(rawBucket)
	name, okName := b2Decode(rawName)
	if !ok || !okBucket || !okName {
		return badRequest("a download by name is /file/<bucketName>/<fileName>, each percent-encoded")
	}
	if aerr := fileNameProblem(name); aerr != nil {
		return aerr
	}
	e := h.store.named(bucketName)
	if e == nil {
		return downloadNotFound("Bucket %s does not exist", bucketName)
	}
	query := r.URL.Query()
	overrides, aerr := queryOverrides(query)
	if aerr != nil {
		return aerr
	}
	token := r.Header.Get("Authorization")
	if token == "" {
		token = query.Get("Authorization")
	}
	mayRead, aerr := h.downloadAccess(r, token, e.b, overrides, true)
	if aerr != nil {
		return aerr
	}
	v := e.files.latest(name)
	if v == nil {
		return downloadNotFound("File with such name does not exist: %s", name)
	}
	if aerr := mayRead(name); aerr != nil {
		return aerr
	}
	serveVersion(w, r, e.b, v, overrides)
	return nil
}

func (h *Emulator) downloadByID(w http.ResponseWriter, r *http.Request) *apiError {
	params, aerr := readParams(r, nil)
	if aerr != nil {
		return aerr
	}
	// The token of a download by id "must be in the request's headers"
	// (b2_download_file_by_id docs): one in the query is not taken.
	delete(params, "Authorization")
	if aerr := params.only("", append([]string{"fileId"}, overrideParams...)...); aerr != nil {
		return aerr
	}
	id, aerr := params.needString("", "fileId")
	if aerr != nil {
		return aerr
	}
	overrides, aerr := readOverrides(params)
	if aerr != nil {
		return aerr
	}
	bucketID, _, ok := parseFileID(id)
	if !ok {
		return badRequest("fileId %s is not a valid file id", id)
	}
	e := h.store.byID(bucketID)
	if e == nil {
		return downloadNotFound("Bucket %s does not exist", bucketID)
	}
	mayRead, aerr := h.downloadAccess(r, r.Header.Get("Authorization"), e.b, overrides, false)
	if aerr != nil {
		return aerr
	}
	v := e.files.byFileID(id)
	if v == nil || v.action != actionUpload {
		return downloadNotFound("File with id %s does not exist", id)
	}
	if aerr := mayRead(v.name); aerr != nil {
		return aerr
	}
	serveVersion(w, r, e.b, v, overrides)
	return nil
}

// downloadAccess checks the token of a download from b, and returns the
// check of the file name it leaves to be made once the file is found.
func (h *Emulator) downloadAccess(r *http.Request, token string, b *bucket, overrides map[string]string, byName bool) (func(name string) *apiError, *apiError) {
	if b.Type == "allPublic" {
		return func(string) *apiError { return nil }, nil
	}
	if token == "" {
		return nil, newError(http.StatusUnauthorized, "missing_auth_token", "the bucket is private: a download needs an authorization token")
	}
	if g, found, expired := h.downloads.find(token); found {
		switch {
		case !byName:
			return nil, unauthorized("a download authorization token is for downloads by name only")
		case expired:
			return nil, newError(http.StatusUnauthorized, "expired_auth_token", "Authorization token has expired")
		case g.bucketID != b.ID:
			return nil, unauthorized("the download authorization token is for another bucket")
		}
		for _, p := range overrideParams {
			if want, ok := g.overrides[p]; ok && overrides[p] != want {
				return nil, unauthorized("the download authorization token requires %s=%s", p, want)
			}
		}
		return func(name string) *apiError {
			if !strings.HasPrefix(name, g.prefix) {
				return unauthorized("the download authorization token is for file names starting with %q", g.prefix)
			}
			return nil
		}, nil
	}
	p, aerr := h.tokens.check(token, testMode(r, expireTestMode))
	if aerr != nil {
		return nil, aerr
	}
	if p.accountID != b.AccountID {
		return nil, unauthorized("the authorization token is not valid for the account of bucket %s", b.Name)
	}
	if aerr := firstError(p.need("readFiles"), p.needBucket(b.ID)); aerr != nil {
		return nil, aerr
	}
	return func(name string) *apiError { return p.needFile(b.ID, name) }, nil
}

// serveVersion writes a file version with the headers B2 sends: the
// upload's own, b2-* file info as the headers they name, the bucket's
// Cache-Control when the file sets none, and the download's overrides over
// all of them (b2_download_file_by_name docs), and the part of it a Range
// header asks for. A 416 range_not_satisfiable is what blazer takes for
// the end of a file.
func serveVersion(w http.ResponseWriter, r *http.Request, b *bucket, v *fileVersion, overrides map[string]string) {
	hdr := w.Header()
	hdr.Set("Content-Type", v.contentType)
	hdr.Set("X-Bz-File-Id", v.id)
	hdr.Set("X-Bz-File-Name", b2Encode(v.name))
	hdr.Set("X-Bz-Content-Sha1", v.sha1)
	hdr.Set("X-Bz-Upload-Timestamp", strconv.FormatInt(v.uploaded, 10))
	hdr.Set("Accept-Ranges", "bytes")
	for _, k := range sortedKeys(b.Info) {
		if strings.EqualFold(k, "Cache-Control") {
			hdr.Set("Cache-Control", b.Info[k])
		}
	}
	for _, k := range sortedKeys(v.info) {
		if header, ok := specialInfo[k]; ok {
			hdr.Set(header, v.info[k])
		} else {
			hdr.Set(infoHeaderPrefix+k, b2Encode(v.info[k]))
		}
	}
	for p, value := range overrides {
		hdr.Set(overrideHeaders[p], value)
	}
	if v.sse {
		hdr.Set("X-Bz-Server-Side-Encryption", "AES256")
	}
	size := int64(len(v.data))
	start, end, status := byteRange(r.Header.Get("Range"), size)
	if status == http.StatusRequestedRangeNotSatisfiable {
		for k := range hdr {
			delete(hdr, k)
		}
		hdr.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		writeError(w, newError(status, "range_not_satisfiable", "the range %s is outside the file's %d bytes", r.Header.Get("Range"), size))
		return
	}
	if status == http.StatusPartialContent {
		hdr.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end-1, 10)+"/"+strconv.FormatInt(size, 10))
	}
	hdr.Set("Content-Length", strconv.FormatInt(end-start, 10))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(v.data[start:end])
	}
}

// byteRange reads a Range header for one range of bytes, as
// b2_download_file_by_id's docs describe it: a range inside the file is
// 206 with that part; one that encloses the whole file, or one that cannot
// be read (RFC 9110, 14.1.1; several ranges included), is 200 with all of
// it; one that starts past the end is 416 ("Download Files with the Native
// API"). It returns the half-open span to send and the status.
func byteRange(header string, size int64) (start, end int64, status int) {
	whole := func() (int64, int64, int) { return 0, size, http.StatusOK }
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return whole()
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return whole()
	}
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 || n >= size {
			return whole()
		}
		return size - n, size, http.StatusPartialContent
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return whole()
	}
	end = size
	if last != "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < start {
			return whole()
		}
		end = min(n+1, size)
	}
	switch {
	case start == 0 && end == size:
		return whole()
	case start >= size:
		return 0, 0, http.StatusRequestedRangeNotSatisfiable
	}
	return start, end, http.StatusPartialContent
}
