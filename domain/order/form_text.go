package order

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"yorozu/domain/calendar"
	"yorozu/domain/validation"
)

// The value rules of the form table, one small function per kind of value. Each returns nil for a
// good value, or the problem to report. Lengths count characters (runes), as the form table says.

type problem struct {
	code, message string
}

func problemf(code, format string, args ...any) *problem {
	return &problem{code: code, message: fmt.Sprintf(format, args...)}
}

type textRule func(string) *problem

type intRule func(int) *problem

// fullWidth: every character's East Asian Width is W, F or A, so ASCII and half-width katakana fail.
func fullWidth(maxLen int) textRule {
	return func(s string) *problem {
		if p := tooLong(s, maxLen); p != nil {
			return p
		}
		for _, r := range s {
			if !isFullWidthRune(r) {
				return problemf(CodeNotFullWidth, "must be full-width characters only; %q is not", r)
			}
		}
		return nil
	}
}

func isFullWidthRune(r rune) bool {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth, width.EastAsianAmbiguous:
		return true
	}
	return false
}

// kana: full-width katakana U+30A1..U+30FA plus ・ ー ヽ ヾ (U+30FB..U+30FE) and the ideographic
// space U+3000. Those four marks follow U+30FA directly, so one range covers them all.
func kana(maxLen int) textRule {
	return func(s string) *problem {
		if p := tooLong(s, maxLen); p != nil {
			return p
		}
		for _, r := range s {
			if !isKanaRune(r) {
				return problemf(CodeNotKana, "must be full-width katakana only; %q is not", r)
			}
		}
		return nil
	}
}

func isKanaRune(r rune) bool {
	return r == '\u3000' || ('\u30A1' <= r && r <= '\u30FE')
}

// freeText: anything up to maxLen characters (customerRemarks); control characters other than
// tab and newline are refused before any rule runs (formCheck.text).
func freeText(maxLen int) textRule {
	return func(s string) *problem { return tooLong(s, maxLen) }
}

func tooLong(s string, maxLen int) *problem {
	if n := utf8.RuneCountInString(s); n > maxLen {
		return problemf(CodeTooLong, "must be at most %d characters, is %d", maxLen, n)
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// postalCode: exactly 7 digits, no hyphen.
func postalCode(s string) *problem {
	n := utf8.RuneCountInString(s)
	switch {
	case !isDigits(s):
		return problemf(CodeNotDigits, "must be 7 digits [0-9] without a hyphen")
	case n < 7:
		return problemf(CodeTooShort, "must be exactly 7 digits, is %d", n)
	case n > 7:
		return problemf(CodeTooLong, "must be exactly 7 digits, is %d", n)
	}
	return nil
}

// prefixedDigits: customerNumber (N + 9 digits) and commonCustomerId (C or D + 10 digits).
func prefixedDigits(prefixes string, digits int, shape string) textRule {
	return func(s string) *problem {
		if len(s) != 1+digits || !strings.ContainsRune(prefixes, rune(s[0])) || !isDigits(s[1:]) {
			return problemf(CodeInvalidFormat, "must be %s", shape)
		}
		return nil
	}
}

var (
	customerNumberRule   = prefixedDigits("N", 9, "N followed by 9 digits, like N000000001")
	commonCustomerIDRule = prefixedDigits("CD", 10, "C or D followed by 10 digits, like C0123456789")
)

// phone: ^[0-9]+(-[0-9]+)*$, at most 13 characters, 10 or 11 digits.
func phone(s string) *problem {
	if p := tooLong(s, 13); p != nil {
		return p
	}
	digits := 0
	for _, group := range strings.Split(s, "-") {
		if group == "" || !isDigits(group) {
			return problemf(CodeInvalidPhone, "must be digits in groups separated by single hyphens, like 03-1234-5678")
		}
		digits += len(group)
	}
	if digits != 10 && digits != 11 {
		return problemf(CodeInvalidPhone, "must have 10 or 11 digits, has %d", digits)
	}
	return nil
}

// emailList: comma-separated addresses, each an ASCII addr-spec, the whole field at most maxLen.
func emailList(maxLen int) textRule {
	return func(s string) *problem {
		if p := tooLong(s, maxLen); p != nil {
			return p
		}
		for i, addr := range strings.Split(s, ",") {
			if !validation.IsEmailAddress(addr) {
				return problemf(CodeInvalidEmail, "address %d (%q) is not a valid e-mail address; separate addresses with a comma and no spaces", i+1, addr)
			}
		}
		return nil
	}
}

// email: exactly one ASCII addr-spec, at most maxLen characters.
func email(maxLen int) textRule {
	return func(s string) *problem {
		if p := tooLong(s, maxLen); p != nil {
			return p
		}
		if strings.Contains(s, ",") {
			return problemf(CodeInvalidEmail, "must be one e-mail address, not a list")
		}
		if !validation.IsEmailAddress(s) {
			return problemf(CodeInvalidEmail, "is not a valid e-mail address")
		}
		return nil
	}
}

// password: minLen to maxLen characters of [A-Za-z0-9], with at least one lower-case letter, one
// upper-case letter and one digit.
func password(minLen, maxLen int) textRule {
	return func(s string) *problem {
		n := utf8.RuneCountInString(s)
		switch {
		case n < minLen:
			return problemf(CodeTooShort, "must be %d to %d characters, is %d", minLen, maxLen, n)
		case n > maxLen:
			return problemf(CodeTooLong, "must be %d to %d characters, is %d", minLen, maxLen, n)
		}
		var lower, upper, digit bool
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case 'a' <= c && c <= 'z':
				lower = true
			case 'A' <= c && c <= 'Z':
				upper = true
			case '0' <= c && c <= '9':
				digit = true
			default:
				return problemf(CodePasswordRules, "must use only A-Z, a-z and 0-9")
			}
		}
		if !lower || !upper || !digit {
			return problemf(CodePasswordRules, "must contain a lower-case letter, an upper-case letter and a digit")
		}
		return nil
	}
}

// choice: one of the listed values, exactly (case matters).
func choice[T ~string](values ...T) textRule {
	return func(s string) *problem {
		names := make([]string, len(values))
		for i, v := range values {
			if s == string(v) {
				return nil
			}
			names[i] = string(v)
		}
		return problemf(CodeInvalidChoice, "must be one of %s", strings.Join(names, ", "))
	}
}

// formDate: a real date written YYYY/M/D, as calendar.ParseFormDate reads it (four-digit year;
// month and day of one or two digits, a leading zero accepted), in the years calendar.FirstYear to
// calendar.LastYear, so that every date derived from it stays writable.
func formDate(s string) *problem {
	d, err := calendar.ParseFormDate(s)
	if err != nil {
		return problemf(CodeInvalidDate, "must be a real date written YYYY/M/D, like 2026/4/1")
	}
	if !d.InServiceRange() {
		return problemf(CodeOutOfRange, "must be a date from %d/1/1 to %d/12/31", calendar.FirstYear, calendar.LastYear)
	}
	return nil
}

// dateBefore reports whether form date a is before form date b; both must parse.
func dateBefore(a, b string) bool {
	da, errA := calendar.ParseFormDate(a)
	db, errB := calendar.ParseFormDate(b)
	return errA == nil && errB == nil && da.Compare(db) < 0
}

// intRange: lo to hi inclusive.
func intRange(lo, hi int) intRule {
	return func(n int) *problem {
		if n < lo || n > hi {
			return problemf(CodeOutOfRange, "must be %d to %d, is %d", lo, hi, n)
		}
		return nil
	}
}

// idCount: additional health-check IDs are 0, or 10 to 9999.
func idCount(n int) *problem {
	if n != 0 && (n < 10 || n > 9999) {
		return problemf(CodeOutOfRange, "must be 0, or 10 to 9999, is %d", n)
	}
	return nil
}

// isBlank: empty or only white space; a required field so filled is missing.
func isBlank(s string) bool {
	return strings.TrimFunc(s, unicode.IsSpace) == ""
}

// hasControlChar reports a control character other than tab and newline: the C0 controls
// (NUL included, which PostgreSQL's jsonb cannot hold), DEL and the C1 controls.
func hasControlChar(s string) bool {
	for _, r := range s {
		if r != '\t' && r != '\n' && unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// damagedText: invalid UTF-8, or U+FFFD, the mark a decoder leaves where it met invalid bytes.
func damagedText(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError)
}
