package order_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"yorozu/domain/order"
)

// FuzzDecodeForm feeds DecodeForm arbitrary bytes, starting from the example forms. It must never
// panic, and a form it accepts must pass an independent re-check of the SPEC table written here
// with other means (regular expressions, time.Parse, generic JSON): no accepted form breaks a rule.
func FuzzDecodeForm(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no example forms: %v", err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	for _, seed := range []string{
		``, `null`, `{}`, `[]`, `{"type":"cancel"}`, `{"type":"new","contractor":{"name":1}}`,
		`{"type":"change","changes":{"healthCheckIds":true},"healthCheckIdChange":"end","idsAfterChange":0}`,
		`{"type":"new","additionalIds":1e400}`, "{\"type\":\"new\",\"plan\":\"\\ud800\"}",
		`{"type":"cancel","appliedOn":"2025/7/1","desiredDate":"9999/12/31","commonCustomerId":"C1234567890","customerNumber":"N000000001","customerRemarks":"\u0000"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		form, errs := order.DecodeForm(raw)
		for _, e := range errs {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("error without code or message: %+v", e)
			}
		}
		// The other entry points must not panic on whatever was decoded either.
		_ = form.Redacted()
		_ = order.CheckAgainstContract(form, order.ContractFacts{Exists: true, Active: true})
		if len(errs) > 0 {
			return
		}
		if v := form.Validate(); len(v) > 0 {
			t.Fatalf("DecodeForm accepted a form Validate refuses: %v", v)
		}
		recheckAcceptedForm(t, raw)

		again, err := json.Marshal(form)
		if err != nil {
			t.Fatal(err)
		}
		back, errs := order.DecodeForm(again)
		if len(errs) > 0 || !reflect.DeepEqual(back, form) {
			t.Fatalf("an accepted form does not round-trip: %s → %v", again, errs)
		}
	})
}

// acceptedRule is one row of the SPEC table as the re-check reads it: cols has the letters of
// new, change, cancel, simpleChange (R, O, - or C; C rows are checked in recheckConditions).
type acceptedRule struct {
	cols  string
	check func(v any) bool
}

var (
	phonePattern = regexp.MustCompile(`^[0-9]+(-[0-9]+)*$`)
	kanaPattern  = regexp.MustCompile(`^[\x{30A1}-\x{30FA}ー・ヽヾ\x{3000}]*$`)
	addrPattern  = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" +
		`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
	alnumPattern = regexp.MustCompile(`^[A-Za-z0-9]*$`)
)

func isString(v any) (string, bool) { s, ok := v.(string); return s, ok }

func runes(s string) int { return utf8.RuneCountInString(s) }

func fullWidthText(max int) func(any) bool {
	return func(v any) bool {
		s, ok := isString(v)
		if !ok || runes(s) > max {
			return false
		}
		for _, r := range s {
			if r < 0x80 || (0xFF61 <= r && r <= 0xFF9F) { // ASCII, half-width katakana
				return false
			}
			switch width.LookupRune(r).Kind() {
			case width.EastAsianWide, width.EastAsianFullwidth, width.EastAsianAmbiguous:
			default:
				return false
			}
		}
		return true
	}
}

func kanaText(max int) func(any) bool {
	return func(v any) bool {
		s, ok := isString(v)
		return ok && runes(s) <= max && kanaPattern.MatchString(s)
	}
}

func matches(pattern string) func(any) bool {
	re := regexp.MustCompile(pattern)
	return func(v any) bool { s, ok := isString(v); return ok && re.MatchString(s) }
}

func phoneText(v any) bool {
	s, ok := isString(v)
	digits := len(strings.ReplaceAll(s, "-", ""))
	return ok && len(s) <= 13 && phonePattern.MatchString(s) && (digits == 10 || digits == 11)
}

func emailText(max int, list bool) func(any) bool {
	return func(v any) bool {
		s, ok := isString(v)
		if !ok || len(s) > max {
			return false
		}
		addrs := []string{s}
		if list {
			addrs = strings.Split(s, ",")
		}
		for _, a := range addrs {
			if !addrPattern.MatchString(a) {
				return false
			}
		}
		return true
	}
}

func passwordText(min, max int) func(any) bool {
	return func(v any) bool {
		s, ok := isString(v)
		return ok && len(s) >= min && len(s) <= max && alnumPattern.MatchString(s) &&
			strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") &&
			strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") && strings.ContainsAny(s, "0123456789")
	}
}

func dateText(v any) bool {
	s, ok := isString(v)
	if !ok {
		return false
	}
	d, err := time.Parse("2006/1/2", s)
	return err == nil && d.Year() >= 2000 && d.Year() <= 2100
}

// freeText: at most max characters, no control character but tab and newline.
func freeText(max int) func(any) bool {
	return func(v any) bool {
		s, ok := isString(v)
		if !ok || runes(s) > max {
			return false
		}
		for _, r := range s {
			if r != '\t' && r != '\n' && unicode.IsControl(r) {
				return false
			}
		}
		return true
	}
}

func oneOf(values ...string) func(any) bool {
	return func(v any) bool {
		s, ok := isString(v)
		return ok && strings.Contains(","+strings.Join(values, ",")+",", ","+s+",")
	}
}

func isBool(v any) bool { _, ok := v.(bool); return ok }

func integerIn(lo, hi int) func(any) bool {
	return func(v any) bool {
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		i, err := strconv.Atoi(string(n))
		return err == nil && lo <= i && i <= hi
	}
}

func isObject(v any) bool { _, ok := v.(map[string]any); return ok }

var acceptedTable = map[string]acceptedRule{
	"contractor":                   {"RRRR", isObject},
	"contractContact":              {"R-RR", isObject},
	"billingAddress":               {"R---", isObject},
	"billingContact":               {"R---", isObject},
	"openingNotice":                {"RR--", isObject},
	"changes":                      {"-R--", isObject},
	"securityContact":              {"RC--", isObject},
	"type":                         {"RRRR", oneOf("new", "change", "cancel", "simpleChange")},
	"appliedOn":                    {"RRRR", dateText},
	"desiredDate":                  {"RRR-", dateText},
	"customerNumber":               {"-RRR", matches(`^N[0-9]{9}$`)},
	"commonCustomerId":             {"RRRR", matches(`^[CD][0-9]{10}$`)},
	"contractor.nameKana":          {"R--R", kanaText(80)},
	"contractor.name":              {"RRRR", fullWidthText(80)},
	"contractor.postalCode":        {"R--R", matches(`^[0-9]{7}$`)},
	"contractor.address":           {"R--R", fullWidthText(46)},
	"contractor.addressNumber":     {"R--R", fullWidthText(20)},
	"contractor.building":          {"O--O", fullWidthText(16)},
	"contractor.floor":             {"O--O", fullWidthText(4)},
	"contractContact.name":         {"R-RR", fullWidthText(10)},
	"contractContact.phone":        {"R-RR", phoneText},
	"contractContact.email":        {"R-RR", emailText(82, true)},
	"billingAddress.postalCode":    {"R---", matches(`^[0-9]{7}$`)},
	"billingAddress.address":       {"R---", fullWidthText(46)},
	"billingAddress.addressNumber": {"R---", fullWidthText(20)},
	"billingAddress.building":      {"O---", fullWidthText(16)},
	"billingAddress.floor":         {"O---", fullWidthText(4)},
	"billingAddress.recipientKana": {"R---", kanaText(30)},
	"billingAddress.recipientDept": {"O---", fullWidthText(20)},
	"billingContact.name":          {"R---", fullWidthText(10)},
	"billingContact.phone":         {"R---", phoneText},
	"billingContact.email":         {"R---", emailText(82, true)},
	"openingNotice.email":          {"RR--", emailText(125, false)},
	"openingNotice.password":       {"RR--", passwordText(8, 10)},
	"openingNotice.phone":          {"RR--", phoneText},
	"openingNotice.companyName":    {"RR--", fullWidthText(80)},
	"openingNotice.name":           {"RR--", fullWidthText(10)},
	"customerRemarks":              {"OOOO", freeText(1000)},
	"changes.healthCheckIds":       {"-R--", isBool},
	"changes.webFiltering":         {"-R--", isBool},
	"changes.securityTickets":      {"-R--", isBool},
	"changes.securityContact":      {"-R--", isBool},
	"plan":                         {"R---", oneOf("basic")},
	"healthCheckIdAddition":        {"R---", oneOf("use", "notUse")},
	"additionalIds":                {"C---", integerIn(0, 9999)},
	"healthCheckIdChange":          {"-C--", oneOf("add", "remove", "end")},
	"idsAfterChange":               {"-C--", integerIn(0, 9999)},
	"webFiltering":                 {"RC--", oneOf("use", "notUse")},
	"securityTicketApplication":    {"R---", oneOf("yes", "no")},
	"securityTicketCount":          {"CC--", integerIn(0, 9999)},
	"securityContact.nameKana":     {"RC--", kanaText(80)},
	"securityContact.name":         {"RC--", fullWidthText(10)},
	"securityContact.department":   {"RC--", fullWidthText(80)},
	"securityContact.phone":        {"RC--", phoneText},
	"securityContact.email":        {"RC--", emailText(82, false)},
	"securityReportPassword":       {"RC--", passwordText(8, 40)},
}

// recheckAcceptedForm checks an accepted body against acceptedTable.
func recheckAcceptedForm(t *testing.T, raw []byte) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("accepted a body the standard decoder refuses as an object: %v", err)
	}
	fields := map[string]any{}
	for k, v := range body {
		if obj, ok := v.(map[string]any); ok {
			fields[k] = obj
			for k2, v2 := range obj {
				if v2 != nil {
					fields[k+"."+k2] = v2
				}
			}
		} else if v != nil {
			fields[k] = v
		}
	}
	for path, v := range fields {
		rule, known := acceptedTable[path]
		if !known {
			t.Fatalf("accepted an unknown field %s", path)
		}
		if !rule.check(v) {
			t.Fatalf("accepted %s = %#v, which breaks its rule", path, v)
		}
	}
	typ := fields["type"].(string)
	col := map[string]int{"new": 0, "change": 1, "cancel": 2, "simpleChange": 3}[typ]
	for path, rule := range acceptedTable {
		v, present := fields[path]
		switch rule.cols[col] {
		case 'R':
			if s, ok := v.(string); !present || (ok && strings.TrimFunc(s, unicode.IsSpace) == "") {
				t.Fatalf("accepted a %s order without %s", typ, path)
			}
		case '-':
			if present {
				t.Fatalf("accepted a %s order with %s", typ, path)
			}
		}
	}
	if d, ok := fields["desiredDate"]; ok {
		applied, _ := time.Parse("2006/1/2", fields["appliedOn"].(string))
		desired, _ := time.Parse("2006/1/2", d.(string))
		if desired.Before(applied) {
			t.Fatalf("accepted desiredDate %v before appliedOn %v", d, fields["appliedOn"])
		}
	}
	recheckConditions(t, typ, fields)
}

// recheckConditions checks the C rows and the option rules.
func recheckConditions(t *testing.T, typ string, fields map[string]any) {
	count := func(path string) (int, bool) {
		n, ok := fields[path].(json.Number)
		if !ok {
			return 0, false
		}
		i, _ := strconv.Atoi(string(n))
		return i, true
	}
	zeroOrAbsent := func(path string) bool { n, ok := count(path); return !ok || n == 0 }
	asked := func(path string, lo int) bool { n, ok := count(path); return ok && n >= lo && n <= 9999 }
	fail := func(rule string) { t.Helper(); t.Fatalf("accepted a %s order breaking %q: %v", typ, rule, fields) }

	switch typ {
	case "new":
		if fields["healthCheckIdAddition"] == "use" && !asked("additionalIds", 10) {
			fail("additionalIds 10 to 9999 when use")
		}
		if fields["healthCheckIdAddition"] == "notUse" && !zeroOrAbsent("additionalIds") {
			fail("additionalIds 0 or absent when notUse")
		}
		if fields["securityTicketApplication"] == "yes" && !asked("securityTicketCount", 1) {
			fail("securityTicketCount >= 1 when applying")
		}
		if fields["securityTicketApplication"] == "no" && !zeroOrAbsent("securityTicketCount") {
			fail("securityTicketCount 0 or absent when not applying")
		}
		if ids, _ := count("additionalIds"); fields["webFiltering"] == "use" && 5+ids < 15 {
			fail("web filtering needs 15 IDs")
		}
	case "change":
		changes := func(part string) bool { return fields["changes."+part] == true }
		if !changes("healthCheckIds") && !changes("webFiltering") && !changes("securityTickets") && !changes("securityContact") {
			fail("at least one change")
		}
		how, hasHow := fields["healthCheckIdChange"]
		if changes("healthCheckIds") != hasHow {
			fail("healthCheckIdChange exactly with changes.healthCheckIds")
		}
		if (how == "add" || how == "remove") && !asked("idsAfterChange", 10) {
			fail("idsAfterChange 10 to 9999 for add/remove")
		}
		if (how == nil || how == "end") && !zeroOrAbsent("idsAfterChange") {
			fail("idsAfterChange 0 or absent for end or no ID change")
		}
		if _, has := fields["webFiltering"]; has != changes("webFiltering") {
			fail("webFiltering exactly with changes.webFiltering")
		}
		if fields["webFiltering"] == "use" && how == "end" {
			fail("web filtering needs 15 IDs")
		}
		if changes("securityTickets") && !asked("securityTicketCount", 1) {
			fail("securityTicketCount >= 1 when buying")
		}
		if !changes("securityTickets") && !zeroOrAbsent("securityTicketCount") {
			fail("securityTicketCount 0 or absent when not buying")
		}
		for path := range acceptedTable {
			if strings.HasPrefix(path, "securityContact") || path == "securityReportPassword" {
				if _, has := fields[path]; has != changes("securityContact") {
					fail(path + " exactly with changes.securityContact")
				}
			}
		}
	}
}

// FuzzFormField complements FuzzDecodeForm: it puts one fuzzed value into one field of an example
// form, so the fuzzer works on field values rather than on JSON syntax, and re-checks every form
// DecodeForm accepts just as FuzzDecodeForm does.
func FuzzFormField(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no example forms: %v", err)
	}
	examples := make([]map[string]any, len(files))
	for i, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if err := json.Unmarshal(raw, &examples[i]); err != nil {
			f.Fatal(err)
		}
	}
	paths := make([]string, 0, len(acceptedTable))
	for path := range acceptedTable {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	for i := range files {
		for j, path := range paths {
			f.Add(uint8(i), uint8(j), "ア"+path)
		}
	}
	for _, v := range []string{"2026/2/29", "03-1234-5678", "a@b.jp", "Abcdefg1", "ｱ", "C1234567890", "N000000001", "1000005", "10", "true", "null", "use"} {
		f.Add(uint8(0), uint8(0), v)
	}
	f.Fuzz(func(t *testing.T, example, field uint8, value string) {
		form := clone(examples[int(example)%len(examples)])
		path := paths[int(field)%len(paths)]
		var v any = value
		if json.Valid([]byte(value)) && !strings.HasPrefix(strings.TrimSpace(value), `"`) {
			v = json.RawMessage(value) // numbers, booleans, null, objects: as JSON
		}
		group, name, nested := strings.Cut(path, ".")
		if nested {
			obj, ok := form[group].(map[string]any)
			if !ok {
				obj = map[string]any{}
				form[group] = obj
			}
			obj[name] = v
		} else {
			form[path] = v
		}
		raw, err := json.Marshal(form)
		if err != nil {
			t.Skip() // not valid UTF-8 or not JSON: FuzzDecodeForm covers bodies like that
		}
		decoded, errs := order.DecodeForm(raw)
		if len(errs) > 0 {
			return
		}
		if v := decoded.Validate(); len(v) > 0 {
			t.Fatalf("DecodeForm accepted a form Validate refuses: %v", v)
		}
		recheckAcceptedForm(t, raw)
	})
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if obj, ok := v.(map[string]any); ok {
			v = clone(obj)
		}
		out[k] = v
	}
	return out
}
