package flashbackemulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxBody bounds what is read of a request body: about seven times a body
// with every field at its longest, written plainly, so only abuse (or escaping
// every character) reaches it.
const maxBody = 100 << 10

// body is a create or update request: each field sent, by its wire name.
type body map[string]string

// field is what the emulator knows about one body field. Messages never
// quote a value: a refused body may well carry a credential.
type field struct {
	wire     string // name in request bodies
	conf     string // name in this module's configuration
	max      int    // longest value, in characters
	required bool   // on create
	empty    bool   // "" allowed: the provider's default endpoint or region
	check    func(string) string
	onCreate []string // further values a create (not an update) may use
	set      func(*record, string)
}

var fields = []field{
	{wire: "name", conf: "name", max: 255, required: true,
		set: func(r *record, v string) { r.Name = v }},
	// POST /bucket's reference lists AZURE where the client and PUT's
	// reference say BLOB; a new bucket may be either.
	{wire: "storageType", conf: "storage_type", max: 255, required: true, check: checkStorageType, onCreate: []string{"AZURE"},
		set: func(r *record, v string) { r.StorageType = v }},
	// The naming rule depends on storageType, so checkBody applies it.
	{wire: "bucket", conf: "bucket", max: 255, required: true,
		set: func(r *record, v string) { r.Bucket = v }},
	// Long enough for an IAM role ARN, which S3 accepts in place of an access key.
	{wire: "key", conf: "key", max: 2048,
		set: func(r *record, v string) { r.Key = v }},
	{wire: "secret", conf: "secret", max: 8192,
		set: func(r *record, v string) { r.SecretSHA256 = digest(v) }},
	{wire: "region", conf: "region", max: 64, empty: true,
		set: func(r *record, v string) { r.Region = v }},
	{wire: "endpoint", conf: "endpoint", max: 2048, empty: true, check: checkEndpoint,
		set: func(r *record, v string) { r.Endpoint = v }},
	{wire: "workspaceId", conf: "workspace", max: 255, required: true,
		set: func(r *record, v string) { r.WorkspaceID = v }},
	{wire: "walletAddress", conf: "wallet_address", max: 255,
		set: func(r *record, v string) { r.WalletAddress = v }},
	{wire: "apiKeyUuid", conf: "api_key_id", max: 255, check: checkUUID,
		set: func(r *record, v string) { r.APIKeyID = v }},
}

func lookupField(wire string) (field, bool) {
	for _, f := range fields {
		if f.wire == wire {
			return f, true
		}
	}
	return field{}, false
}

func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// readBody reads a create or update body without judging it yet, so that a
// caller who may not write the bucket learns nothing from the verdict.
func readBody(r *http.Request) ([]byte, *refusal) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, refuse(http.StatusBadRequest, "Content-Type: must be application/json")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "body: could not be read")
	}
	if len(raw) > maxBody {
		return nil, refuse(http.StatusRequestEntityTooLarge, "body: larger than %d bytes", maxBody)
	}
	return raw, nil
}

// parseBody is stricter than a plain JSON decode: a duplicate or unknown
// field, a value that is not a string and data after the object are refused
// instead of being resolved silently, so a gateway that forwards such a body
// is caught.
func parseBody(raw []byte) (body, *refusal) {
	if !utf8.Valid(raw) {
		return nil, refuse(http.StatusBadRequest, "body: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil && err != io.EOF {
		return nil, malformed(err)
	}
	if tok != json.Delim('{') {
		return nil, refuse(http.StatusBadRequest, "body: must be a JSON object")
	}
	b := body{}
	for dec.More() {
		tok, err = dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		name, _ := tok.(string)
		if _, known := lookupField(name); !known {
			return nil, refuse(http.StatusBadRequest, "%s: unknown field", label(name))
		}
		if _, dup := b[name]; dup {
			return nil, refuse(http.StatusBadRequest, "%s: duplicate field", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, malformed(err)
		}
		var s string
		if v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return nil, refuse(http.StatusBadRequest, "%s: must be a string", name)
		}
		b[name] = s
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, refuse(http.StatusBadRequest, "body: unexpected data after the JSON object")
	}
	return b, nil
}

// malformed reports where the JSON broke; the decoder's own message is left
// out because it quotes the offending input.
func malformed(err error) *refusal {
	if syn, ok := errors.AsType[*json.SyntaxError](err); ok {
		return refuse(http.StatusBadRequest, "body: not valid JSON (at byte %d)", syn.Offset)
	}
	return refuse(http.StatusBadRequest, "body: not valid JSON")
}

var fieldLike = regexp.MustCompile(`^[a-z][A-Za-z0-9_]{0,39}$`)

// label names an unknown field only when it looks like a field name: a
// credential pasted in the wrong place (AWS keys start with capitals) must not
// come back in the answer.
func label(name string) string {
	if fieldLike.MatchString(name) {
		return name
	}
	return "body"
}

// problem is one thing wrong with a body, against the wire name of a field.
type problem struct{ field, msg string }

type problems []problem

// String lists the problems by wire name, as clients see them.
func (ps problems) String() string {
	return ps.join(func(f field) string { return f.wire })
}

// config lists the problems by configuration name, for seeded buckets.
func (ps problems) config() string {
	return ps.join(func(f field) string { return f.conf })
}

func (ps problems) join(name func(field) string) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		n := p.field
		if f, ok := lookupField(p.field); ok {
			n = name(f)
		}
		parts[i] = n + ": " + p.msg
	}
	return strings.Join(parts, "; ")
}

func (ps problems) has(wire string) bool {
	for _, p := range ps {
		if p.field == wire {
			return true
		}
	}
	return false
}

// checkBody judges a create body (cur == nil) or an update of cur. The bucket
// naming rule is judged on the merged result, since an update may change the
// storage type, the name or both.
func checkBody(b body, cur *record) problems {
	if cur != nil && len(b) == 0 {
		return problems{{"body", "no fields to update"}}
	}
	var ps problems
	for _, f := range fields {
		v, sent := b[f.wire]
		switch {
		case sent && cur == nil && slices.Contains(f.onCreate, v):
		case sent:
			if msg := f.validate(v); msg != "" {
				ps = append(ps, problem{f.wire, msg})
			}
		case cur == nil && f.required:
			ps = append(ps, problem{f.wire, "is required"})
		}
	}

	typ, sentType := b["storageType"]
	name, sentName := b["bucket"]
	if cur != nil {
		if !sentType {
			typ = cur.StorageType
		}
		if !sentName {
			name = cur.Bucket
		}
	}
	if (sentType || sentName) && typ != "" && name != "" && !ps.has("storageType") && !ps.has("bucket") {
		if msg := checkBucketName(typ, name); msg != "" {
			ps = append(ps, problem{"bucket", msg})
		}
	}
	return ps
}

// credentials reports a create body that names no way to reach the bucket:
// POST's reference requires key and secret, and the client's newer type
// lets a stored provider key (apiKeyUuid) stand in for both.
func credentials(b body) problems {
	if _, stored := b["apiKeyUuid"]; stored {
		return nil
	}
	var ps problems
	for _, name := range []string{"key", "secret"} {
		if _, sent := b[name]; !sent {
			ps = append(ps, problem{name, "is required unless apiKeyUuid is given"})
		}
	}
	return ps
}

func (f field) validate(v string) string {
	switch {
	case v == "" && f.empty:
		return ""
	case v == "":
		return "must not be empty"
	case utf8.RuneCountInString(v) > f.max:
		return fmt.Sprintf("must be at most %d characters", f.max)
	case f.check != nil:
		return f.check(v)
	}
	return ""
}

func checkStorageType(v string) string {
	switch v {
	case "S3", "GCS", "BLOB":
		return ""
	}
	return "must be one of S3, GCS, BLOB"
}

// checkEndpoint takes an http or https URL to any host: S3-compatible
// storage on premises is often plain http. A user, query or fragment is
// refused, since the endpoint is shown back wherever the bucket is.
func checkEndpoint(v string) string {
	u, err := url.Parse(v)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return "must be an absolute URL such as https://s3.us-east-1.amazonaws.com"
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "must not carry credentials, a query or a fragment"
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return ""
	}
	return "must use http or https"
}

var uuidForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// isUUID reports whether v is a UUID as this emulator writes its own ids.
func isUUID(v string) bool { return uuidForm.MatchString(v) }

// checkUUID takes a UUID in either case, as RFC 9562 says readers must.
func checkUUID(v string) string {
	if !isUUID(strings.ToLower(v)) {
		return "must be a UUID"
	}
	return ""
}

// checkBucketName applies the naming rules of the provider storageType
// names: Amazon S3's, Google Cloud Storage's or Azure Blob Storage's.
func checkBucketName(storageType, name string) string {
	switch storageType {
	case "BLOB", "AZURE":
		return blobContainerName(name)
	case "GCS":
		return gcsBucketName(name)
	}
	return s3BucketName(name)
}

func s3BucketName(name string) string {
	if len(name) < 3 || len(name) > 63 || !charsIn(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") ||
		!letterOrDigitEnds(name) || strings.Contains(name, "..") || isIPAddress(name) {
		return "not a valid S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit, no empty label, not an IP address"
	}
	return ""
}

// gcsBucketName: dotted names may run to 222 characters, each part at most
// 63; underscores are allowed; names about Google are reserved.
func gcsBucketName(name string) string {
	limit := 63
	if strings.Contains(name, ".") {
		limit = 222
	}
	partTooLong := false
	for _, part := range strings.Split(name, ".") {
		if part == "" || len(part) > 63 {
			partTooLong = true
		}
	}
	switch {
	case len(name) < 3 || len(name) > limit || partTooLong ||
		!charsIn(name, "abcdefghijklmnopqrstuvwxyz0123456789.-_") || !letterOrDigitEnds(name) || isIPAddress(name):
		return "not a valid GCS bucket name: 3 to 63 lowercase letters, digits, hyphens, underscores and dots (222 when dotted, 63 a part), beginning and ending with a letter or digit, not an IP address"
	case strings.HasPrefix(name, "goog") || strings.Contains(name, "google"):
		return `not a valid GCS bucket name: names beginning with "goog" or containing "google" are reserved`
	}
	return ""
}

// blobContainerName: Azure's special containers are names of their own.
func blobContainerName(name string) string {
	switch name {
	case "$root", "$web", "$logs":
		return ""
	}
	if len(name) < 3 || len(name) > 63 || !charsIn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") ||
		!letterOrDigitEnds(name) || strings.Contains(name, "--") {
		return "not a valid BLOB container name: 3 to 63 lowercase letters, digits and single hyphens, beginning and ending with a letter or digit"
	}
	return ""
}

func charsIn(s, allowed string) bool {
	for _, c := range s {
		if !strings.ContainsRune(allowed, c) {
			return false
		}
	}
	return true
}

func letterOrDigitEnds(s string) bool {
	ok := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
	return s != "" && ok(s[0]) && ok(s[len(s)-1])
}

func isIPAddress(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
