package order_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"yorozu/domain/order"
)

// example reads a valid complete form of the given type from testdata (the HTTP tests reuse them).
func example(t testing.TB, typ order.Type) order.Form {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", string(typ)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	f, errs := order.DecodeForm(raw)
	if len(errs) > 0 {
		t.Fatalf("testdata/%s.json: %v", typ, errs)
	}
	return f
}

func str(s string) *string { return &s }
func num(n int) *int       { return &n }
func flag(b bool) *bool    { return &b }

func use() *order.Usage                                          { u := order.UsageUse; return &u }
func notUse() *order.Usage                                       { u := order.UsageNotUse; return &u }
func idChange(c order.IDChange) *order.IDChange                  { return &c }
func tickets(a order.TicketApplication) *order.TicketApplication { return &a }

// chars returns n copies of s: lengths in the table count characters.
func chars(s string, n int) string { return strings.Repeat(s, n) }

// emailOfLen returns one valid address of exactly n characters (n >= 12), with labels of at most
// 63 characters.
func emailOfLen(n int) string {
	const local, tld = "yamada@", ".jp"
	rest := n - len(local) - len(tld)
	var labels []string
	for rest > 63 {
		labels = append(labels, chars("b", 60))
		rest -= 61
	}
	labels = append(labels, chars("b", rest))
	return local + strings.Join(labels, ".") + tld
}

func TestExampleFormsAreValid(t *testing.T) {
	for _, typ := range []order.Type{order.TypeNew, order.TypeChange, order.TypeCancel, order.TypeSimpleChange} {
		t.Run(string(typ), func(t *testing.T) {
			f := example(t, typ)
			if f.Type != typ {
				t.Fatalf("type = %q", f.Type)
			}
			if errs := f.Validate(); len(errs) > 0 {
				t.Fatal(errs)
			}
		})
	}
}

type ruleCase struct {
	name   string
	base   order.Type
	change func(f *order.Form)
	// field and code of the one expected problem; both empty when the form stays valid.
	field, code string
}

// TestFormRules has, for every rule of the SPEC section 2 form table, a case just inside and one
// just outside. Each case changes one thing in a valid example form and expects either no problem
// or exactly one, on the named field; it runs both on the typed form and through JSON.
func TestFormRules(t *testing.T) {
	const (
		newForm    = order.TypeNew
		change     = order.TypeChange
		cancel     = order.TypeCancel
		simple     = order.TypeSimpleChange
		ok         = ""
		required   = order.CodeRequired
		absent     = order.CodeMustBeAbsent
		tooLong    = order.CodeTooLong
		tooShort   = order.CodeTooShort
		notFW      = order.CodeNotFullWidth
		notKana    = order.CodeNotKana
		badDate    = order.CodeInvalidDate
		badPhone   = order.CodeInvalidPhone
		badEmail   = order.CodeInvalidEmail
		badFormat  = order.CodeInvalidFormat
		badChoice  = order.CodeInvalidChoice
		outOfRange = order.CodeOutOfRange
		pwRules    = order.CodePasswordRules
		control    = order.CodeControlChar
	)
	cases := []ruleCase{
		// type
		{"an order without a type is refused", newForm, func(f *order.Form) { f.Type = "" }, "type", required},
		{"an order of an unknown type is refused", newForm, func(f *order.Form) { f.Type = "modify" }, "type", badChoice},

		// appliedOn
		{"applied on a leap day", newForm, func(f *order.Form) { f.AppliedOn = str("2028/2/29"); f.DesiredDate = str("2028/3/1") }, ok, ok},
		{"applied on the 29th of February of a common year", newForm, func(f *order.Form) { f.AppliedOn = str("2027/2/29") }, "appliedOn", badDate},
		{"applied-on date with zero-padded month and day", newForm, func(f *order.Form) { f.AppliedOn = str("2026/11/02") }, ok, ok},
		{"applied-on date written with hyphens", newForm, func(f *order.Form) { f.AppliedOn = str("2026-11-02") }, "appliedOn", badDate},
		{"applied-on date in month 13", newForm, func(f *order.Form) { f.AppliedOn = str("2026/13/1") }, "appliedOn", badDate},
		{"applied-on date on April 31st", newForm, func(f *order.Form) { f.AppliedOn = str("2026/4/31") }, "appliedOn", badDate},
		{"applied-on date with a two-digit year", newForm, func(f *order.Form) { f.AppliedOn = str("26/11/2") }, "appliedOn", badDate},
		{"applied-on date in full-width digits", newForm, func(f *order.Form) { f.AppliedOn = str("２０２６/11/2") }, "appliedOn", badDate},
		{"simple change without an applied-on date", simple, func(f *order.Form) { f.AppliedOn = nil }, "appliedOn", required},
		{"cancel with a blank applied-on date", cancel, func(f *order.Form) { f.AppliedOn = str("") }, "appliedOn", required},
		{"applied on the first day of the service's years", cancel, func(f *order.Form) { f.AppliedOn = str("2000/1/1"); f.DesiredDate = str("2000/1/1") }, ok, ok},
		{"applied on the last day of the service's years", cancel, func(f *order.Form) { f.AppliedOn = str("2100/12/31"); f.DesiredDate = str("2100/12/31") }, ok, ok},
		{"applied on in the last century", simple, func(f *order.Form) { f.AppliedOn = str("1999/12/31") }, "appliedOn", outOfRange},
		{"applied on in the year 9999", simple, func(f *order.Form) { f.AppliedOn = str("9999/12/31") }, "appliedOn", outOfRange},
		{"desired date in the year 9999", newForm, func(f *order.Form) { f.DesiredDate = str("9999/12/28") }, "desiredDate", outOfRange},
		{"desired date in 2101", change, func(f *order.Form) { f.DesiredDate = str("2101/1/1") }, "desiredDate", outOfRange},

		// desiredDate
		{"desired date on the day of application", newForm, func(f *order.Form) { f.DesiredDate = str("2026/11/2") }, ok, ok},
		{"desired date the day before the application", newForm, func(f *order.Form) { f.DesiredDate = str("2026/11/1") }, "desiredDate", order.CodeBeforeAppliedOn},
		{"desired date a year before the application", change, func(f *order.Form) { f.DesiredDate = str("2026/3/1") }, "desiredDate", order.CodeBeforeAppliedOn},
		{"desired date that does not exist", cancel, func(f *order.Form) { f.DesiredDate = str("2028/2/30") }, "desiredDate", badDate},
		{"cancel without a desired date", cancel, func(f *order.Form) { f.DesiredDate = nil }, "desiredDate", required},
		{"simple change with a desired date", simple, func(f *order.Form) { f.DesiredDate = str("2027/7/1") }, "desiredDate", absent},

		// customerNumber
		{"new order that already names a customer number", newForm, func(f *order.Form) { f.CustomerNumber = str("N000000001") }, "customerNumber", absent},
		{"change without a customer number", change, func(f *order.Form) { f.CustomerNumber = nil }, "customerNumber", required},
		{"customer number with 8 digits", change, func(f *order.Form) { f.CustomerNumber = str("N00000001") }, "customerNumber", badFormat},
		{"customer number with 10 digits", cancel, func(f *order.Form) { f.CustomerNumber = str("N0000000001") }, "customerNumber", badFormat},
		{"customer number with a lower-case n", simple, func(f *order.Form) { f.CustomerNumber = str("n000000001") }, "customerNumber", badFormat},

		// commonCustomerId
		{"common customer ID starting with D", newForm, func(f *order.Form) { f.CommonCustomerID = str("D0123456789") }, ok, ok},
		{"common customer ID with 9 digits", newForm, func(f *order.Form) { f.CommonCustomerID = str("C123456789") }, "commonCustomerId", badFormat},
		{"common customer ID with 11 digits", change, func(f *order.Form) { f.CommonCustomerID = str("C12345678901") }, "commonCustomerId", badFormat},
		{"common customer ID starting with E", cancel, func(f *order.Form) { f.CommonCustomerID = str("E1234567890") }, "commonCustomerId", badFormat},
		{"simple change without a common customer ID", simple, func(f *order.Form) { f.CommonCustomerID = nil }, "commonCustomerId", required},

		// contractor.nameKana
		{"contractor kana of 80 characters", newForm, func(f *order.Form) { f.Contractor.NameKana = str(chars("ア", 80)) }, ok, ok},
		{"contractor kana of 81 characters", newForm, func(f *order.Form) { f.Contractor.NameKana = str(chars("ア", 81)) }, "contractor.nameKana", tooLong},
		{"contractor kana with the marks ー・ヽヾ, ヴ, ヺ and an ideographic space", simple, func(f *order.Form) { f.Contractor.NameKana = str("ヴァーチャル・ヽヾ　ヺァ") }, ok, ok},
		{"contractor kana with a half-width katakana", newForm, func(f *order.Form) { f.Contractor.NameKana = str("カブシキガイシャﾔﾏﾄ") }, "contractor.nameKana", notKana},
		{"contractor kana in hiragana", newForm, func(f *order.Form) { f.Contractor.NameKana = str("かぶしきがいしゃ") }, "contractor.nameKana", notKana},
		{"contractor kana with U+30A0 (just below the range)", newForm, func(f *order.Form) { f.Contractor.NameKana = str("ヤマト゠ショウジ") }, "contractor.nameKana", notKana},
		{"contractor kana with an ASCII space", newForm, func(f *order.Form) { f.Contractor.NameKana = str("ヤマト ショウジ") }, "contractor.nameKana", notKana},
		{"contractor kana with kanji", simple, func(f *order.Form) { f.Contractor.NameKana = str("大和ショウジ") }, "contractor.nameKana", notKana},
		{"contractor kana made of ideographic spaces only", newForm, func(f *order.Form) { f.Contractor.NameKana = str("　　") }, "contractor.nameKana", required},
		{"contractor kana on a change order", change, func(f *order.Form) { f.Contractor.NameKana = str("ヤマト") }, "contractor.nameKana", absent},
		{"contractor kana missing on a simple change", simple, func(f *order.Form) { f.Contractor.NameKana = nil }, "contractor.nameKana", required},

		// contractor.name
		{"contractor name of 80 full-width characters", newForm, func(f *order.Form) { f.Contractor.Name = str(chars("株", 80)) }, ok, ok},
		{"contractor name of 81 full-width characters", newForm, func(f *order.Form) { f.Contractor.Name = str(chars("株", 81)) }, "contractor.name", tooLong},
		{"contractor name with ambiguous-width characters (A)", newForm, func(f *order.Form) { f.Contractor.Name = str("株式会社①Ω") }, ok, ok},
		{"contractor name with full-width Latin letters", newForm, func(f *order.Form) { f.Contractor.Name = str("ＹＡＭＡＴＯ株式会社") }, ok, ok},
		{"contractor name with ASCII letters", newForm, func(f *order.Form) { f.Contractor.Name = str("YAMATO株式会社") }, "contractor.name", notFW},
		{"contractor name with a half-width katakana", newForm, func(f *order.Form) { f.Contractor.Name = str("株式会社ﾔﾏﾄ") }, "contractor.name", notFW},
		{"contractor name with an ASCII space", cancel, func(f *order.Form) { f.Contractor.Name = str("株式会社 大和商事") }, "contractor.name", notFW},
		{"change without a contractor name", change, func(f *order.Form) { f.Contractor.Name = nil }, "contractor.name", required},
		{"cancel without any contractor", cancel, func(f *order.Form) { f.Contractor = nil }, "contractor.name", required},

		// contractor.postalCode
		{"contractor postal code of 7 digits", simple, func(f *order.Form) { f.Contractor.PostalCode = str("0600001") }, ok, ok},
		{"contractor postal code with a hyphen", newForm, func(f *order.Form) { f.Contractor.PostalCode = str("100-0005") }, "contractor.postalCode", order.CodeNotDigits},
		{"contractor postal code in full-width digits", newForm, func(f *order.Form) { f.Contractor.PostalCode = str("１０００００５") }, "contractor.postalCode", order.CodeNotDigits},
		{"contractor postal code of 6 digits", newForm, func(f *order.Form) { f.Contractor.PostalCode = str("100000") }, "contractor.postalCode", tooShort},
		{"contractor postal code of 8 digits", newForm, func(f *order.Form) { f.Contractor.PostalCode = str("10000050") }, "contractor.postalCode", tooLong},
		{"contractor postal code on a cancel", cancel, func(f *order.Form) { f.Contractor.PostalCode = str("1000005") }, "contractor.postalCode", absent},

		// contractor address, number, building, floor
		{"contractor address of 46 characters", newForm, func(f *order.Form) { f.Contractor.Address = str(chars("東", 46)) }, ok, ok},
		{"contractor address of 47 characters", newForm, func(f *order.Form) { f.Contractor.Address = str(chars("東", 47)) }, "contractor.address", tooLong},
		{"contractor address with ASCII digits", simple, func(f *order.Form) { f.Contractor.Address = str("東京都千代田区丸の内1丁目") }, "contractor.address", notFW},
		{"contractor address missing on a new order", newForm, func(f *order.Form) { f.Contractor.Address = nil }, "contractor.address", required},
		{"contractor address number of 20 characters", newForm, func(f *order.Form) { f.Contractor.AddressNumber = str(chars("１", 20)) }, ok, ok},
		{"contractor address number of 21 characters", newForm, func(f *order.Form) { f.Contractor.AddressNumber = str(chars("１", 21)) }, "contractor.addressNumber", tooLong},
		{"contractor address number with an ASCII hyphen", newForm, func(f *order.Form) { f.Contractor.AddressNumber = str("１-１") }, "contractor.addressNumber", notFW},
		{"contractor address number on a change", change, func(f *order.Form) { f.Contractor.AddressNumber = str("１番") }, "contractor.addressNumber", absent},
		{"contractor building of 16 characters", newForm, func(f *order.Form) { f.Contractor.Building = str(chars("ビ", 16)) }, ok, ok},
		{"contractor building of 17 characters", newForm, func(f *order.Form) { f.Contractor.Building = str(chars("ビ", 17)) }, "contractor.building", tooLong},
		{"contractor without a building (optional)", newForm, func(f *order.Form) { f.Contractor.Building = nil }, ok, ok},
		{"contractor building on a cancel", cancel, func(f *order.Form) { f.Contractor.Building = str("ビル") }, "contractor.building", absent},
		{"contractor floor of 4 characters", simple, func(f *order.Form) { f.Contractor.Floor = str("地下１２") }, ok, ok},
		{"contractor floor of 5 characters", simple, func(f *order.Form) { f.Contractor.Floor = str("地下１２階") }, "contractor.floor", tooLong},
		{"contractor floor in ASCII", newForm, func(f *order.Form) { f.Contractor.Floor = str("12F") }, "contractor.floor", notFW},
		{"contractor without a floor (optional)", simple, func(f *order.Form) { f.Contractor.Floor = nil }, ok, ok},

		// contractContact
		{"contract contact name of 10 characters", newForm, func(f *order.Form) { f.ContractContact.Name = str(chars("山", 10)) }, ok, ok},
		{"contract contact name of 11 characters", cancel, func(f *order.Form) { f.ContractContact.Name = str(chars("山", 11)) }, "contractContact.name", tooLong},
		{"contract contact name in ASCII", simple, func(f *order.Form) { f.ContractContact.Name = str("Taro") }, "contractContact.name", notFW},
		{"contract contact phone of 10 digits", newForm, func(f *order.Form) { f.ContractContact.Phone = str("03-1234-5678") }, ok, ok},
		{"contract contact phone of 11 digits", newForm, func(f *order.Form) { f.ContractContact.Phone = str("090-1234-5678") }, ok, ok},
		{"contract contact phone of 11 digits without hyphens", newForm, func(f *order.Form) { f.ContractContact.Phone = str("09012345678") }, ok, ok},
		{"contract contact phone of 13 characters", newForm, func(f *order.Form) { f.ContractContact.Phone = str("0-90-1234-567") }, ok, ok},
		{"contract contact phone of 9 digits", newForm, func(f *order.Form) { f.ContractContact.Phone = str("03-1234-567") }, "contractContact.phone", badPhone},
		{"contract contact phone of 12 digits", newForm, func(f *order.Form) { f.ContractContact.Phone = str("090-1234-56789") }, "contractContact.phone", tooLong},
		{"contract contact phone of 12 digits in 13 characters", newForm, func(f *order.Form) { f.ContractContact.Phone = str("090-123456789") }, "contractContact.phone", badPhone},
		{"contract contact phone of 14 characters with 11 digits", newForm, func(f *order.Form) { f.ContractContact.Phone = str("0-90-1234-5678") }, "contractContact.phone", tooLong},
		{"contract contact phone with two hyphens in a row", cancel, func(f *order.Form) { f.ContractContact.Phone = str("03--1234-5678") }, "contractContact.phone", badPhone},
		{"contract contact phone starting with a hyphen", cancel, func(f *order.Form) { f.ContractContact.Phone = str("-0312345678") }, "contractContact.phone", badPhone},
		{"contract contact phone with parentheses", simple, func(f *order.Form) { f.ContractContact.Phone = str("03(1234)5678") }, "contractContact.phone", badPhone},
		{"contract contact phone in full-width digits", simple, func(f *order.Form) { f.ContractContact.Phone = str("０３１２３４５６７８") }, "contractContact.phone", badPhone},
		{"contract contact e-mail list of 82 characters", newForm, func(f *order.Form) { f.ContractContact.Email = str(emailOfLen(40) + "," + emailOfLen(41)) }, ok, ok},
		{"contract contact e-mail list of 83 characters", newForm, func(f *order.Form) { f.ContractContact.Email = str(emailOfLen(41) + "," + emailOfLen(41)) }, "contractContact.email", tooLong},
		{"contract contact e-mail list with a space after the comma", newForm, func(f *order.Form) { f.ContractContact.Email = str("a@example.jp, b@example.jp") }, "contractContact.email", badEmail},
		{"contract contact e-mail list with an empty entry", cancel, func(f *order.Form) { f.ContractContact.Email = str("a@example.jp,,b@example.jp") }, "contractContact.email", badEmail},
		{"contract contact e-mail list with a trailing comma", cancel, func(f *order.Form) { f.ContractContact.Email = str("a@example.jp,") }, "contractContact.email", badEmail},
		{"contract contact e-mail without a domain dot", simple, func(f *order.Form) { f.ContractContact.Email = str("yamada@localhost") }, "contractContact.email", badEmail},
		{"contract contact e-mail with a Japanese local part", simple, func(f *order.Form) { f.ContractContact.Email = str("山田@example.jp") }, "contractContact.email", badEmail},
		{"contract contact e-mail with two dots in a row", simple, func(f *order.Form) { f.ContractContact.Email = str("ta..ro@example.jp") }, "contractContact.email", badEmail},
		{"contract contact e-mail without @", newForm, func(f *order.Form) { f.ContractContact.Email = str("yamada.example.jp") }, "contractContact.email", badEmail},
		{"contract contact e-mail with plus and hyphenated domain", newForm, func(f *order.Form) { f.ContractContact.Email = str("yamada+yorozu@yamato-shoji.co.jp") }, ok, ok},
		{"contract contact on a change order", change, func(f *order.Form) { f.ContractContact = &order.Contact{Name: str("山田")} }, "contractContact", absent},
		{"cancel without the contract contact phone", cancel, func(f *order.Form) { f.ContractContact.Phone = nil }, "contractContact.phone", required},

		// billingAddress
		{"billing address without a building (optional, as on the contractor)", newForm, func(f *order.Form) { f.BillingAddress.Building = nil }, ok, ok},
		{"billing floor of 5 characters", newForm, func(f *order.Form) { f.BillingAddress.Floor = str("地下１２階") }, "billingAddress.floor", tooLong},
		{"billing postal code of 6 digits", newForm, func(f *order.Form) { f.BillingAddress.PostalCode = str("100000") }, "billingAddress.postalCode", tooShort},
		{"billing address of 47 characters", newForm, func(f *order.Form) { f.BillingAddress.Address = str(chars("東", 47)) }, "billingAddress.address", tooLong},
		{"billing address number with ASCII", newForm, func(f *order.Form) { f.BillingAddress.AddressNumber = str("1-1") }, "billingAddress.addressNumber", notFW},
		{"billing recipient kana of 30 characters", newForm, func(f *order.Form) { f.BillingAddress.RecipientKana = str(chars("カ", 30)) }, ok, ok},
		{"billing recipient kana of 31 characters", newForm, func(f *order.Form) { f.BillingAddress.RecipientKana = str(chars("カ", 31)) }, "billingAddress.recipientKana", tooLong},
		{"billing recipient kana with half-width katakana", newForm, func(f *order.Form) { f.BillingAddress.RecipientKana = str("ｶﾌﾞｼｷｶﾞｲｼｬ") }, "billingAddress.recipientKana", notKana},
		{"billing recipient department of 20 characters", newForm, func(f *order.Form) { f.BillingAddress.RecipientDept = str(chars("経", 20)) }, ok, ok},
		{"billing recipient department of 21 characters", newForm, func(f *order.Form) { f.BillingAddress.RecipientDept = str(chars("経", 21)) }, "billingAddress.recipientDept", tooLong},
		{"billing address without a department (optional)", newForm, func(f *order.Form) { f.BillingAddress.RecipientDept = nil }, ok, ok},
		{"billing address on a simple change", simple, func(f *order.Form) { f.BillingAddress = &order.BillingAddress{} }, "billingAddress", absent},

		// billingContact
		{"billing contact phone of 9 digits", newForm, func(f *order.Form) { f.BillingContact.Phone = str("031234567") }, "billingContact.phone", badPhone},
		{"billing contact e-mail with a space", newForm, func(f *order.Form) { f.BillingContact.Email = str("keiri @yamato-shoji.co.jp") }, "billingContact.email", badEmail},
		{"billing contact name of 11 characters", newForm, func(f *order.Form) { f.BillingContact.Name = str(chars("佐", 11)) }, "billingContact.name", tooLong},
		{"billing contact on a cancel", cancel, func(f *order.Form) { f.BillingContact = &order.Contact{} }, "billingContact", absent},

		// openingNotice
		{"opening notice e-mail of 125 characters", newForm, func(f *order.Form) { f.OpeningNotice.Email = str(emailOfLen(125)) }, ok, ok},
		{"opening notice e-mail of 126 characters", change, func(f *order.Form) { f.OpeningNotice.Email = str(emailOfLen(126)) }, "openingNotice.email", tooLong},
		{"opening notice to two addresses", newForm, func(f *order.Form) { f.OpeningNotice.Email = str("a@example.jp,b@example.jp") }, "openingNotice.email", badEmail},
		{"opening notice password of 8 characters", newForm, func(f *order.Form) { f.OpeningNotice.Password = str("Abcdefg1") }, ok, ok},
		{"opening notice password of 10 characters", change, func(f *order.Form) { f.OpeningNotice.Password = str("Abcdefgh12") }, ok, ok},
		{"opening notice password of 7 characters", newForm, func(f *order.Form) { f.OpeningNotice.Password = str("Abcdef1") }, "openingNotice.password", tooShort},
		{"opening notice password of 11 characters", newForm, func(f *order.Form) { f.OpeningNotice.Password = str("Abcdefgh123") }, "openingNotice.password", tooLong},
		{"opening notice password without an upper-case letter", newForm, func(f *order.Form) { f.OpeningNotice.Password = str("abcdefg12") }, "openingNotice.password", pwRules},
		{"opening notice password without a lower-case letter", change, func(f *order.Form) { f.OpeningNotice.Password = str("ABCDEFG12") }, "openingNotice.password", pwRules},
		{"opening notice password without a digit", change, func(f *order.Form) { f.OpeningNotice.Password = str("Abcdefghi") }, "openingNotice.password", pwRules},
		{"opening notice password with a symbol", newForm, func(f *order.Form) { f.OpeningNotice.Password = str("Abc-defg1") }, "openingNotice.password", pwRules},
		{"opening notice password with a full-width letter", newForm, func(f *order.Form) { f.OpeningNotice.Password = str("Ａbcdefg1") }, "openingNotice.password", pwRules},
		{"opening notice phone of 12 digits", change, func(f *order.Form) { f.OpeningNotice.Phone = str("090123456789") }, "openingNotice.phone", badPhone},
		{"opening notice company name of 80 characters", newForm, func(f *order.Form) { f.OpeningNotice.CompanyName = str(chars("社", 80)) }, ok, ok},
		{"opening notice company name of 81 characters", newForm, func(f *order.Form) { f.OpeningNotice.CompanyName = str(chars("社", 81)) }, "openingNotice.companyName", tooLong},
		{"opening notice name of 11 characters", change, func(f *order.Form) { f.OpeningNotice.Name = str(chars("鈴", 11)) }, "openingNotice.name", tooLong},
		{"change without the opening notice password", change, func(f *order.Form) { f.OpeningNotice.Password = nil }, "openingNotice.password", required},
		{"opening notice on a cancel", cancel, func(f *order.Form) { f.OpeningNotice = &order.OpeningNotice{Email: str("a@example.jp")} }, "openingNotice", absent},

		// customerRemarks
		{"remarks of 1000 characters with line breaks and ASCII", newForm, func(f *order.Form) { f.CustomerRemarks = str(chars("要望 a\n", 200)) }, ok, ok},
		{"remarks of 1001 characters", cancel, func(f *order.Form) { f.CustomerRemarks = str(chars("要", 1001)) }, "customerRemarks", tooLong},
		{"no remarks (optional)", simple, func(f *order.Form) { f.CustomerRemarks = nil }, ok, ok},
		{"remarks with a replacement character", cancel, func(f *order.Form) { f.CustomerRemarks = str("文字化け\uFFFD") }, "customerRemarks", order.CodeInvalidEncoding},
		{"remarks with tabs and line breaks", change, func(f *order.Form) { f.CustomerRemarks = str("一行目\n\t二行目") }, ok, ok},
		{"remarks with a NUL", newForm, func(f *order.Form) { f.CustomerRemarks = str("至急\u0000") }, "customerRemarks", control},
		{"remarks with a carriage return", cancel, func(f *order.Form) { f.CustomerRemarks = str("一行目\r\n二行目") }, "customerRemarks", control},
		{"remarks with an escape character", simple, func(f *order.Form) { f.CustomerRemarks = str("\x1b[31m赤") }, "customerRemarks", control},
		{"remarks with a C1 control", newForm, func(f *order.Form) { f.CustomerRemarks = str("次\u0085行") }, "customerRemarks", control},
		{"remarks with DEL", newForm, func(f *order.Form) { f.CustomerRemarks = str("削除\u007f") }, "customerRemarks", control},
		{"contractor name with a NUL", change, func(f *order.Form) { f.Contractor.Name = str("株式会社大和商事\u0000") }, "contractor.name", control},
		{"contractor address with a tab", newForm, func(f *order.Form) { f.Contractor.Address = str("東京都\t千代田区") }, "contractor.address", notFW},
		{"kana with a NUL", simple, func(f *order.Form) { f.Contractor.NameKana = str("\u0000カブシキガイシャ") }, "contractor.nameKana", control},
		{"e-mail with a NUL", newForm, func(f *order.Form) { f.OpeningNotice.Email = str("it@example.jp\u0000") }, "openingNotice.email", control},
		{"password with a NUL", newForm, func(f *order.Form) { f.SecurityReportPassword = str("Yamato2026\u0000") }, "securityReportPassword", control},
		{"a required field that is only a control character", newForm, func(f *order.Form) { f.Contractor.Name = str("\u000b") }, "contractor.name", control},

		// changes
		{"change that changes nothing", change, func(f *order.Form) {
			f.Changes = &order.Changes{HealthCheckIDs: flag(false), WebFiltering: flag(false), SecurityTickets: flag(false), SecurityContact: flag(false)}
			f.HealthCheckIDChange, f.IDsAfterChange, f.SecurityTicketCount, f.SecurityContact, f.SecurityReportPassword = nil, nil, nil, nil, nil
		}, "changes", order.CodeNothingSelected},
		{"change that only buys tickets", change, func(f *order.Form) {
			f.Changes = &order.Changes{HealthCheckIDs: flag(false), WebFiltering: flag(false), SecurityTickets: flag(true), SecurityContact: flag(false)}
			f.HealthCheckIDChange, f.IDsAfterChange, f.SecurityContact, f.SecurityReportPassword = nil, nil, nil, nil
		}, ok, ok},
		{"change that does not say whether tickets change", change, func(f *order.Form) { f.Changes.SecurityTickets = nil }, "changes.securityTickets", required},
		{"changes on a new order", newForm, func(f *order.Form) { f.Changes = &order.Changes{WebFiltering: flag(true)} }, "changes", absent},

		// plan
		{"new order for a premium plan", newForm, func(f *order.Form) { p := order.Plan("premium"); f.Plan = &p }, "plan", badChoice},
		{"new order without a plan", newForm, func(f *order.Form) { f.Plan = nil }, "plan", required},
		{"plan on a change order", change, func(f *order.Form) { p := order.PlanBasic; f.Plan = &p }, "plan", absent},

		// healthCheckIdAddition and additionalIds
		{"new order adding 10 IDs with web filtering (15 in all)", newForm, func(f *order.Form) { f.AdditionalIDs = num(10) }, ok, ok},
		{"new order adding 9999 IDs", newForm, func(f *order.Form) { f.AdditionalIDs = num(9999) }, ok, ok},
		{"new order adding 9 IDs", newForm, func(f *order.Form) { f.AdditionalIDs = num(9) }, "additionalIds", outOfRange},
		{"new order adding 10000 IDs", newForm, func(f *order.Form) { f.AdditionalIDs = num(10000) }, "additionalIds", outOfRange},
		{"new order adding 0 IDs while asking for an addition", newForm, func(f *order.Form) { f.AdditionalIDs = num(0) }, "additionalIds", outOfRange},
		{"new order asking for an addition without a count", newForm, func(f *order.Form) { f.AdditionalIDs = nil }, "additionalIds", required},
		{"new order without additions and additionalIds 0", newForm, func(f *order.Form) { noAdditions(f); f.AdditionalIDs = num(0) }, ok, ok},
		{"new order without additions and no additionalIds", newForm, func(f *order.Form) { noAdditions(f) }, ok, ok},
		{"new order without additions but additionalIds 10", newForm, func(f *order.Form) { noAdditions(f); f.AdditionalIDs = num(10) }, "additionalIds", absent},
		{"new order with an unknown addition choice", newForm, func(f *order.Form) { u := order.Usage("yes"); f.HealthCheckIDAddition = &u }, "healthCheckIdAddition", badChoice},
		{"new order without the addition choice", newForm, func(f *order.Form) { f.HealthCheckIDAddition = nil }, "healthCheckIdAddition", required},
		{"additionalIds on a change order", change, func(f *order.Form) { f.AdditionalIDs = num(0) }, "additionalIds", absent},
		{"addition choice on a simple change", simple, func(f *order.Form) { f.HealthCheckIDAddition = notUse() }, "healthCheckIdAddition", absent},

		// healthCheckIdChange and idsAfterChange
		{"change adding to 10 IDs", change, func(f *order.Form) { f.IDsAfterChange = num(10) }, ok, ok},
		{"change adding to 9 IDs", change, func(f *order.Form) { f.IDsAfterChange = num(9) }, "idsAfterChange", outOfRange},
		{"change removing to 9999 IDs", change, func(f *order.Form) {
			f.HealthCheckIDChange = idChange(order.IDChangeRemove)
			f.IDsAfterChange = num(9999)
		}, ok, ok},
		{"change removing to 10000 IDs", change, func(f *order.Form) {
			f.HealthCheckIDChange = idChange(order.IDChangeRemove)
			f.IDsAfterChange = num(10000)
		}, "idsAfterChange", outOfRange},
		{"change adding IDs without the count after", change, func(f *order.Form) { f.IDsAfterChange = nil }, "idsAfterChange", required},
		{"change ending IDs without a count", change, func(f *order.Form) { f.HealthCheckIDChange = idChange(order.IDChangeEnd); f.IDsAfterChange = nil }, ok, ok},
		{"change ending IDs with count 0", change, func(f *order.Form) { f.HealthCheckIDChange = idChange(order.IDChangeEnd); f.IDsAfterChange = num(0) }, ok, ok},
		{"change ending IDs with count 10", change, func(f *order.Form) { f.HealthCheckIDChange = idChange(order.IDChangeEnd); f.IDsAfterChange = num(10) }, "idsAfterChange", absent},
		{"change of IDs without saying how", change, func(f *order.Form) { f.HealthCheckIDChange = nil; f.IDsAfterChange = nil }, "healthCheckIdChange", required},
		{"change of IDs by an unknown way", change, func(f *order.Form) { f.HealthCheckIDChange = idChange("increase") }, "healthCheckIdChange", badChoice},
		{"ID change kind on a change that keeps the IDs", change, func(f *order.Form) { keepIDs(f); f.HealthCheckIDChange = idChange(order.IDChangeAdd) }, "healthCheckIdChange", absent},
		{"count after change 0 on a change that keeps the IDs", change, func(f *order.Form) { keepIDs(f); f.IDsAfterChange = num(0) }, ok, ok},
		{"count after change 20 on a change that keeps the IDs", change, func(f *order.Form) { keepIDs(f); f.IDsAfterChange = num(20) }, "idsAfterChange", absent},
		{"count after change on a new order", newForm, func(f *order.Form) { f.IDsAfterChange = num(20) }, "idsAfterChange", absent},

		// webFiltering
		{"new order without web filtering", newForm, func(f *order.Form) { f.WebFiltering = notUse() }, ok, ok},
		{"new order with web filtering on the 5 included IDs only", newForm, func(f *order.Form) { noAdditions(f) }, ok, ok},
		{"new order with web filtering but no additional IDs", newForm, func(f *order.Form) { noAdditions(f); f.WebFiltering = use() }, "webFiltering", order.CodeTooFewIDs},
		{"new order without the web filtering choice", newForm, func(f *order.Form) { f.WebFiltering = nil }, "webFiltering", required},
		{"new order with web filtering \"on\"", newForm, func(f *order.Form) { u := order.Usage("on"); f.WebFiltering = &u }, "webFiltering", badChoice},
		{"change turning web filtering on", change, func(f *order.Form) { f.Changes.WebFiltering = flag(true); f.WebFiltering = use() }, ok, ok},
		{"change of web filtering without the choice", change, func(f *order.Form) { f.Changes.WebFiltering = flag(true) }, "webFiltering", required},
		{"web filtering choice on a change that keeps it", change, func(f *order.Form) { f.WebFiltering = notUse() }, "webFiltering", absent},
		{"change turning web filtering on while ending the IDs", change, func(f *order.Form) {
			f.Changes.WebFiltering = flag(true)
			f.WebFiltering = use()
			f.HealthCheckIDChange = idChange(order.IDChangeEnd)
			f.IDsAfterChange = nil
		}, "webFiltering", order.CodeTooFewIDs},
		{"web filtering on a cancel", cancel, func(f *order.Form) { f.WebFiltering = notUse() }, "webFiltering", absent},

		// securityTicketApplication and securityTicketCount
		{"new order buying 1 ticket", newForm, func(f *order.Form) { f.SecurityTicketCount = num(1) }, ok, ok},
		{"new order buying 9999 tickets", newForm, func(f *order.Form) { f.SecurityTicketCount = num(9999) }, ok, ok},
		{"new order buying 0 tickets", newForm, func(f *order.Form) { f.SecurityTicketCount = num(0) }, "securityTicketCount", outOfRange},
		{"new order buying 10000 tickets", newForm, func(f *order.Form) { f.SecurityTicketCount = num(10000) }, "securityTicketCount", outOfRange},
		{"new order buying tickets without a count", newForm, func(f *order.Form) { f.SecurityTicketCount = nil }, "securityTicketCount", required},
		{"new order without tickets and count 0", newForm, func(f *order.Form) {
			f.SecurityTicketApplication = tickets(order.TicketNo)
			f.SecurityTicketCount = num(0)
		}, ok, ok},
		{"new order without tickets and no count", newForm, func(f *order.Form) {
			f.SecurityTicketApplication = tickets(order.TicketNo)
			f.SecurityTicketCount = nil
		}, ok, ok},
		{"new order without tickets but count 3", newForm, func(f *order.Form) {
			f.SecurityTicketApplication = tickets(order.TicketNo)
			f.SecurityTicketCount = num(3)
		}, "securityTicketCount", absent},
		{"new order with ticket choice \"maybe\"", newForm, func(f *order.Form) { f.SecurityTicketApplication = tickets("maybe") }, "securityTicketApplication", badChoice},
		{"new order without the ticket choice", newForm, func(f *order.Form) { f.SecurityTicketApplication = nil }, "securityTicketApplication", required},
		{"change buying 9999 tickets", change, func(f *order.Form) { f.SecurityTicketCount = num(9999) }, ok, ok},
		{"change buying 0 tickets", change, func(f *order.Form) { f.SecurityTicketCount = num(0) }, "securityTicketCount", outOfRange},
		{"change buying tickets without a count", change, func(f *order.Form) { f.SecurityTicketCount = nil }, "securityTicketCount", required},
		{"ticket count 5 on a change that buys none", change, func(f *order.Form) { f.Changes.SecurityTickets = flag(false) }, "securityTicketCount", absent},
		{"ticket count 0 on a change that buys none", change, func(f *order.Form) { f.Changes.SecurityTickets = flag(false); f.SecurityTicketCount = num(0) }, ok, ok},
		{"ticket choice on a change order", change, func(f *order.Form) { f.SecurityTicketApplication = tickets(order.TicketYes) }, "securityTicketApplication", absent},
		{"ticket count on a cancel", cancel, func(f *order.Form) { f.SecurityTicketCount = num(0) }, "securityTicketCount", absent},

		// securityContact
		{"security contact kana of 80 characters", newForm, func(f *order.Form) { f.SecurityContact.NameKana = str(chars("ス", 80)) }, ok, ok},
		{"security contact kana of 81 characters", change, func(f *order.Form) { f.SecurityContact.NameKana = str(chars("ス", 81)) }, "securityContact.nameKana", tooLong},
		{"security contact kana in romaji", newForm, func(f *order.Form) { f.SecurityContact.NameKana = str("SUZUKI") }, "securityContact.nameKana", notKana},
		{"security contact name of 10 characters", newForm, func(f *order.Form) { f.SecurityContact.Name = str(chars("鈴", 10)) }, ok, ok},
		{"security contact name of 11 characters", newForm, func(f *order.Form) { f.SecurityContact.Name = str(chars("鈴", 11)) }, "securityContact.name", tooLong},
		{"security contact department of 80 characters", newForm, func(f *order.Form) { f.SecurityContact.Department = str(chars("部", 80)) }, ok, ok},
		{"security contact department of 81 characters", change, func(f *order.Form) { f.SecurityContact.Department = str(chars("部", 81)) }, "securityContact.department", tooLong},
		{"security contact department with half-width katakana", newForm, func(f *order.Form) { f.SecurityContact.Department = str("ｼｽﾃﾑ部") }, "securityContact.department", notFW},
		{"security contact phone of 14 characters", newForm, func(f *order.Form) { f.SecurityContact.Phone = str("0-3-1234-56789") }, "securityContact.phone", tooLong},
		{"security contact e-mail of 82 characters", newForm, func(f *order.Form) { f.SecurityContact.Email = str(emailOfLen(82)) }, ok, ok},
		{"security contact e-mail of 83 characters", change, func(f *order.Form) { f.SecurityContact.Email = str(emailOfLen(83)) }, "securityContact.email", tooLong},
		{"security contact with two e-mail addresses", newForm, func(f *order.Form) { f.SecurityContact.Email = str("a@example.jp,b@example.jp") }, "securityContact.email", badEmail},
		{"new order without a security contact department", newForm, func(f *order.Form) { f.SecurityContact.Department = nil }, "securityContact.department", required},
		{"change of security contact without the phone", change, func(f *order.Form) { f.SecurityContact.Phone = nil }, "securityContact.phone", required},
		{"security contact on a change that keeps it", change, func(f *order.Form) { f.Changes.SecurityContact = flag(false); f.SecurityReportPassword = nil }, "securityContact", absent},
		{"security contact on a simple change", simple, func(f *order.Form) { f.SecurityContact = &order.SecurityContact{} }, "securityContact", absent},

		// securityReportPassword
		{"report password of 8 characters", newForm, func(f *order.Form) { f.SecurityReportPassword = str("Abcdefg1") }, ok, ok},
		{"report password of 40 characters", change, func(f *order.Form) { f.SecurityReportPassword = str("Aa1" + chars("b", 37)) }, ok, ok},
		{"report password of 7 characters", newForm, func(f *order.Form) { f.SecurityReportPassword = str("Abcdef1") }, "securityReportPassword", tooShort},
		{"report password of 41 characters", newForm, func(f *order.Form) { f.SecurityReportPassword = str("Aa1" + chars("b", 38)) }, "securityReportPassword", tooLong},
		{"report password without a digit", newForm, func(f *order.Form) { f.SecurityReportPassword = str("YamatoReport") }, "securityReportPassword", pwRules},
		{"report password with a space", change, func(f *order.Form) { f.SecurityReportPassword = str("Yamato Report1") }, "securityReportPassword", pwRules},
		{"change of security contact without the report password", change, func(f *order.Form) { f.SecurityReportPassword = nil }, "securityReportPassword", required},
		{"report password on a change that keeps the contact", change, func(f *order.Form) { f.Changes.SecurityContact = flag(false); f.SecurityContact = nil }, "securityReportPassword", absent},
		{"report password on a cancel", cancel, func(f *order.Form) { f.SecurityReportPassword = str("Abcdefg1") }, "securityReportPassword", absent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := example(t, tc.base)
			tc.change(&f)
			want := order.FieldErrors(nil)
			if tc.code != "" {
				want = order.FieldErrors{{Field: tc.field, Code: tc.code}}
			}
			if got := withoutMessages(f.Validate()); !reflect.DeepEqual(got, want) {
				t.Errorf("Validate() = %v, want %v", got, want)
			}
			raw, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, errs := order.DecodeForm(raw); !reflect.DeepEqual(withoutMessages(errs), want) {
				t.Errorf("DecodeForm(%s) = %v, want %v", raw, errs, want)
			}
		})
	}
}

// noAdditions turns a new example into an order with the 5 included IDs only, no web filtering.
func noAdditions(f *order.Form) {
	f.HealthCheckIDAddition = notUse()
	f.AdditionalIDs = nil
	f.WebFiltering = notUse()
}

// keepIDs turns the change example into one that does not change the health-check IDs.
func keepIDs(f *order.Form) {
	f.Changes.HealthCheckIDs = flag(false)
	f.HealthCheckIDChange = nil
	f.IDsAfterChange = nil
}

func withoutMessages(errs order.FieldErrors) order.FieldErrors {
	if len(errs) == 0 {
		return nil
	}
	out := make(order.FieldErrors, len(errs))
	for i, e := range errs {
		if e.Message == "" {
			panic("a FieldError without a message: " + e.Field)
		}
		out[i] = order.FieldError{Field: e.Field, Code: e.Code}
	}
	return out
}
