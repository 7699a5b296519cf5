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

func exampleJSON(t testing.TB, typ order.Type) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", string(typ)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// submit changes an example as raw JSON (set a path to a value, or delete it with nil) and decodes it.
func submit(t *testing.T, typ order.Type, edits map[string]any) (order.Form, order.FieldErrors) {
	t.Helper()
	m := exampleJSON(t, typ)
	for path, v := range edits {
		obj := m
		parts := strings.Split(path, ".")
		for _, p := range parts[:len(parts)-1] {
			obj = obj[p].(map[string]any)
		}
		if v == nil {
			delete(obj, parts[len(parts)-1])
		} else {
			obj[parts[len(parts)-1]] = v
		}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return order.DecodeForm(raw)
}

func TestDecodeFormRefusesWhatIsNotAForm(t *testing.T) {
	cases := []struct {
		name, body string
		want       order.FieldErrors
	}{
		{"an empty body", "", order.FieldErrors{{Field: "", Code: order.CodeInvalidJSON}}},
		{"broken JSON", `{"type":"new",`, order.FieldErrors{{Field: "", Code: order.CodeInvalidJSON}}},
		{"two JSON objects", `{"type":"new"} {}`, order.FieldErrors{{Field: "", Code: order.CodeInvalidJSON}}},
		{"a body in Shift_JIS", "{\"type\":\"new\",\"customerRemarks\":\"\x82\xa0\"}", order.FieldErrors{{Field: "", Code: order.CodeInvalidJSON}}},
		{"a JSON array", `[{"type":"new"}]`, order.FieldErrors{{Field: "", Code: order.CodeInvalidType}}},
		{"a JSON string", `"new"`, order.FieldErrors{{Field: "", Code: order.CodeInvalidType}}},
		{"JSON null", `null`, order.FieldErrors{{Field: "", Code: order.CodeInvalidType}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := order.DecodeForm([]byte(tc.body))
			if got := withoutMessages(errs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", errs, tc.want)
			}
		})
	}
}

func TestDecodeFormIsStrictAboutJSONTypesAndNames(t *testing.T) {
	cases := []struct {
		name  string
		typ   order.Type
		edits map[string]any
		want  order.FieldErrors
	}{
		{"an unknown field", order.TypeNew, map[string]any{"campaignCode": "X1"},
			order.FieldErrors{{Field: "campaignCode", Code: order.CodeUnknownField}}},
		{"an unknown field in the contractor", order.TypeNew, map[string]any{"contractor.nickname": "ヤマト"},
			order.FieldErrors{{Field: "contractor.nickname", Code: order.CodeUnknownField}}},
		{"a field name in the wrong case", order.TypeCancel, map[string]any{"CustomerNumber": "N000000001"},
			order.FieldErrors{{Field: "CustomerNumber", Code: order.CodeUnknownField}}},
		{"a date as a number", order.TypeCancel, map[string]any{"appliedOn": 20280301},
			order.FieldErrors{{Field: "appliedOn", Code: order.CodeInvalidType}}},
		{"a count as a string", order.TypeNew, map[string]any{"additionalIds": "15"},
			order.FieldErrors{{Field: "additionalIds", Code: order.CodeInvalidType}}},
		{"a count with a fraction", order.TypeNew, map[string]any{"additionalIds": 15.5},
			order.FieldErrors{{Field: "additionalIds", Code: order.CodeInvalidType}}},
		{"a change flag as a string", order.TypeChange, map[string]any{"changes.healthCheckIds": "true"},
			order.FieldErrors{{Field: "changes.healthCheckIds", Code: order.CodeInvalidType}}},
		{"a postal code as a number", order.TypeSimpleChange, map[string]any{"contractor.postalCode": 5300001},
			order.FieldErrors{{Field: "contractor.postalCode", Code: order.CodeInvalidType}}},
		{"the contractor as a string", order.TypeCancel, map[string]any{"contractor": "株式会社大和商事"},
			order.FieldErrors{{Field: "contractor", Code: order.CodeInvalidType}}},
		{"the changes as a list", order.TypeChange, map[string]any{"changes": []any{"healthCheckIds"}},
			order.FieldErrors{{Field: "changes", Code: order.CodeInvalidType}}},
		{"a type as a number", order.TypeNew, map[string]any{"type": 1},
			order.FieldErrors{{Field: "type", Code: order.CodeInvalidType}}},
		{"null for an optional field", order.TypeNew, map[string]any{"contractor.building": json.RawMessage("null")}, nil},
		{"null for a required field", order.TypeNew, map[string]any{"plan": json.RawMessage("null")},
			order.FieldErrors{{Field: "plan", Code: order.CodeRequired}}},
		{"null for a field that must be absent", order.TypeCancel, map[string]any{"billingAddress": json.RawMessage("null")}, nil},
		{"a count with an exponent", order.TypeNew, map[string]any{"additionalIds": json.RawMessage("1.5e1")},
			order.FieldErrors{{Field: "additionalIds", Code: order.CodeInvalidType}}},
		{"a count too large for any integer", order.TypeNew, map[string]any{"additionalIds": json.RawMessage("123456789012345678901234567890")},
			order.FieldErrors{{Field: "additionalIds", Code: order.CodeOutOfRange}}},
		{"a negative count", order.TypeNew, map[string]any{"securityTicketCount": -1},
			order.FieldErrors{{Field: "securityTicketCount", Code: order.CodeOutOfRange}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := submit(t, tc.typ, tc.edits)
			if got := withoutMessages(errs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", errs, tc.want)
			}
		})
	}
}

func TestDecodeFormReportsADuplicateFieldAndKeepsTheFirst(t *testing.T) {
	body := `{"type":"cancel","appliedOn":"2028/3/1","appliedOn":"2028/3/2"}`
	f, errs := order.DecodeForm([]byte(body))
	if !errs.Has("appliedOn", order.CodeDuplicateField) {
		t.Errorf("errors %v lack appliedOn duplicateField", errs)
	}
	if f.AppliedOn == nil || *f.AppliedOn != "2028/3/1" {
		t.Errorf("appliedOn = %v, want the first value", f.AppliedOn)
	}
}

// TestDecodeFormReportsEveryProblemAtOnce submits one form with many problems of every kind and
// expects all of them, each with its path, in one answer.
func TestDecodeFormReportsEveryProblemAtOnce(t *testing.T) {
	body := `{
	  "type": "new",
	  "appliedOn": "2026/2/30",
	  "desiredDate": 20261201,
	  "customerNumber": "N000000001",
	  "commonCustomerId": "X1234567890",
	  "contractor": {
	    "nameKana": "ｶﾌﾞｼｷｶﾞｲｼｬ",
	    "name": "Yamato Shoji",
	    "postalCode": "100-0005",
	    "address": "東京都千代田区丸の内一丁目",
	    "addressNumber": "１番１号",
	    "fax": "03-1234-5678"
	  },
	  "contractContact": {"name": "山田　太郎", "phone": "03-1234-567", "email": "yamada@yamato-shoji.co.jp"},
	  "billingContact": {"name": "佐藤　花子", "phone": "03-1234-5679", "email": "keiri@@yamato-shoji.co.jp"},
	  "openingNotice": {"email": "it-admin@yamato-shoji.co.jp", "password": "password", "phone": "090-1234-5678",
	    "companyName": "株式会社大和商事", "name": "鈴木　一郎"},
	  "plan": "premium",
	  "healthCheckIdAddition": "use",
	  "additionalIds": 9,
	  "webFiltering": "use",
	  "securityTicketApplication": "yes",
	  "securityTicketCount": "2",
	  "securityContact": {"nameKana": "スズキ　イチロウ", "name": "鈴木　一郎", "department": "総務部",
	    "phone": "03-1234-5680", "email": "suzuki@yamato-shoji.co.jp,it@yamato-shoji.co.jp"},
	  "securityReportPassword": "Short1",
	  "idsAfterChange": 20
	}`
	_, errs := order.DecodeForm([]byte(body))
	want := order.FieldErrors{
		{Field: "desiredDate", Code: order.CodeInvalidType},
		{Field: "contractor.fax", Code: order.CodeUnknownField},
		{Field: "securityTicketCount", Code: order.CodeInvalidType},
		{Field: "appliedOn", Code: order.CodeInvalidDate},
		{Field: "customerNumber", Code: order.CodeMustBeAbsent},
		{Field: "commonCustomerId", Code: order.CodeInvalidFormat},
		{Field: "contractor.nameKana", Code: order.CodeNotKana},
		{Field: "contractor.name", Code: order.CodeNotFullWidth},
		{Field: "contractor.postalCode", Code: order.CodeNotDigits},
		{Field: "contractContact.phone", Code: order.CodeInvalidPhone},
		{Field: "billingAddress.postalCode", Code: order.CodeRequired},
		{Field: "billingAddress.address", Code: order.CodeRequired},
		{Field: "billingAddress.addressNumber", Code: order.CodeRequired},
		{Field: "billingAddress.recipientKana", Code: order.CodeRequired},
		{Field: "billingContact.email", Code: order.CodeInvalidEmail},
		{Field: "openingNotice.password", Code: order.CodePasswordRules},
		{Field: "plan", Code: order.CodeInvalidChoice},
		{Field: "additionalIds", Code: order.CodeOutOfRange},
		{Field: "idsAfterChange", Code: order.CodeMustBeAbsent},
		{Field: "securityContact.email", Code: order.CodeInvalidEmail},
		{Field: "securityReportPassword", Code: order.CodeTooShort},
	}
	if got := withoutMessages(errs); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", strings.ReplaceAll(errs.Error(), "; ", "\n"), want)
	}
}

func TestDecodeFormBoundsTheErrorList(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"type":"cancel"`)
	for i := range 1000 {
		b.WriteString(`,"x` + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + `":1`)
	}
	b.WriteString(`,"` + strings.Repeat("k", 5000) + `":1}`)
	_, errs := order.DecodeForm([]byte(b.String()))
	if len(errs) > 201 || errs[len(errs)-1].Code != order.CodeTooManyErrors {
		t.Fatalf("%d errors, last %v", len(errs), errs[len(errs)-1])
	}
	for _, e := range errs {
		if len(e.Field) > 300 {
			t.Fatalf("field path of %d bytes", len(e.Field))
		}
	}
}

// TestFormJSONRoundTrips: the API shows the form as submitted, so encoding a decoded form must
// give back the same fields and values.
func TestFormJSONRoundTrips(t *testing.T) {
	for _, typ := range []order.Type{order.TypeNew, order.TypeChange, order.TypeCancel, order.TypeSimpleChange} {
		t.Run(string(typ), func(t *testing.T) {
			f := example(t, typ)
			raw, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if want := exampleJSON(t, typ); !reflect.DeepEqual(got, want) {
				t.Errorf("round trip changed the form:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestRedactedFormHasNoPasswords(t *testing.T) {
	for _, typ := range []order.Type{order.TypeNew, order.TypeChange} {
		t.Run(string(typ), func(t *testing.T) {
			f := example(t, typ)
			r := f.Redacted()
			if r.OpeningNotice.Password != nil || r.SecurityReportPassword != nil {
				t.Fatalf("redacted form still has a password: %+v", r)
			}
			raw, _ := json.Marshal(r)
			for _, secret := range []string{*f.OpeningNotice.Password, *f.SecurityReportPassword} {
				if strings.Contains(string(raw), secret) {
					t.Errorf("redacted JSON contains %q", secret)
				}
			}
			if strings.Contains(string(raw), `"password"`) || strings.Contains(string(raw), "securityReportPassword") {
				t.Errorf("redacted JSON names a password field: %s", raw)
			}
			if f.OpeningNotice.Password == nil || f.SecurityReportPassword == nil {
				t.Fatal("Redacted changed the original form")
			}
			*r.OpeningNotice.Email = "changed@example.jp"
			*r.Contractor.Name = "変更"
			if *f.OpeningNotice.Email == "changed@example.jp" || *f.Contractor.Name == "変更" {
				t.Error("the redacted copy shares memory with the original")
			}
		})
	}
}
