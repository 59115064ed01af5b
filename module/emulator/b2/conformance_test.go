package b2emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/bucketgate/bucketgate/module/emulator/internal/corpus"
)

// corpusCase is one line of a B2 corpus under testdata/conformance: a body a
// real client sends or B2 documents, and B2's answer to it.
type corpusCase struct {
	Name   string          `json:"name"`
	Source string          `json:"source"`
	Bucket map[string]any  `json:"bucket"` // b2_create_bucket settings of the bucket made first
	Body   json.RawMessage `json:"body"`
	Want   struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	} `json:"want"`
}

func readCorpus(t *testing.T, file string) []corpusCase {
	t.Helper()
	cases, err := corpus.Read("../../../testdata/conformance/"+file, func(c corpusCase) error {
		if c.Name == "" || c.Source == "" || len(c.Body) == 0 || c.Want.Status == 0 || (c.Want.Status != 200) == (c.Want.Code == "") {
			return errors.New("a case needs a name, a source, a body and B2's answer (a code exactly when it is an error)")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// corpusClient is a signed-in client of an emulator served over HTTP.
type corpusClient struct {
	apiURL, token, acctID string
	names                 int
}

// newCorpusClient serves an account that starts with no buckets, as the
// corpus expects, and signs in with a key that may do everything.
func newCorpusClient(t *testing.T) *corpusClient {
	h := newEmulator(t, func(h *Emulator) {
		h.Accounts = []Account{{ID: "corpus-account", Keys: []Key{{ID: "master-id", Secret: "master-secret", Capabilities: []string{"all"}}}}}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = h.ServeHTTP(w, r, failNext) }))
	t.Cleanup(srv.Close)
	c := &corpusClient{}
	status, body := c.do(t, http.MethodGet, srv.URL+"/b2api/v3/b2_authorize_account", "", basic("master-id", "master-secret"))
	var a struct {
		AccountID          string `json:"accountId"`
		AuthorizationToken string `json:"authorizationToken"`
		APIInfo            struct {
			StorageAPI struct {
				APIURL string `json:"apiUrl"`
			} `json:"storageApi"`
		} `json:"apiInfo"`
	}
	if err := json.Unmarshal(body, &a); status != 200 || err != nil {
		t.Fatalf("authorize: %d %s", status, body)
	}
	c.apiURL, c.token, c.acctID = a.APIInfo.StorageAPI.APIURL, a.AuthorizationToken, a.AccountID
	return c
}

func (c *corpusClient) do(t *testing.T, method, target, body, auth string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, answer
}

func (c *corpusClient) call(t *testing.T, name, body string) (int, []byte) {
	t.Helper()
	return c.do(t, http.MethodPost, c.apiURL+"/b2api/v3/"+name, body, c.token)
}

// freshName is a bucket name of lowercase letters and digits no bucket has,
// as the corpus's $BUCKET_NAME promises.
func (c *corpusClient) freshName() string {
	c.names++
	return fmt.Sprintf("corpus%dbucket", c.names)
}

func (c *corpusClient) createBucket(t *testing.T, settings map[string]any) string {
	t.Helper()
	req := map[string]any{"accountId": c.acctID, "bucketName": c.freshName(), "bucketType": "allPrivate"}
	for k, v := range settings {
		req[k] = v
	}
	raw, _ := json.Marshal(req)
	status, body := c.call(t, "b2_create_bucket", string(raw))
	var b struct {
		BucketID string `json:"bucketId"`
	}
	if err := json.Unmarshal(body, &b); status != 200 || err != nil {
		t.Fatalf("creating the bucket: %d %s", status, body)
	}
	return b.BucketID
}

func (c *corpusClient) deleteBucket(t *testing.T, id string) {
	t.Helper()
	if status, body := c.call(t, "b2_delete_bucket", `{"accountId":"`+c.acctID+`","bucketId":"`+id+`"}`); status != 200 {
		t.Fatalf("deleting bucket %s: %d %s", id, status, body)
	}
}

func fill(body json.RawMessage, values ...string) string {
	return strings.NewReplacer(values...).Replace(string(body))
}

// answer is what the corpus compares: the status, B2's error code, and the
// bucket a success returns.
type answer struct {
	Code       string `json:"code"`
	BucketID   string `json:"bucketId"`
	BucketName string `json:"bucketName"`
}

func check(t *testing.T, c corpusCase, status int, raw []byte) answer {
	t.Helper()
	var got answer
	_ = json.Unmarshal(raw, &got)
	if status != c.Want.Status || got.Code != c.Want.Code {
		t.Errorf("got %d %.300s; B2 answers %d %s (source: %s)", status, raw, c.Want.Status, c.Want.Code, c.Source)
	}
	return got
}

// asQuery turns a body into the GET form B2 documents for the same call:
// string parameters as they are, every other value as JSON text. A body
// whose string parameters are not all strings has no GET form, and nulls
// are left out, which B2 reads the same.
func asQuery(body string, strParams ...string) (string, bool) {
	var doc map[string]any
	if json.Unmarshal([]byte(body), &doc) != nil {
		return "", false
	}
	q := url.Values{}
	for k, v := range doc {
		switch s, isString := v.(string); {
		case v == nil:
		case isString && slices.Contains(strParams, k):
			q.Set(k, s)
		case slices.Contains(strParams, k):
			return "", false
		default:
			raw, _ := json.Marshal(v)
			q.Set(k, string(raw))
		}
	}
	return q.Encode(), true
}

// TestCreateBucketCorpus holds the emulator to B2's answer for every
// b2_create_bucket case of the corpus, as POST and, where the body has one,
// in the GET form. A bucket a case creates must come back under the name
// asked for, and is deleted again.
func TestCreateBucketCorpus(t *testing.T) {
	cases := readCorpus(t, "b2_create_bucket.jsonl")
	if len(cases) < 40 {
		t.Fatalf("the corpus has %d cases; it must keep at least 40", len(cases))
	}
	c := newCorpusClient(t)
	for _, form := range []string{"POST", "GET"} {
		t.Run(form, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.Name, func(t *testing.T) {
					name := c.freshName()
					body := fill(tc.Body, "$ACCOUNT_ID", c.acctID, "$BUCKET_NAME", name)
					var status int
					var raw []byte
					if form == "POST" {
						status, raw = c.call(t, "b2_create_bucket", body)
					} else {
						query, ok := asQuery(body, "accountId", "bucketName", "bucketType")
						if !ok {
							t.Skip("no GET form: a string parameter is not a string")
						}
						status, raw = c.do(t, http.MethodGet, c.apiURL+"/b2api/v3/b2_create_bucket?"+query, "", c.token)
					}
					got := check(t, tc, status, raw)
					if status != 200 {
						return
					}
					var sent struct {
						BucketName string `json:"bucketName"`
					}
					_ = json.Unmarshal([]byte(body), &sent)
					if got.BucketID == "" || got.BucketName != sent.BucketName {
						t.Errorf("the answer is not the new bucket %s: %.300s", sent.BucketName, raw)
					}
					c.deleteBucket(t, got.BucketID)
				})
			}
		})
	}
}

// TestDeleteBucketCorpus holds the emulator to B2's answer for every
// b2_delete_bucket case of the corpus, each on a bucket made for it.
func TestDeleteBucketCorpus(t *testing.T) {
	cases := readCorpus(t, "b2_delete_bucket.jsonl")
	c := newCorpusClient(t)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			id := c.createBucket(t, tc.Bucket)
			status, raw := c.call(t, "b2_delete_bucket", fill(tc.Body, "$ACCOUNT_ID", c.acctID, "$BUCKET_ID", id, "$BUCKET_NAME", c.freshName()))
			if got := check(t, tc, status, raw); status == 200 && got.BucketID != id {
				t.Errorf("the answer is not the deleted bucket %s: %.300s", id, raw)
			}
			if status != 200 {
				c.deleteBucket(t, id)
			}
		})
	}
}
