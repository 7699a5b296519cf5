// Package healthcheck is the monthly security health-check report's rules: the reference data
// it judges by (the URL dictionary, the patch and software catalogs), what a terminal's month of
// telemetry amounts to (TerminalMonth), how a report is built from those and graded (risk
// levels, recommended actions), and when a month's report is sealed.
//
// It is pure: the dictionary is parsed from a reader, times are passed in.
package healthcheck

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"yorozu/domain/webfiltering"
)

// The six filtered categories, as web filtering names them (domain/webfiltering keeps the one
// list of the 19 items and their categories).
const (
	CategoryIllegal  = string(webfiltering.CategoryIllegal)
	CategorySecurity = string(webfiltering.CategorySecurity)
	CategoryAdult    = string(webfiltering.CategoryAdult)
	CategoryDating   = string(webfiltering.CategoryDating)
	CategoryGambling = string(webfiltering.CategoryGambling)
	CategoryExtreme  = string(webfiltering.CategoryExtreme)
)

// CategoryOf returns the category of a dictionary item.
func CategoryOf(item string) (string, bool) {
	c := webfiltering.Item(item).Category()
	return string(c), c != ""
}

// ErrDictionary: a dictionary file line that cannot be read.
var ErrDictionary = errors.New("healthcheck: bad URL dictionary")

// Dictionary maps domains to dictionary items. A domain matches itself and its subdomains; the
// most specific listed domain wins.
type Dictionary struct {
	domains map[string]string
	// ips are listed IP addresses: they match only themselves.
	ips map[string]string
}

// NewDictionary returns an empty dictionary (nothing is harmful).
func NewDictionary() *Dictionary {
	return &Dictionary{domains: map[string]string{}, ips: map[string]string{}}
}

// Len is the number of domains and addresses listed.
func (d *Dictionary) Len() int { return len(d.domains) + len(d.ips) }

func isIP(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}

// ParseDictionary reads a dictionary file: one `domain<TAB>item` per line. Blank lines and lines
// starting with # are skipped. Every bad line is reported at once, with its number; a file with
// bad lines is refused whole, so that a reload never half-applies a broken file.
func ParseDictionary(r io.Reader) (*Dictionary, error) {
	d := NewDictionary()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		domain, item, ok := strings.Cut(line, "\t")
		domain = normalizeHost(strings.TrimSpace(domain))
		item = strings.TrimSpace(item)
		switch _, known := CategoryOf(item); {
		case !ok:
			errs = append(errs, fmt.Errorf("line %d: want domain<TAB>item", n))
		case domain == "" || strings.ContainsAny(domain, " /:\t"):
			errs = append(errs, fmt.Errorf("line %d: %q is not a domain", n, domain))
		case !known:
			errs = append(errs, fmt.Errorf("line %d: unknown item %q", n, item))
		case isIP(domain):
			d.ips[domain] = item
		default:
			d.domains[domain] = item
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrDictionary, errors.Join(errs...))
	}
	return d, nil
}

func normalizeHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// Match returns the item and category of a host: the entry of the host itself or of its nearest
// listed parent domain. IP addresses match only themselves.
func (d *Dictionary) Match(host string) (item, category string, ok bool) {
	if d == nil || d.Len() == 0 {
		return "", "", false
	}
	host = normalizeHost(host)
	if isIP(host) {
		item, ok = d.ips[host]
		cat, _ := CategoryOf(item)
		return item, cat, ok
	}
	for h := host; h != ""; {
		if item, ok := d.domains[h]; ok {
			cat, _ := CategoryOf(item)
			return item, cat, true
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	return "", "", false
}
