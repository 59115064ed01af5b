package flashback

import (
	"net"
	"net/url"
	"strings"

	"github.com/bucketgate/bucketgate/module/dialect"
)

// endpoint checks what a pattern cannot: that the endpoint is an absolute
// URL a provider client can use, over https unless it stays on this machine,
// and that it carries no credentials (they would be stored unencrypted, and
// echoed wherever the endpoint is shown).
func endpoint(v any) []dialect.Violation {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	bad := func(msg string) []dialect.Violation {
		return []dialect.Violation{{Path: "endpoint", Message: msg}}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("must be an absolute URL such as https://s3.us-west-2.amazonaws.com")
	}
	if u.User != nil {
		return bad("must not carry credentials; use key and secret")
	}
	if u.Fragment != "" || u.RawQuery != "" {
		return bad("must not have a query or fragment")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return bad("must use https; http is allowed only to a loopback host")
	default:
		return bad("must use https")
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
