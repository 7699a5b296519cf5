package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"yorozu/domain/access"
)

// ClientIP is the address of the client that sent r. It is the peer address, unless the peer is
// one of the trusted proxies: then it is the right-most address of X-Forwarded-For that is not a
// trusted proxy. With no trusted proxies X-Forwarded-For is ignored, since clients can forge it.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !contains(trusted, peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := parseAddr(strings.TrimSpace(hops[i]))
		if !hop.IsValid() {
			return peer
		}
		if !contains(trusted, hop) {
			return hop
		}
		peer = hop
	}
	return peer
}

func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefix reads a CIDR ("10.0.0.0/8", "2001:db8::/32") or a single address, which stands
// for itself (/32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("httpx: CIDR %q: %w", s, err)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("httpx: address %q: %w", s, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// CIDRFlag collects the values of a repeatable flag such as --allow-cidr; it is a flag.Value
// (flag.Var(&f, "allow-cidr", "...")).
type CIDRFlag struct {
	Prefixes []netip.Prefix
}

// Set parses one value; a value may also hold several CIDRs separated by commas.
func (f *CIDRFlag) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		p, err := ParsePrefix(part)
		if err != nil {
			return err
		}
		f.Prefixes = append(f.Prefixes, p)
	}
	return nil
}

func (f *CIDRFlag) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(f.Prefixes))
	for i, p := range f.Prefixes {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// AllowList is the set of client networks staff may log in from and use their sessions from.
type AllowList struct {
	prefixes []netip.Prefix
}

// DefaultAllowList is loopback only: 127.0.0.0/8 and ::1.
func DefaultAllowList() AllowList {
	return AllowList{prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
}

// NewAllowList allows the given networks; none means DefaultAllowList.
func NewAllowList(prefixes ...netip.Prefix) AllowList {
	if len(prefixes) == 0 {
		return DefaultAllowList()
	}
	return AllowList{prefixes: append([]netip.Prefix(nil), prefixes...)}
}

// ParseAllowList reads CIDRs (or single addresses); none means DefaultAllowList.
func ParseAllowList(cidrs []string) (AllowList, error) {
	var f CIDRFlag
	for _, c := range cidrs {
		if err := f.Set(c); err != nil {
			return AllowList{}, err
		}
	}
	return NewAllowList(f.Prefixes...), nil
}

// Allows reports whether addr is in one of the allowed networks.
func (a AllowList) Allows(addr netip.Addr) bool { return contains(a.prefixes, addr.Unmap()) }

func (a AllowList) String() string {
	return (&CIDRFlag{Prefixes: a.prefixes}).String()
}

// Middleware refuses requests from clients outside the allowed networks with a 403 problem.
// trusted names the reverse proxies whose X-Forwarded-For is believed (see ClientIP).
func (a AllowList) Middleware(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ip := ClientIP(r, trusted); !ip.IsValid() || !a.Allows(ip) {
				WriteProblem(w, r, NewProblem(http.StatusForbidden, "network-not-allowed", "Network not allowed",
					"Staff may only sign in from an allowed client network."))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// StaffOnly applies the allow-list to every request of a staff member, not only to the login:
// a session token used from a client outside the allowed networks is refused with 403, as a
// login from there would be. It runs after Authenticate. Service accounts (API keys) pass: the
// billing system calls from its own network, and a key is revocable at once (see
// docs/security.md). trusted names the reverse proxies whose X-Forwarded-For is believed.
func (a AllowList) StaffOnly(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p, ok := PrincipalFrom(r.Context()); ok && p.Kind == access.KindStaff {
				if ip := ClientIP(r, trusted); !ip.IsValid() || !a.Allows(ip) {
					WriteProblem(w, r, NewProblem(http.StatusForbidden, "network-not-allowed", "Network not allowed",
						"Staff sessions may only be used from an allowed client network."))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
