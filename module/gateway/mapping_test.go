package gateway

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/bucketgate/bucketgate/internal/b2"
	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/flashback"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// mapping is the translation table: each row is a line of docs/translation.md's
// table and the examples that hold the code to it. An example's want is the
// translated call ("PUT /bucket/<id> <body>" or a B2 body), "nothing" when
// the upstream has nothing to change, or "refused: <part of the message>".
var mapping = []struct {
	flashback, b2, toB2, toFlashback string
	fromFlashback, fromB2            []example
}{
	{"`{bucketId}` (path)", "`bucketId`", "the same id", "the same id",
		[]example{{`{"name":"Backups"}`, `"bucketId":"b1"`}},
		[]example{{`{"bucketId":"b1","bucketInfo":{"name":"Backups"}}`, `PUT /bucket/b1 {"name":"Backups"}`}}},
	{"`name`", "`bucketInfo.name` (`name_info_key`)", "set in bucketInfo, merged with its other entries", "becomes `name`",
		[]example{{`{"name":"Backups"}`, `{"accountId":"acct","bucketId":"b1","bucketInfo":{"name":"Backups","owner":"ops","workspaceId":"ws"},"ifRevisionIs":3}`}},
		[]example{{`{"bucketId":"b1","bucketInfo":{"name":"Backups"}}`, `PUT /bucket/b1 {"name":"Backups"}`}}},
	{"`workspaceId`", "`bucketInfo.workspaceId` (`workspace_info_key`)", "set in bucketInfo, merged; the key needs WRITE on both workspaces", "becomes `workspaceId`; the key needs WRITE on both workspaces",
		[]example{{`{"workspaceId":"ws2"}`, `{"accountId":"acct","bucketId":"b1","bucketInfo":{"name":"Demo","owner":"ops","workspaceId":"ws2"},"ifRevisionIs":3}`}},
		[]example{{`{"bucketId":"b1","bucketInfo":{"name":"Demo","workspaceId":"ws2"}}`, `PUT /bucket/b1 {"name":"Demo","workspaceId":"ws2"}`}}},
	{"`bucket`", "`bucketName`", "the bucket's own name changes nothing; another is refused (B2 cannot rename a bucket)", "—",
		[]example{{`{"bucket":"demo-bucket"}`, "nothing"}, {`{"bucket":"other-bucket"}`, "refused: B2 cannot rename a bucket"}},
		nil},
	{"`storageType`", "—", "`S3` changes nothing; `GCS` and `BLOB` are refused", "—",
		[]example{{`{"storageType":"S3"}`, "nothing"}, {`{"storageType":"GCS"}`, "refused: B2 is reached as S3"}, {`{"storageType":"BLOB"}`, "refused: B2 is reached as S3"}},
		nil},
	{"`region`", "the region of B2's S3 endpoint", "the upstream's changes nothing; another is refused", "—",
		[]example{{`{"region":"us-west-004"}`, "nothing"}, {`{"region":"eu-central-003"}`, "refused: must be the B2 upstream's region, us-west-004"}},
		nil},
	{"`endpoint`", "B2's S3 endpoint", "the upstream's changes nothing; another is refused", "—",
		[]example{{`{"endpoint":"https://s3.us-west-004.backblazeb2.com"}`, "nothing"}, {`{"endpoint":"https://s3.amazonaws.com"}`, "refused: must be the B2 upstream's S3 endpoint"}},
		nil},
	{"`key`, `secret`, `apiKeyUuid`, `walletAddress`", "—", "refused: B2 keeps bucketInfo unencrypted, so credentials never go there", "—",
		[]example{{`{"key":"AKIAEXAMPLE"}`, "refused: credentials are never stored there"}, {`{"secret":"wJalrEXAMPLE"}`, "refused: secret: B2 keeps bucketInfo unencrypted"},
			{`{"apiKeyUuid":"0f8fad5b-d9cb-469f-a165-70867728950e"}`, "refused: credentials"}, {`{"walletAddress":"GABC"}`, "refused: credentials"}},
		nil},
	{"—", "`bucketType`", "—", "`allPrivate` changes nothing (a Flashback bucket is private); `allPublic` is refused",
		nil,
		[]example{{`{"bucketId":"b1","bucketType":"allPrivate"}`, "nothing"}, {`{"bucketId":"b1","bucketType":"allPublic"}`, "refused: cannot be made public"}}},
	{"—", "other `bucketInfo` entries", "kept as they are", "refused: Flashback has nowhere to keep them",
		nil,
		[]example{{`{"bucketId":"b1","bucketInfo":{"owner":"ops"}}`, "refused: has nowhere to go"}}},
	{"—", "`corsRules`, `lifecycleRules`", "kept as they are", "`[]` changes nothing; rules are refused",
		nil,
		[]example{{`{"bucketId":"b1","corsRules":[],"lifecycleRules":[]}`, "nothing"},
			{`{"bucketId":"b1","lifecycleRules":[{"fileNamePrefix":"","daysFromHidingToDeleting":1}]}`, "refused: Flashback has no such setting"}}},
	{"—", "`defaultServerSideEncryption`, `defaultRetention`", "kept as they are", "mode `null` or `none` changes nothing; a mode is refused",
		nil,
		[]example{{`{"bucketId":"b1","defaultServerSideEncryption":{"mode":"none"},"defaultRetention":{"mode":null}}`, "nothing"},
			{`{"bucketId":"b1","defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"}}`, "refused: Flashback has no such setting"}}},
	{"—", "`fileLockEnabled`", "kept as it is", "`false` changes nothing; `true` is refused",
		nil,
		[]example{{`{"bucketId":"b1","fileLockEnabled":false}`, "nothing"}, {`{"bucketId":"b1","fileLockEnabled":true}`, "refused: fileLockEnabled"}}},
	{"—", "`replicationConfiguration`", "kept as it is", "both sides `null` changes nothing; a rule is refused",
		nil,
		[]example{{`{"bucketId":"b1","replicationConfiguration":{"asReplicationSource":null,"asReplicationDestination":null}}`, "nothing"},
			{`{"bucketId":"b1","replicationConfiguration":{"asReplicationDestination":{"sourceToDestinationKeyMapping":{"a":"b"}}}}`, "refused: replicationConfiguration"}}},
	{"—", "`accountId`", "the upstream account's", "not sent (B2 clients see the account `flashback`)",
		[]example{{`{"name":"Backups"}`, `"accountId":"acct"`}},
		[]example{{`{"accountId":"flashback","bucketId":"b1","bucketInfo":{"name":"Backups"}}`, `PUT /bucket/b1 {"name":"Backups"}`}}},
	{"`If-Match`", "`ifRevisionIs`", "the revision read is sent as `ifRevisionIs`; a writer in between means read and merge again (up to 5 times); with `If-Match`, 412 instead", "compared with the revision the gateway derives: `ifRevisionIs` gets 409, `If-Match` 412, and nothing is written",
		[]example{{`{"name":"Backups"}`, `"ifRevisionIs":3`}},
		nil},
}

type example struct{ body, want string }

// renderMapping is the table as docs/translation.md shows it.
func renderMapping() string {
	var b strings.Builder
	b.WriteString("| Flashback | B2 | Flashback client → B2 upstream | B2 client → Flashback upstream |\n|---|---|---|---|\n")
	for _, row := range mapping {
		b.WriteString("| " + strings.Join([]string{row.flashback, row.b2, row.toB2, row.toFlashback}, " | ") + " |\n")
	}
	return b.String()
}

// TestMappingTableIsTheDocs holds the table in docs/translation.md to the
// one tested here.
func TestMappingTableIsTheDocs(t *testing.T) {
	readme, err := os.ReadFile("../../docs/translation.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- mapping:start -->\n")
	table, _, ok2 := strings.Cut(rest, "<!-- mapping:end -->")
	if !ok || !ok2 {
		t.Fatal("docs/translation.md has no mapping table markers")
	}
	if strings.TrimSpace(table) != strings.TrimSpace(renderMapping()) {
		t.Errorf("docs/translation.md's mapping table differs from the tested one; it should read:\n%s", renderMapping())
	}
}

// The bucket each example translates onto.
var (
	currentB2 = dialect.Bucket{ID: "b1", AccountID: "acct", ProviderName: "demo-bucket", StorageType: "S3", Name: "Demo", Workspace: "ws",
		Info: map[string]string{"owner": "ops"}, Revision: 3, Endpoint: "https://s3.us-west-004.backblazeb2.com"}
	currentFlashback = dialect.Bucket{ID: "b1", AccountID: "flashback", ProviderName: "demo-bucket", StorageType: "S3", Name: "Demo", Workspace: "ws", Revision: 99}
)

func translators(t testing.TB) (*flashback.Dialect, *b2.Dialect) {
	t.Helper()
	opts := dialect.Options{Limits: jsonscan.DefaultLimits}
	fb, err := flashback.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := b2.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return fb, bb
}

// translate decodes and validates body as a from-client update, translates
// it onto current for to, and renders the result.
func translate(from, to dialect.Dialect, r *http.Request, body string, current dialect.Bucket) (string, *dialect.Error) {
	call, _ := from.Match(r)
	u, derr := from.Decode(r, call, func() ([]byte, *dialect.Error) { return []byte(body), nil })
	if derr == nil {
		derr = from.Validate(u)
	}
	if derr != nil {
		return "", derr
	}
	out, vs := to.(dialect.Translator).FromChange(from.(dialect.Translator).ToChange(u), current)
	if len(vs) > 0 {
		return "", dialect.Invalid(vs)
	}
	if out == nil {
		return "nothing", nil
	}
	if derr := to.Validate(out); derr != nil {
		return "", &dialect.Error{Kind: dialect.UpstreamFailed, Message: "the upstream's schema refuses the translation: " + derr.Message}
	}
	b, _ := out.Body()
	if to.Name() == "flashback" {
		return "PUT /bucket/" + to.BucketID(out) + " " + string(b), nil
	}
	return string(b), nil
}

func TestMappingExamples(t *testing.T) {
	fb, bb := translators(t)
	check := func(t *testing.T, got string, derr *dialect.Error, want string) {
		t.Helper()
		if refusal, ok := strings.CutPrefix(want, "refused: "); ok {
			if derr == nil || derr.Kind != dialect.BadRequest || !strings.Contains(derr.Message, refusal) {
				t.Errorf("got %q %v, want a refusal saying %q", got, derr, refusal)
			}
			return
		}
		if derr != nil || !strings.Contains(got, want) {
			t.Errorf("got %q %v, want %q", got, derr, want)
		}
	}
	for _, row := range mapping {
		for _, ex := range row.fromFlashback {
			t.Run("Flashback "+ex.body, func(t *testing.T) {
				r := httptest.NewRequest(http.MethodPut, "/bucket/b1", strings.NewReader(ex.body))
				got, derr := translate(fb, bb, r, ex.body, currentB2)
				check(t, got, derr, ex.want)
			})
		}
		for _, ex := range row.fromB2 {
			t.Run("B2 "+ex.body, func(t *testing.T) {
				r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(ex.body))
				got, derr := translate(bb, fb, r, ex.body, currentFlashback)
				check(t, got, derr, ex.want)
			})
		}
	}
}

// FuzzTranslate: no body makes a translator panic, and nothing a translator
// produces is refused by the upstream dialect's own schema and rules.
func FuzzTranslate(f *testing.F) {
	for _, row := range mapping {
		for _, ex := range row.fromFlashback {
			f.Add(true, ex.body)
		}
		for _, ex := range row.fromB2 {
			f.Add(false, ex.body)
		}
	}
	fb, bb := translators(f)
	f.Fuzz(func(t *testing.T, fromFlashback bool, body string) {
		var derr *dialect.Error
		if fromFlashback {
			_, derr = translate(fb, bb, httptest.NewRequest(http.MethodPut, "/bucket/b1", nil), body, currentB2)
		} else {
			_, derr = translate(bb, fb, httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", nil), body, currentFlashback)
		}
		if derr != nil && derr.Kind == dialect.UpstreamFailed {
			t.Fatalf("%s", derr.Message)
		}
	})
}
