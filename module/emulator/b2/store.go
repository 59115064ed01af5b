package b2emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// store holds every account's buckets.
//
// Locking: entry.mu serialises the changes to one bucket, and is held from
// reading its revision until the change is committed, which makes
// ifRevisionIs a true compare-and-set. store.mu guards the map and every
// commit, and the state file is written while it is held, so the file always
// matches memory and writes never interleave. Order: entry.mu, then store.mu.
type store struct {
	mu      sync.RWMutex
	entries map[string]*entry
	path    string
}

type entry struct {
	mu    sync.Mutex
	b     *bucket // replaced, never modified, while holding both mu and store.mu
	gone  bool
	files *fileSet // never written to the state file
}

func newEntry(b *bucket) *entry {
	return &entry{b: b, files: newFileSet()}
}

func newStore(path string) *store {
	return &store{entries: make(map[string]*entry), path: path}
}

func (s *store) put(b *bucket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[b.ID] = newEntry(b)
}

func (s *store) name(id string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.entries[id]
	if !ok {
		return "", false
	}
	return e.b.Name, true
}

// list returns the account's buckets that keep accepts, sorted by name.
func (s *store) list(accountID string, keep func(*bucket) bool) []*bucket {
	s.mu.RLock()
	var out []*bucket
	for _, e := range s.entries {
		if e.b.AccountID == accountID && keep(e.b) {
			out = append(out, e.b)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *bucket) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// byID finds a bucket by id, whatever its account: downloads from a public
// bucket come with no token.
func (s *store) byID(id string) *entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.entries[id]
}

// named finds a bucket by name, which is unique regardless of case.
func (s *store) named(name string) *entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.entries {
		if strings.EqualFold(e.b.Name, name) {
			return e
		}
	}
	return nil
}

// lookup finds a bucket of the account; another account's bucket is as
// absent as one that never existed.
func (s *store) lookup(accountID, id string) (*entry, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.entries[id]
	if !ok || e.b.AccountID != accountID {
		return nil, badBucketID(id)
	}
	return e, nil
}

func (s *store) create(b *bucket) (*bucket, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	count := 0
	for _, e := range s.entries {
		if strings.EqualFold(e.b.Name, b.Name) {
			return nil, newError(http.StatusBadRequest, "duplicate_bucket_name", "Bucket name is already in use.")
		}
		if e.b.AccountID == b.AccountID {
			count++
		}
	}
	if count >= maxBucketsPerAccount {
		return nil, newError(http.StatusBadRequest, "too_many_buckets", "an account may hold at most %d buckets", maxBucketsPerAccount)
	}
	for b.ID == "" || s.entries[b.ID] != nil {
		b.ID = newBucketID()
	}
	s.entries[b.ID] = newEntry(b)
	if aerr := s.persistLocked(); aerr != nil {
		delete(s.entries, b.ID)
		return nil, aerr
	}
	return b, nil
}

// update replaces a bucket with change(current), atomically with respect to
// every other change to that bucket.
func (s *store) update(accountID, id string, change func(*bucket) (*bucket, *apiError)) (*bucket, *apiError) {
	e, aerr := s.lookup(accountID, id)
	if aerr != nil {
		return nil, aerr
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return nil, badBucketID(id)
	}
	next, aerr := change(e.b)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := e.b
	e.b = next
	if aerr := s.persistLocked(); aerr != nil {
		e.b = prev
		return nil, aerr
	}
	return next, nil
}

func (s *store) remove(accountID, id string) (*bucket, *apiError) {
	e, aerr := s.lookup(accountID, id)
	if aerr != nil {
		return nil, aerr
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return nil, badBucketID(id)
	}
	if !e.files.close() {
		// The code b2sdk's integration helpers expect from B2
		// (_internal/testing/helpers/bucket_manager.py), documented on
		// b2_get_upload_part_url's page among the common errors.
		return nil, newError(http.StatusBadRequest, "cannot_delete_non_empty_bucket", "Cannot delete a bucket that holds file versions: delete every version of every file in it first")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, id)
	if aerr := s.persistLocked(); aerr != nil {
		s.entries[id] = e
		e.files.reopen()
		return nil, aerr
	}
	e.gone = true
	return e.b, nil
}

func newBucketID() string {
	var raw [12]byte
	_, _ = rand.Read(raw[:]) // never fails; see crypto/rand.Read
	return hex.EncodeToString(raw[:])
}

// stateFile is the state file's format.
type stateFile struct {
	Buckets []*bucket `json:"buckets"`
}

// persistLocked writes the state file; s.mu must be held for writing.
func (s *store) persistLocked() *apiError {
	if s.path == "" {
		return nil
	}
	sf := stateFile{Buckets: make([]*bucket, 0, len(s.entries))}
	for _, e := range s.entries {
		sf.Buckets = append(sf.Buckets, e.b)
	}
	slices.SortFunc(sf.Buckets, func(a, b *bucket) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(sf, "", "  ")
	if err == nil {
		err = writeFileAtomic(s.path, append(data, '\n'))
	}
	if err != nil {
		return newError(http.StatusInternalServerError, "internal_error", "the change could not be saved")
	}
	return nil
}

// rename is a variable so that tests can make the last step of a write fail.
var rename = os.Rename

// writeFileAtomic replaces path with data so that a crash at any point
// leaves either the old file or the new one, never a mix: the data goes to a
// temporary file in the same directory (so the rename cannot cross file
// systems), is synced, and is then renamed over path.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = rename(tmp.Name(), path); err != nil {
		return err
	}
	// Syncing the directory makes the rename itself durable. Some file
	// systems cannot sync a directory; the file is complete either way.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// load replaces the store's buckets with the state file's. It reports false,
// and changes nothing, when there is no state file yet.
func (s *store) load(accounts map[string]bool) (bool, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sf stateFile
	if err := dec.Decode(&sf); err != nil {
		return false, fmt.Errorf("%s: %v", s.path, err)
	}
	names := make(map[string]bool)
	for i, b := range sf.Buckets {
		switch {
		case b == nil || b.ID == "" || b.Name == "":
			return false, fmt.Errorf("%s: bucket %d has no bucketId or bucketName", s.path, i)
		case !accounts[b.AccountID]:
			return false, fmt.Errorf("%s: bucket %s belongs to account %q, which is not configured", s.path, b.ID, b.AccountID)
		case s.entries[b.ID] != nil:
			return false, fmt.Errorf("%s: bucket id %s appears more than once", s.path, b.ID)
		case names[strings.ToLower(b.Name)]:
			return false, fmt.Errorf("%s: bucket name %s appears more than once", s.path, b.Name)
		case b.Retention.Mode != nil && b.Retention.Period == nil:
			return false, fmt.Errorf("%s: bucket %s has a defaultRetention mode without a period", s.path, b.ID)
		case b.Revision < 1:
			return false, fmt.Errorf("%s: bucket %s has revision %d; revisions start at 1", s.path, b.ID, b.Revision)
		}
		names[strings.ToLower(b.Name)] = true
		normalize(b)
		s.entries[b.ID] = newEntry(b)
	}
	return true, nil
}

// normalize gives a hand-edited bucket the empty collections B2 always
// reports instead of nulls.
func normalize(b *bucket) {
	if b.Info == nil {
		b.Info = map[string]string{}
	}
	if b.CORSRules == nil {
		b.CORSRules = []corsRule{}
	}
	if b.LifecycleRules == nil {
		b.LifecycleRules = []lifecycleRule{}
	}
	if b.Options == nil {
		b.Options = []string{}
	}
}
