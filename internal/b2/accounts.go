package b2

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// Part sizes every B2 sign-in answer carries; the gateway does not proxy
// uploads, but clients read these fields unconditionally.
const (
	recommendedPartSize     = 100_000_000
	absoluteMinimumPartSize = 5_000_000
)

// SignIn implements dialect.SignIn: b2_authorize_account carries the key
// as Basic keyId:applicationKey.
func (*Dialect) SignIn(r *http.Request) (string, string, *dialect.Error) {
	keyID, secret, ok := r.BasicAuth()
	if !ok || keyID == "" || secret == "" {
		return "", "", dialect.NewError(dialect.Unauthenticated, "b2_authorize_account needs Authorization: Basic base64(applicationKeyId:applicationKey)")
	}
	return keyID, secret, nil
}

// SignInRequest implements dialect.SignIn with v4: B2 takes a key allowed
// several buckets only on v4, so the gateway's own key may be one.
func (*Dialect) SignInRequest(r *http.Request, keyID, secret string) {
	dialect.Rewrite(r, http.MethodGet, "/b2api/v4/b2_authorize_account", nil)
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(keyID+":"+secret)))
}

// WriteGrant implements dialect.SignIn, in the shape of the version the
// client called: clients built for one version break on another's shape.
// v1 to v3 name at most one allowed bucket; B2 refuses to sign a key allowed
// several in on them rather than answer "bucketId": null, which clients
// read as no restriction at all, and so does the gateway. Buckets without a
// name are not at this upstream (a gateway key may list another API's
// buckets too) and do not count, unless none is here.
func (*Dialect) WriteGrant(w http.ResponseWriter, call dialect.Call, g dialect.Grant) *dialect.Error {
	one := g.Buckets
	if len(one) > 1 {
		one = slices.DeleteFunc(slices.Clone(one), func(b dialect.BucketRef) bool { return b.Name == "" })
	}
	if len(one) != 1 && len(g.Buckets) > 1 && call.Version != "v4" {
		return dialect.NewError(dialect.Unsupported, "this application key is allowed several buckets and can be used only with b2_authorize_account v4")
	}
	var oneID, oneName any // a single allowed bucket is all v1 to v3 can name
	if len(one) == 1 {
		oneID, oneName = one[0].ID, one[0].Name
	}
	caps := g.Capabilities
	if caps == nil {
		caps = []string{}
	}
	var answer map[string]any
	switch call.Version {
	case "v1", "v2":
		allowed := map[string]any{"bucketId": oneID, "capabilities": caps, "namePrefix": nil}
		if call.Version == "v2" {
			allowed["bucketName"] = oneName
		}
		answer = map[string]any{
			"accountId": g.AccountID, "authorizationToken": g.Token, "allowed": allowed,
			"apiUrl": g.APIURL, "downloadUrl": g.DownloadURL, "s3ApiUrl": g.S3APIURL,
			"recommendedPartSize": recommendedPartSize, "absoluteMinimumPartSize": absoluteMinimumPartSize,
		}
		if call.Version == "v1" {
			answer["minimumPartSize"] = recommendedPartSize
		}
	default:
		storage := map[string]any{
			"apiUrl": g.APIURL, "downloadUrl": g.DownloadURL, "s3ApiUrl": g.S3APIURL,
			"recommendedPartSize": recommendedPartSize, "absoluteMinimumPartSize": absoluteMinimumPartSize,
		}
		if call.Version == "v3" {
			storage["bucketId"], storage["bucketName"] = oneID, oneName
			storage["capabilities"], storage["namePrefix"], storage["infoType"] = caps, nil, "storageApi"
		} else {
			var buckets any
			if g.Buckets != nil {
				list := make([]map[string]any, len(g.Buckets))
				for i, b := range g.Buckets {
					list[i] = map[string]any{"id": b.ID, "name": b.Name}
				}
				buckets = list
			}
			storage["allowed"] = map[string]any{"buckets": buckets, "capabilities": caps, "namePrefix": nil}
		}
		answer = map[string]any{
			"accountId": g.AccountID, "authorizationToken": g.Token,
			"applicationKeyExpirationTimestamp": nil, "apiInfo": map[string]any{"storageApi": storage},
		}
	}
	w.Header().Set("Cache-Control", "max-age=0, no-cache, no-store")
	dialect.WriteJSON(w, http.StatusOK, "application/json;charset=utf-8", answer)
	return nil
}

// ReadGrant implements dialect.SignIn for the answers of every version.
// Every field it reads must have the type B2 gives it: a sign-in answer
// that says otherwise is not one the gateway can act on.
func (*Dialect) ReadGrant(a *dialect.Answer) (dialect.Grant, *dialect.Error) {
	root, derr := a.Object("B2's sign-in answer")
	if derr != nil {
		return dialect.Grant{}, derr
	}
	bad := func(what string) (dialect.Grant, *dialect.Error) {
		return dialect.Grant{}, dialect.NewError(dialect.UpstreamFailed, "B2's sign-in answer cannot be read: "+what)
	}
	api := root
	if s := root.Get("apiInfo").Get("storageApi"); s.Exists() {
		if s.Type() != jsonscan.Object {
			return bad("apiInfo.storageApi is not an object")
		}
		api = s
	}
	var g dialect.Grant
	for _, f := range []struct {
		in   jsonscan.Value
		name string
		dst  *string
	}{
		{root, "authorizationToken", &g.Token}, {root, "accountId", &g.AccountID},
		{api, "apiUrl", &g.APIURL}, {api, "downloadUrl", &g.DownloadURL}, {api, "s3ApiUrl", &g.S3APIURL},
	} {
		v := f.in.Get(f.name)
		if s, ok := v.Str(); ok {
			*f.dst = s
		} else if v.Given() {
			return bad(f.name + " is not a string")
		}
	}
	allowed := api.Get("allowed")
	if !allowed.Exists() {
		allowed = api // v3 keeps these beside apiUrl
	}
	for _, c := range allowed.Get("capabilities").Items() {
		name, ok := c.Str()
		if !ok {
			return bad("a capability is not a string")
		}
		g.Capabilities = append(g.Capabilities, name)
	}
	if list := allowed.Get("buckets"); list.Type() == jsonscan.Array {
		g.Buckets = []dialect.BucketRef{}
		for _, b := range list.Items() {
			id, ok := b.Get("id").Str()
			if !ok {
				return bad("an allowed bucket has no id")
			}
			name, _ := b.Get("name").Str()
			g.Buckets = append(g.Buckets, dialect.BucketRef{ID: id, Name: name})
		}
	} else if id, ok := allowed.Get("bucketId").Str(); ok {
		name, _ := allowed.Get("bucketName").Str()
		g.Buckets = []dialect.BucketRef{{ID: id, Name: name}}
	}
	if g.Token == "" || g.AccountID == "" || g.APIURL == "" {
		return bad("it lacks authorizationToken, accountId or apiUrl")
	}
	return g, nil
}

// RedirectGrant implements dialect.SignIn. The API URL is top level in
// v1 and v2 answers and under apiInfo.storageApi from v3 on; downloadUrl and
// s3ApiUrl keep pointing at B2, since the gateway gates bucket calls only.
func (*Dialect) RedirectGrant(a *dialect.Answer, apiURL string) ([]byte, *dialect.Error) {
	root, derr := a.Object("B2's sign-in answer")
	if derr != nil {
		return nil, derr
	}
	doc := root.Any().(map[string]any)
	target := doc
	if info, ok := doc["apiInfo"].(map[string]any); ok {
		if s, ok := info["storageApi"].(map[string]any); ok {
			target = s
		}
	}
	if _, ok := target["apiUrl"]; !ok {
		return nil, dialect.NewError(dialect.UpstreamFailed, "B2's sign-in answer cannot be read: it has no apiUrl")
	}
	target["apiUrl"] = apiURL
	return encode(doc)
}

// TokenRefused implements dialect.SignIn: these are the answers on which
// B2 clients sign in again. An answer without a readable code refuses the
// token as a bare 401 does.
func (*Dialect) TokenRefused(a *dialect.Answer) bool {
	if a.Status != http.StatusUnauthorized {
		return false
	}
	switch a.Str("code") {
	case "bad_auth_token", "expired_auth_token", "":
		return true
	}
	return false
}

// Needs implements dialect.Scopes with B2's capability for each write, and
// for each setting a creation or an update sets. A setting sent as null is
// a setting not sent, as B2 reads it, and so needs nothing.
func (*Dialect) Needs(u *dialect.Document) []string {
	if u.Call.Op == dialect.OpDelete {
		return []string{"deleteBuckets"}
	}
	// Room for every capability below, so the list is made once.
	needs := append(make([]string, 0, 4), "writeBuckets")
	if u.Given("defaultServerSideEncryption") {
		needs = append(needs, "writeBucketEncryption")
	}
	if lock, _ := u.Get("fileLockEnabled").(bool); u.Given("defaultRetention") || lock {
		// Turning Object Lock off is refused by B2 for locked buckets and a
		// no-op otherwise, so only turning it on needs the capability.
		needs = append(needs, "writeBucketRetentions")
	}
	if u.Given("replicationConfiguration") {
		needs = append(needs, "writeBucketReplications")
	}
	return needs
}

// MakesPublic implements dialect.Scopes.
func (*Dialect) MakesPublic(u *dialect.Document) bool {
	t, _ := u.Str("bucketType")
	return t == "allPublic"
}

// Account implements dialect.Scopes.
func (*Dialect) Account(u *dialect.Document) string {
	id, _ := u.Str("accountId")
	return id
}

// SetAccount implements dialect.Scopes.
func (*Dialect) SetAccount(u *dialect.Document, accountID string) {
	if id, ok := u.Str("accountId"); !ok || id != accountID {
		u.Set("accountId", accountID)
	}
}

// readGuards are the bucket settings B2 shows only to tokens with the
// matching read capability.
var readGuards = map[string]string{
	"defaultServerSideEncryption": "readBucketEncryption",
	"fileLockConfiguration":       "readBucketRetentions",
	"replicationConfiguration":    "readBucketReplications",
}

func hideUnreadable(bucket map[string]any, canRead func(string) bool) {
	for field, capability := range readGuards {
		if _, ok := bucket[field]; ok && !canRead(capability) {
			// An object with a null value, never null itself: blazer
			// dereferences these objects unconditionally.
			bucket[field] = map[string]any{"isClientAuthorizedToRead": false, "value": nil}
		}
	}
}

// FilterList implements dialect.AccountLists. A bucket is shown only when
// its bucketId, read from the one parse the answer is written from, is one
// the caller may see.
func (*Dialect) FilterList(a *dialect.Answer, visible func(string) bool, canRead func(string) bool) ([]byte, *dialect.Error) {
	root, list, derr := bucketList(a)
	if derr != nil {
		return nil, derr
	}
	kept := make([]any, 0, list.Len())
	for _, b := range list.Items() {
		id, ok := b.Get("bucketId").Str()
		if b.Type() != jsonscan.Object || !ok {
			return nil, dialect.NewError(dialect.UpstreamFailed, "B2's bucket list cannot be read: a bucket has no bucketId")
		}
		if !visible(id) {
			continue
		}
		bucket := b.Any().(map[string]any)
		hideUnreadable(bucket, canRead)
		kept = append(kept, bucket)
	}
	doc := make(map[string]any, root.Len())
	for k, v := range root.Members() {
		name, _ := k.Str()
		doc[name] = v.Any()
	}
	doc["buckets"] = kept
	return encode(doc)
}

// ListMatches implements dialect.AccountLists with b2_list_buckets' filters:
// bucketId, bucketName (without case, as B2 names are) and bucketTypes,
// which by default leaves out no type a translated bucket has.
func (*Dialect) ListMatches(u *dialect.Document, b dialect.Bucket) bool {
	if id, ok := u.Str("bucketId"); ok && id != b.ID {
		return false
	}
	if name, ok := u.Str("bucketName"); ok && !strings.EqualFold(name, b.ProviderName) {
		return false
	}
	types, ok := u.Get("bucketTypes").([]any)
	if !ok {
		return true
	}
	want := "allPrivate"
	if b.Public {
		want = "allPublic"
	}
	for _, t := range types {
		if t == "all" || t == want {
			return true
		}
	}
	return false
}

// bucketList reads b2_list_buckets' answer: the object, and its buckets.
func bucketList(a *dialect.Answer) (root, list jsonscan.Value, derr *dialect.Error) {
	if root, derr = a.Object("B2's bucket list"); derr != nil {
		return root, list, derr
	}
	if list = root.Get("buckets"); list.Type() != jsonscan.Array {
		return root, list, dialect.NewError(dialect.UpstreamFailed, "B2's bucket list cannot be read: it has no buckets array")
	}
	return root, list, nil
}

// FilterBucket implements dialect.Scopes.
func (*Dialect) FilterBucket(a *dialect.Answer, canRead func(string) bool) ([]byte, *dialect.Error) {
	root, derr := a.Object("B2's bucket")
	if derr != nil {
		return nil, derr
	}
	doc := root.Any().(map[string]any)
	hideUnreadable(doc, canRead)
	return encode(doc)
}

// encode writes what the gateway built from an answer.
func encode(doc map[string]any) ([]byte, *dialect.Error) {
	body, err := dialect.Encode(doc)
	if err != nil {
		return nil, dialect.NewError(dialect.UpstreamFailed, "the answer cannot be encoded again")
	}
	return body, nil
}

// listCall is the name of the list call in paths.
const listCall = "b2_list_buckets"

// ListCapability implements dialect.AccountLists.
func (*Dialect) ListCapability() string { return "listBuckets" }

// DecodeList implements dialect.AccountLists: a list call as POST body or GET
// query, against its own schema.
func (d *Dialect) DecodeList(r *http.Request, call dialect.Call, read func() ([]byte, *dialect.Error)) (*dialect.Document, *dialect.Error) {
	u, err := d.decode(r, call, read, d.list.IsStringField)
	if err != nil {
		return nil, err
	}
	if vs := d.list.Validate(u.Tree()); len(vs) > 0 {
		return nil, dialect.Invalid(vs)
	}
	return u, nil
}

// ListRequest implements dialect.AccountLists.
func (*Dialect) ListRequest(r *http.Request, u *dialect.Document, body []byte) {
	dialect.Rewrite(r, http.MethodPost, "/b2api/"+u.Call.Version+"/"+listCall, body)
}
