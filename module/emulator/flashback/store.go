package flashbackemulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// store is the bucket table. One mutex serialises every change and the
// state-file write that goes with it: more than the per-bucket ordering the
// API needs, and simple enough to trust.
type store struct {
	mu      sync.Mutex
	buckets map[string]record
	file    string // "" when the table lives in memory only
}

// stateDoc is the state file's content.
type stateDoc struct {
	Buckets []record `json:"buckets"`
}

// commit applies change to a copy of the table and makes the copy current
// only once the state file holds it, so a failed write leaves memory and file
// as they were. The caller holds mu.
func (s *store) commit(change func(map[string]record)) error {
	next := maps.Clone(s.buckets)
	change(next)
	if s.file != "" {
		if err := writeState(s.file, sorted(next)); err != nil {
			return err
		}
	}
	s.buckets = next
	return nil
}

// sorted orders buckets oldest first, so listings and the state file are
// stable.
func sorted(m map[string]record) []record {
	return slices.SortedFunc(maps.Values(m), func(a, b record) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
}

// readState loads the state file; found is false if there is none yet. A file
// that names an undeclared workspace is refused rather than loaded with
// buckets no one could see.
func readState(path string, workspaces map[string]bool) (buckets map[string]record, found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var doc stateDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, false, fmt.Errorf("%s: %v", path, err)
	}
	buckets = make(map[string]record, len(doc.Buckets))
	for i, rec := range doc.Buckets {
		switch _, dup := buckets[rec.ID]; {
		case !isUUID(rec.ID):
			return nil, false, fmt.Errorf("%s: buckets[%d]: id is not a lowercase UUID", path, i)
		case dup:
			return nil, false, fmt.Errorf("%s: buckets[%d]: id %s appears twice", path, i, rec.ID)
		case !workspaces[rec.WorkspaceID]:
			return nil, false, fmt.Errorf("%s: bucket %s: workspace %q is not declared", path, rec.ID, rec.WorkspaceID)
		}
		buckets[rec.ID] = rec
	}
	return buckets, true, nil
}

// rename is os.Rename; tests replace it to stop a write just before the new
// file would take the old one's place.
var rename = os.Rename

// writeState replaces the file so that a crash at any point leaves either the
// old content or the new, never a mix: the new content goes to a temporary
// file in the same directory (so the rename cannot cross file systems), is
// synced, and is then renamed over the old.
func writeState(path string, recs []record) error {
	data, err := json.MarshalIndent(stateDoc{Buckets: recs}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return err
	}
	if err := rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename is durable only once the directory is synced. Best effort:
	// the new file is already in place, and some file systems refuse.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
