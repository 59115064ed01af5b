package b2emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// File versions, per bucket, in memory. B2 keeps every upload of a name as
// a version of its own; a hide marker is a version too, and makes the name
// invisible to b2_list_file_names and to downloads by name
// (backblaze.com/docs/cloud-storage-file-versions).

const (
	actionUpload = "upload"
	actionHide   = "hide"
	actionFolder = "folder"

	// hideMarkerType is the contentType of every hide marker, as B2 reports
	// it (b2_hide_file docs; recorded B2 traffic in rjframe/b2-client
	// test_sessions/file.yaml).
	hideMarkerType = "application/x-bz-hide-marker"

	// The SHA-1 and MD5 of no bytes, which recorded B2 traffic shows for a
	// hide marker.
	emptySHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
	emptyMD5  = "d41d8cd98f00b204e9800998ecf8427e"

	// maxFileNameBytes is B2's limit on a file name ("Files" docs).
	maxFileNameBytes = 1024
)

// fileVersion is one version of one file. It is never changed once stored,
// so it can be read without a lock once obtained.
type fileVersion struct {
	id          string
	seq         uint64 // orders versions: a later upload has a larger one
	accountID   string
	bucketID    string
	name        string
	action      string // actionUpload or actionHide
	contentType string
	sha1        string // 40 lowercase hex digits, or "unverified:" and them
	md5         string
	info        map[string]string
	sse         bool // stored with SSE-B2
	data        []byte
	uploaded    int64 // milliseconds since the epoch
}

// File ids have B2's shape, 4_z<bucketId>_f<...>_d<date>_m<time> (the
// "Files" docs show 4_zb330e285948b7a6d4b1b0712_f000000000000472a_d20140104_
// m032022_c001_v0000123_t0104); the f part carries the sequence number, so
// an id names its bucket and its place among the versions of a name.
func newFileID(bucketID string, seq uint64, at time.Time) string {
	at = at.UTC()
	return fmt.Sprintf("4_z%s_f%016x_d%s_m%s", bucketID, seq, at.Format("20060102"), at.Format("150405"))
}

// parseFileID reads an id made by newFileID.
func parseFileID(id string) (bucketID string, seq uint64, ok bool) {
	parts := strings.Split(id, "_")
	if len(parts) != 5 || parts[0] != "4" || len(parts[1]) != 25 || parts[1][0] != 'z' || !bucketIDPattern.MatchString(parts[1][1:]) ||
		len(parts[2]) != 17 || parts[2][0] != 'f' || len(parts[3]) != 9 || parts[3][0] != 'd' || len(parts[4]) != 7 || parts[4][0] != 'm' {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(parts[2][1:], 16, 64)
	if err != nil {
		return "", 0, false
	}
	return parts[1][1:], seq, true
}

// fileNameProblem applies B2's rules for file names ("Files" docs: UTF-8,
// at most 1024 bytes, no code below 32 and no DEL), with the messages of
// the b2_hide_file docs' error table.
func fileNameProblem(name string) *apiError {
	switch {
	case name == "":
		return badRequest("File names must contain at least one character")
	case len(name) > maxFileNameBytes:
		return badRequest("File names in UTF8 must be no more than %d bytes", maxFileNameBytes)
	case !utf8.ValidString(name):
		return badRequest("File names must be valid UTF-8")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 32 || r == 127 }):
		return badRequest("File names must not contain characters below 32 or DEL (127)")
	}
	return nil
}

// fileSet is one bucket's file versions.
type fileSet struct {
	mu     sync.RWMutex
	names  []string                  // sorted bytewise, as B2 lists; each has a version
	byName map[string][]*fileVersion // newest first
	byID   map[string]*fileVersion
	closed bool // the bucket is being deleted or is gone
}

func newFileSet() *fileSet {
	return &fileSet{byName: make(map[string][]*fileVersion), byID: make(map[string]*fileVersion)}
}

// add stores a version as the newest of its name.
func (fs *fileSet) add(v *fileVersion) *apiError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.closed {
		return badBucketID(v.bucketID)
	}
	versions, ok := fs.byName[v.name]
	if !ok {
		i, _ := slices.BinarySearch(fs.names, v.name)
		fs.names = slices.Insert(fs.names, i, v.name)
	}
	fs.byName[v.name] = append([]*fileVersion{v}, versions...)
	fs.byID[v.id] = v
	return nil
}

// hide adds the hide marker v as the newest version of its name, unless
// the name has no version or is already hidden (b2_hide_file docs' error
// table).
func (fs *fileSet) hide(v *fileVersion) *apiError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	versions := fs.byName[v.name]
	switch {
	case fs.closed:
		return badBucketID(v.bucketID)
	case len(versions) == 0:
		return newError(http.StatusBadRequest, "no_such_file", "File not present: %s", v.name)
	case versions[0].action == actionHide:
		return newError(http.StatusBadRequest, "already_hidden", "File already hidden: %s", v.name)
	}
	fs.byName[v.name] = append([]*fileVersion{v}, versions...)
	fs.byID[v.id] = v
	return nil
}

// remove deletes one version, named by id and file name as
// b2_delete_file_version takes them.
func (fs *fileSet) remove(id, name string) (*fileVersion, *apiError) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	v, ok := fs.byID[id]
	if !ok || v.name != name {
		return nil, newError(http.StatusBadRequest, "file_not_present", "File not present: %s %s", name, id)
	}
	delete(fs.byID, id)
	versions := slices.DeleteFunc(fs.byName[name], func(o *fileVersion) bool { return o == v })
	if len(versions) > 0 {
		fs.byName[name] = versions
	} else {
		delete(fs.byName, name)
		i, _ := slices.BinarySearch(fs.names, name)
		fs.names = slices.Delete(fs.names, i, i+1)
	}
	return v, nil
}

func (fs *fileSet) byFileID(id string) *fileVersion {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	return fs.byID[id]
}

// latest is what a download by name serves: the newest version, unless it
// is a hide marker.
func (fs *fileSet) latest(name string) *fileVersion {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	versions := fs.byName[name]
	if len(versions) == 0 || versions[0].action != actionUpload {
		return nil
	}
	return versions[0]
}

// close marks the set as gone, so no version can be added any more, and
// reports false, changing nothing, when it still holds a version: B2
// deletes only buckets that hold no version of any file (b2_delete_bucket
// docs).
func (fs *fileSet) close() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.byID) > 0 {
		return false
	}
	fs.closed = true
	return true
}

func (fs *fileSet) reopen() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.closed = false
}

// listQuery is one page of b2_list_file_names or b2_list_file_versions.
type listQuery struct {
	versions  bool // every version (b2_list_file_versions), not the visible names
	startName string
	startSeq  uint64 // with hasStartID: the first version of startName to list
	hasStart  bool
	max       int
	prefix    string
	delimiter string
	within    string // only names starting with this (v1's name prefix workaround)
}

// listEntry is a file version, or a folder when v is nil.
type listEntry struct {
	v      *fileVersion
	folder string
}

func (e listEntry) name() string {
	if e.v == nil {
		return e.folder
	}
	return e.v.name
}

// list returns a page of at most q.max entries, in B2's order (by name,
// bytewise; the versions of a name newest first), and the entry the next
// page starts with, if any. With a delimiter, the names that contain it
// after the prefix are replaced by one folder entry each, named up to and
// including the delimiter (b2_list_file_names docs, "Prefixes and
// Delimiters"); a folder is listed where its first name would have been.
func (fs *fileSet) list(q listQuery) ([]listEntry, *listEntry) {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	var page []listEntry
	var next *listEntry
	lastFolder := ""
	emit := func(e listEntry) bool {
		if len(page) == q.max {
			next = &e
			return false
		}
		page = append(page, e)
		return true
	}
	i, _ := slices.BinarySearch(fs.names, max(q.startName, q.prefix))
	for _, name := range fs.names[i:] {
		if !strings.HasPrefix(name, q.prefix) {
			break
		}
		if !strings.HasPrefix(name, q.within) {
			continue
		}
		versions := fs.byName[name]
		if !q.versions {
			if versions[0].action != actionUpload {
				continue
			}
			versions = versions[:1]
		} else if q.hasStart && name == q.startName {
			versions = slices.DeleteFunc(slices.Clone(versions), func(v *fileVersion) bool { return v.seq > q.startSeq })
			if len(versions) == 0 {
				continue
			}
		}
		if folder := folderOf(name, q.prefix, q.delimiter); folder != "" {
			if folder != lastFolder {
				lastFolder = folder
				if !emit(listEntry{folder: folder}) {
					break
				}
			}
			continue
		}
		for _, v := range versions {
			if !emit(listEntry{v: v}) {
				return page, next
			}
		}
	}
	return page, next
}

// folderOf is the folder a name is listed under, or "" if it is listed as
// itself.
func folderOf(name, prefix, delimiter string) string {
	if delimiter == "" {
		return ""
	}
	j := strings.Index(name[len(prefix):], delimiter)
	if j < 0 {
		return ""
	}
	return name[:len(prefix)+j+len(delimiter)]
}

// storage bounds what the emulator holds: the bytes of file content, and
// the number of file versions. Space is reserved before an upload's body is
// read, so concurrent uploads cannot pass the bounds together.
type storage struct {
	seq         atomic.Uint64 // the last version's sequence number
	mu          sync.Mutex
	maxBytes    int64
	maxVersions int
	bytes       int64
	versions    int
}

// reserve makes room for one version of n bytes or refuses, as B2 refuses
// an upload past the account's storage cap: 403 storage_cap_exceeded, the
// code b2sdk's interpret_b2_error maps to StorageCapExceeded. (B2's
// uploading guide spells it cap_exceeded; b2sdk, by Backblaze, matches
// storage_cap_exceeded, and so does the 2019 B2 CLI.)
func (s *storage) reserve(n int64) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.bytes+n > s.maxBytes:
		return newError(http.StatusForbidden, "storage_cap_exceeded", "Cannot upload files, storage cap exceeded: this emulator holds at most %d bytes of file content (storage_cap)", s.maxBytes)
	case s.versions+1 > s.maxVersions:
		return newError(http.StatusForbidden, "storage_cap_exceeded", "Cannot upload files, storage cap exceeded: this emulator holds at most %d file versions (max_file_versions)", s.maxVersions)
	}
	s.bytes += n
	s.versions++
	return nil
}

func (s *storage) release(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bytes -= n
	s.versions--
}

// view is the file object of B2's answers (b2_upload_file, b2_get_file_info,
// b2_hide_file and both lists), in the shape of recorded B2 traffic
// (rjframe/b2-client test_sessions/file.yaml): an upload carries
// fileRetention, legalHold and serverSideEncryption, a hide marker does not.
// File retention and legal hold are not modelled, so they are always unset.
func (v *fileVersion) view(p *principal) map[string]any {
	m := map[string]any{
		"accountId":       v.accountID,
		"action":          v.action,
		"bucketId":        v.bucketID,
		"contentLength":   len(v.data),
		"contentMd5":      v.md5,
		"contentSha1":     v.sha1,
		"contentType":     v.contentType,
		"fileId":          v.id,
		"fileInfo":        v.info,
		"fileName":        v.name,
		"uploadTimestamp": v.uploaded,
	}
	if v.action == actionUpload {
		m["fileRetention"] = guard(p.has["readFileRetentions"], map[string]any{"mode": nil, "retainUntilTimestamp": nil})
		m["legalHold"] = guard(p.has["readFileLegalHolds"], nil)
		m["serverSideEncryption"] = encryption{}
		if v.sse {
			m["serverSideEncryption"] = sseB2
		}
	}
	return m
}

var sseB2 = map[string]string{"algorithm": "AES256", "mode": "SSE-B2"}

// folderView is a folder entry of a list with a delimiter; B2 gives it no
// id, type, checksum or time.
func folderView(accountID, bucketID, name string) map[string]any {
	return map[string]any{
		"accountId":       accountID,
		"action":          actionFolder,
		"bucketId":        bucketID,
		"contentLength":   0,
		"contentMd5":      nil,
		"contentSha1":     nil,
		"contentType":     nil,
		"fileId":          nil,
		"fileInfo":        map[string]string{},
		"fileName":        name,
		"uploadTimestamp": 0,
	}
}
