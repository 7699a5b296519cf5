package contract

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// CallerRejection is why the help desk does not accept an inquiry (a consultation or a failure
// report) from a caller: the reason a rejected intake records. The values are part of the HTTP
// API (`rejectionReason`).
type CallerRejection string

const (
	// CallerUnknownCustomer: no contract has the customer number given.
	CallerUnknownCustomer CallerRejection = "unknownCustomer"
	// CallerContractNotActive: the contract was not active at that time (not opened yet, or
	// terminated).
	CallerContractNotActive CallerRejection = "contractNotActive"
	// CallerCompanyNameMismatch: the company name given is not the contractor's.
	CallerCompanyNameMismatch CallerRejection = "companyNameMismatch"
)

// Standing is a contract as it stood at some instant of business time, and whether its customer
// number belongs to a contract at all (a contract opened later did not stand yet, but is known).
type Standing struct {
	Contract
	Known bool
}

// IdentifiesCaller checks a caller who gives this contract's customer number and companyName,
// with s the contract as it stood at the time of the call: "" when the contract was active and the
// names match, else why not. Unknown customer first, then inactive, then the name, so that the
// reason never tells a caller more about a contract than that it exists.
func (s Standing) IdentifiesCaller(companyName string) CallerRejection {
	switch {
	case !s.Known:
		return CallerUnknownCustomer
	case !s.Exists() || s.Status != StatusActive:
		return CallerContractNotActive
	case !SameCompanyName(companyName, s.Contractor.Name):
		return CallerCompanyNameMismatch
	}
	return ""
}

// ActiveAt reports whether the contract was active then.
func (s Standing) ActiveAt() bool { return s.Exists() && s.Status == StatusActive }

// SameCompanyName compares a company name as a caller gives it with the contractor's name on the
// contract. Both are brought to one form first: Unicode NFKC (full-width Latin letters and digits
// become ASCII, half-width katakana become full-width, ㈱ becomes (株)), white space of every
// kind removed (callers and operators put a space after 株式会社 or not), Latin letters folded to
// lower case. Anything else must be the same: 株式会社 and (株) are different names, as are
// 大和商事 and ダイワ商事. The rule is strict on purpose: the name is half of what authenticates
// the caller.
func SameCompanyName(given, onContract string) bool {
	a, b := NormalizeCompanyName(given), NormalizeCompanyName(onContract)
	return a != "" && a == b
}

// NormalizeCompanyName is the form SameCompanyName compares.
func NormalizeCompanyName(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
