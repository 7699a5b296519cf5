package webfiltering

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// ErrMalformedURL: a URL entry is neither a host name nor an http(s) URL prefix.
var ErrMalformedURL = errors.New("webfiltering: malformed URL")

// maxURLLength bounds a URL entry (browsers' practical limit is larger; a filter prefix needs
// far less).
const maxURLLength = 2048

// NormalizeURL checks a URL entry and returns its canonical form. An entry is either
//
//   - a host name ("example.com", "例え.jp", "192.0.2.10"), which matches itself and its
//     subdomains; written in lower case, international names in their ASCII (punycode) form; or
//   - a URL prefix with scheme http or https ("https://example.com/ads/"), which matches every URL
//     that starts with it; scheme and host are lower-cased and an empty path becomes "/".
//
// Anything else (spaces, a path without a scheme, another scheme, user information, a fragment,
// a bad port, a host that is not a DNS name or IPv4 address) is refused with ErrMalformedURL.
func NormalizeURL(raw string) (string, error) {
	bad := func(why string) (string, error) { return "", fmt.Errorf("%w: %q: %s", ErrMalformedURL, raw, why) }
	switch {
	case raw == "":
		return bad("empty")
	case len(raw) > maxURLLength:
		return bad(fmt.Sprintf("longer than %d bytes", maxURLLength))
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || r == '\u3000' {
			return bad("contains spaces or control characters")
		}
	}
	if !strings.Contains(raw, "://") {
		if strings.ContainsAny(raw, "/?#:@") {
			return bad("a host name has no path, port or query; a URL prefix starts with http:// or https://")
		}
		host, ok := normalizeHost(raw)
		if !ok {
			return bad("not a host name")
		}
		return host, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("does not parse as a URL")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return bad("the scheme must be http or https")
	case u.Opaque != "" || u.Host == "":
		return bad("no host")
	case u.User != nil:
		return bad("user information is not allowed")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("a fragment is not allowed")
	}
	host, ok := normalizeHost(u.Hostname())
	if !ok {
		return bad("not a host name")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || strings.HasPrefix(p, "0") {
			return bad("bad port")
		}
		host += ":" + p
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("bad port")
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	out := scheme + "://" + host + path
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// normalizeHost returns a DNS host name in lower-case ASCII, or an IPv4 address.
func normalizeHost(h string) (string, bool) {
	if ip := net.ParseIP(h); ip != nil {
		if ip.To4() == nil || strings.Contains(h, ":") {
			return "", false
		}
		return ip.To4().String(), true
	}
	ascii, err := idna.Lookup.ToASCII(strings.TrimSuffix(h, "."))
	if err != nil {
		return "", false
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) == 0 || len(ascii) > 253 {
		return "", false
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return "", false // all digits: a malformed address, not a name
	}
	return ascii, true
}
