package flashbackemulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgate/bucketgate/module/emulator/internal/corpus"
)

// corpusCase is one line of a Flashback corpus under testdata/conformance: a
// body the TypeScript client sends or the docs show, and Flashback's answer.
type corpusCase struct {
	Name   string          `json:"name"`
	Source string          `json:"source"`
	Bucket map[string]any  `json:"bucket"` // POST /bucket fields of the bucket made first
	Body   json.RawMessage `json:"body"`
	ID     string          `json:"id"` // the path id of a delete
	Want   struct {
		Status int `json:"status"`
	} `json:"want"`
}

func readCorpus(t *testing.T, file string) []corpusCase {
	t.Helper()
	cases, err := corpus.Read("../../../testdata/conformance/"+file, func(c corpusCase) error {
		if c.Name == "" || c.Source == "" || (len(c.Body) == 0) == (c.ID == "") || c.Want.Status == 0 {
			return errors.New("a case needs a name, a source, a body or a path id, and Flashback's answer")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

const (
	corpusWorkspace = "corpus-workspace"
	corpusToken     = "corpus-token"
)

// corpusServer serves an emulator with one workspace, empty, and a user who
// may write in it, as the corpus expects.
type corpusServer struct {
	url   string
	names int
}

func newCorpusServer(t *testing.T) *corpusServer {
	e := start(t, &Emulator{
		Workspaces: []string{corpusWorkspace},
		Users:      []User{{Token: corpusToken, Roles: map[string]string{corpusWorkspace: "WRITE"}}},
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = e.ServeHTTP(w, r, nil) }))
	t.Cleanup(srv.Close)
	return &corpusServer{url: srv.URL}
}

// do calls the emulator as the TypeScript client's makeRequest does:
// Content-Type only with a body.
func (s *corpusServer) do(t *testing.T, method, path, body string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+corpusToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var reply map[string]any
	if err := json.Unmarshal(raw, &reply); err != nil {
		t.Fatalf("%s %s: the answer is not a JSON object: %s", method, path, raw)
	}
	if reply["success"] != (resp.StatusCode == http.StatusOK) {
		t.Errorf("%s %s: status %d with success %v", method, path, resp.StatusCode, reply["success"])
	}
	return resp.StatusCode, reply, string(raw)
}

// freshName is a provider bucket name of lowercase letters and digits that no
// bucket has, as the corpus's $BUCKET_NAME promises.
func (s *corpusServer) freshName() string {
	s.names++
	return fmt.Sprintf("corpus%dbucket", s.names)
}

func (s *corpusServer) listed(t *testing.T, id string) bool {
	t.Helper()
	_, reply, _ := s.do(t, http.MethodGet, "/bucket", "")
	buckets, _ := reply["buckets"].([]any)
	return slices.ContainsFunc(buckets, func(b any) bool { return b.(map[string]any)["id"] == id })
}

func (s *corpusServer) remove(t *testing.T, id string) {
	t.Helper()
	if status, _, raw := s.do(t, http.MethodDelete, "/bucket/"+id, ""); status != http.StatusOK {
		t.Fatalf("deleting bucket %s: %d %s", id, status, raw)
	}
}

// TestCreateBucketCorpus holds the emulator to Flashback's answer for every
// POST /bucket case of the corpus. A success answers exactly
// {success, bucketId}, with the id of a bucket now listed, which is then
// deleted again.
func TestCreateBucketCorpus(t *testing.T) {
	cases := readCorpus(t, "flashback_create_bucket.jsonl")
	if len(cases) < 25 {
		t.Fatalf("the corpus has %d cases; it must keep at least 25", len(cases))
	}
	s := newCorpusServer(t)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			body := strings.NewReplacer("$WORKSPACE_ID", corpusWorkspace, "$BUCKET_NAME", s.freshName()).Replace(string(tc.Body))
			status, reply, raw := s.do(t, http.MethodPost, "/bucket", body)
			if status != tc.Want.Status {
				t.Fatalf("got %d %.300s; Flashback answers %d (source: %s)", status, raw, tc.Want.Status, tc.Source)
			}
			if status != http.StatusOK {
				return
			}
			id, _ := reply["bucketId"].(string)
			if keys := slices.Sorted(maps.Keys(reply)); !slices.Equal(keys, []string{"bucketId", "success"}) || !isUUID(id) || !s.listed(t, id) {
				t.Fatalf("the answer is not {success, bucketId} of a new bucket: %s", raw)
			}
			s.remove(t, id)
		})
	}
}

// TestDeleteBucketCorpus holds the emulator to Flashback's answer for every
// DELETE /bucket/{id} case of the corpus, each next to a bucket made for it.
func TestDeleteBucketCorpus(t *testing.T) {
	cases := readCorpus(t, "flashback_delete_bucket.jsonl")
	s := newCorpusServer(t)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			create := map[string]any{"name": "Corpus", "storageType": "S3", "bucket": s.freshName(), "workspaceId": corpusWorkspace,
				"key": "AKIAIOSFODNN7EXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
			maps.Copy(create, tc.Bucket)
			raw, _ := json.Marshal(create)
			status, reply, answer := s.do(t, http.MethodPost, "/bucket", string(raw))
			if status != http.StatusOK {
				t.Fatalf("creating the bucket: %d %s", status, answer)
			}
			made := reply["bucketId"].(string)
			id := strings.ReplaceAll(tc.ID, "$BUCKET_ID", made)
			if status, _, answer = s.do(t, http.MethodDelete, "/bucket/"+id, ""); status != tc.Want.Status {
				t.Fatalf("got %d %.300s; Flashback answers %d (source: %s)", status, answer, tc.Want.Status, tc.Source)
			}
			if gone := !s.listed(t, made); gone != (id == made && status == http.StatusOK) {
				t.Fatalf("after the answer %d the bucket is listed: %v", status, !gone)
			}
			if status != http.StatusOK {
				s.remove(t, made)
			}
		})
	}
}
