package flashback

import (
	"net/netip"
	"net/url"
	"strings"

	"github.com/bucketgate/bucketgate/internal/dialect"
	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// rules checks what the schema leaves to code: the endpoint's parts and the
// provider's bucket naming rules. Like the schema, they are the providers'
// and Flashback's documented rules and no stricter; an operator who wants
// more (https only, say) adds it in a schema of their own.
func rules(doc jsonscan.Value) []dialect.Violation {
	var vs []dialect.Violation
	vs = append(vs, endpoint(doc.Get("endpoint"))...)
	storageType, _ := doc.Get("storageType").Str()
	vs = append(vs, bucketName(storageType, doc.Get("bucket"))...)
	return vs
}

// requireCredentials checks that a creation brings the provider's credentials:
// key and secret, or a stored provider key (apiKeyUuid). The POST reference
// requires key and secret; the official client made them optional when it
// added apiKeyUuid, which stands for both.
func requireCredentials(doc jsonscan.Value) []dialect.Violation {
	if doc.Get("apiKeyUuid").Exists() {
		return nil
	}
	var vs []dialect.Violation
	for _, f := range []string{"key", "secret"} {
		if !doc.Get(f).Exists() {
			vs = append(vs, dialect.Violation{Path: f, Message: "is required, or apiKeyUuid in its place"})
		}
	}
	return vs
}

// endpoint checks that a custom endpoint is an absolute http or https URL to
// any host (S3-compatible storage on premises is often plain http), and that
// it carries no user, query or fragment: the endpoint is shown back wherever
// the bucket is, so a secret there would leak. The empty string is the
// provider's default endpoint.
func endpoint(v jsonscan.Value) []dialect.Violation {
	s, ok := v.Str()
	if !ok || s == "" {
		return nil
	}
	bad := func(msg string) []dialect.Violation {
		return []dialect.Violation{{Path: "endpoint", Message: msg}}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("must be an absolute URL such as https://s3.us-west-2.amazonaws.com, or empty for the provider's default")
	}
	if u.User != nil {
		return bad("must not carry credentials; use key and secret")
	}
	if u.Fragment != "" || u.RawQuery != "" || u.ForceQuery {
		return bad("must not have a query or fragment")
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http":
		return nil
	}
	return bad("must use http or https")
}

// bucketName applies the naming rules of the provider storageType names, or,
// when the body does not name one, accepts a name any provider accepts: the
// bucket's stored type is the upstream's to know, and it judges the rest.
func bucketName(storageType string, v jsonscan.Value) []dialect.Violation {
	name, ok := v.Str()
	if !ok {
		return nil
	}
	var msg string
	switch storageType {
	case "S3":
		msg = s3Name(name)
	case "GCS":
		msg = gcsName(name)
	case "BLOB", "AZURE":
		// AZURE is Azure Blob Storage as the POST reference names it.
		msg = blobName(name)
	case "":
		if s3Name(name) == "" || gcsName(name) == "" || blobName(name) == "" {
			return nil
		}
		msg = "is not a valid S3 bucket, GCS bucket or Azure container name"
	default:
		return nil // the schema reports the storage type
	}
	if msg == "" {
		return nil
	}
	return []dialect.Violation{{Path: "bucket", Message: msg}}
}

// s3Name applies S3's rules for bucket names: 3 to 63 lowercase letters,
// digits, dots and hyphens, a letter or digit at each end, no empty label,
// and not an IP address.
func s3Name(name string) string {
	const rule = "is not a valid S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit, no two dots together, not an IP address"
	if len(name) < 3 || len(name) > 63 || !onlyBytes(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") ||
		!alnumEnds(name) || strings.Contains(name, "..") || isIP(name) {
		return rule
	}
	return ""
}

// gcsName applies Cloud Storage's rules: lowercase letters, digits, hyphens,
// underscores and dots, a letter or digit at each end; 3 to 63 characters,
// or up to 222 when dotted with no part over 63; not an IP address; not
// starting with "goog" or containing "google".
func gcsName(name string) string {
	if !onlyBytes(name, "abcdefghijklmnopqrstuvwxyz0123456789.-_") || !alnumEnds(name) {
		return "is not a valid GCS bucket name: lowercase letters, digits, hyphens, underscores and dots, beginning and ending with a letter or digit"
	}
	max := 63
	if strings.Contains(name, ".") {
		max = 222
		for part := range strings.SplitSeq(name, ".") {
			if len(part) == 0 || len(part) > 63 {
				return "is not a valid GCS bucket name: each dot-separated part must be 1 to 63 characters"
			}
		}
	}
	switch {
	case len(name) < 3 || len(name) > max:
		return "is not a valid GCS bucket name: 3 to 63 characters, or up to 222 with dots"
	case isIP(name):
		return "is not a valid GCS bucket name: it must not be an IP address"
	case strings.HasPrefix(name, "goog") || strings.Contains(name, "google"):
		return `is not a valid GCS bucket name: it must not begin with "goog" or contain "google"`
	}
	return ""
}

// blobName applies Azure's rules for container names: 3 to 63 lowercase
// letters, digits and single hyphens, a letter or digit at each end; or one
// of the special containers $root, $web and $logs.
func blobName(name string) string {
	switch name {
	case "$root", "$web", "$logs":
		return ""
	}
	if len(name) < 3 || len(name) > 63 || !onlyBytes(name, "abcdefghijklmnopqrstuvwxyz0123456789-") ||
		!alnumEnds(name) || strings.Contains(name, "--") {
		return "is not a valid Azure container name: 3 to 63 lowercase letters, digits and single hyphens, beginning and ending with a letter or digit (or $root, $web, $logs)"
	}
	return ""
}

func onlyBytes(s, allowed string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(allowed, s[i]) < 0 {
			return false
		}
	}
	return true
}

func alnumEnds(s string) bool {
	isAlnum := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
	return s != "" && isAlnum(s[0]) && isAlnum(s[len(s)-1])
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
