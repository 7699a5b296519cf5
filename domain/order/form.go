package order

import "reflect"

// This file holds the order application form (申込書) of SPEC section 2 as submitted: one struct for
// all four order types. DecodeForm (form_decode.go) builds it from JSON, Validate (form_rules.go)
// applies the field table, CheckAgainstContract (form_contract.go) the rules that need the contract.

// Type is the order type, the form's `type` field.
type Type string

// The four order types of SPEC section 2.
const (
	TypeNew          Type = "new"          // 新設: opens a contract
	TypeChange       Type = "change"       // 変更: IDs, web filtering, tickets, security contact
	TypeCancel       Type = "cancel"       // 廃止: terminates the contract
	TypeSimpleChange Type = "simpleChange" // 簡易変更: contractor details, no price change
)

// Valid reports whether t is one of the four order types.
func (t Type) Valid() bool {
	switch t {
	case TypeNew, TypeChange, TypeCancel, TypeSimpleChange:
		return true
	}
	return false
}

// Plan is the contract plan; the only plan is basic (基本メニュー).
type Plan string

// PlanBasic is the fixed value of the `plan` field.
const PlanBasic Plan = "basic"

// Usage answers "use it or not" (利用する/利用しない): `healthCheckIdAddition` and `webFiltering`.
type Usage string

// The values of a Usage field.
const (
	UsageUse    Usage = "use"
	UsageNotUse Usage = "notUse"
)

// IDChange is how a change order changes the additional health-check IDs (`healthCheckIdChange`).
type IDChange string

// The values of `healthCheckIdChange`.
const (
	IDChangeAdd    IDChange = "add"    // to a larger total, also from 0 (新規利用)
	IDChangeRemove IDChange = "remove" // to a smaller total, still at least 10
	IDChangeEnd    IDChange = "end"    // to 0 (利用終了)
)

// TicketApplication says whether a new order buys security tickets (`securityTicketApplication`).
type TicketApplication string

// The values of `securityTicketApplication`.
const (
	TicketYes TicketApplication = "yes"
	TicketNo  TicketApplication = "no"
)

// Form is an order application form as submitted, for any of the four order types.
//
// Every field but Type is a pointer: nil means the field was absent (or JSON null), so a rule can
// tell "absent" from "empty" or "zero". Choice fields keep whatever string was submitted, even one
// outside their enum, so that Validate can name the bad value. The JSON field names are those of
// SPEC section 2, and encoding a decoded Form gives back the submitted fields and values.
//
// A Form holds two secrets (OpeningNotice.Password, SecurityReportPassword): store or show only
// Redacted().
type Form struct {
	Type                      Type               `json:"type,omitempty"`
	AppliedOn                 *string            `json:"appliedOn,omitempty"`   // YYYY/M/D
	DesiredDate               *string            `json:"desiredDate,omitempty"` // YYYY/M/D
	CustomerNumber            *string            `json:"customerNumber,omitempty"`
	CommonCustomerID          *string            `json:"commonCustomerId,omitempty"`
	Contractor                *Contractor        `json:"contractor,omitempty"`
	ContractContact           *Contact           `json:"contractContact,omitempty"`
	BillingAddress            *BillingAddress    `json:"billingAddress,omitempty"`
	BillingContact            *Contact           `json:"billingContact,omitempty"`
	OpeningNotice             *OpeningNotice     `json:"openingNotice,omitempty"`
	CustomerRemarks           *string            `json:"customerRemarks,omitempty"`
	Changes                   *Changes           `json:"changes,omitempty"`
	Plan                      *Plan              `json:"plan,omitempty"`
	HealthCheckIDAddition     *Usage             `json:"healthCheckIdAddition,omitempty"`
	AdditionalIDs             *int               `json:"additionalIds,omitempty"`
	HealthCheckIDChange       *IDChange          `json:"healthCheckIdChange,omitempty"`
	IDsAfterChange            *int               `json:"idsAfterChange,omitempty"`
	WebFiltering              *Usage             `json:"webFiltering,omitempty"`
	SecurityTicketApplication *TicketApplication `json:"securityTicketApplication,omitempty"`
	SecurityTicketCount       *int               `json:"securityTicketCount,omitempty"`
	SecurityContact           *SecurityContact   `json:"securityContact,omitempty"`
	SecurityReportPassword    *string            `json:"securityReportPassword,omitempty" secret:"password"`
	// ConsultationID names the consultation whose ticket quote a change order buys (optional; its
	// rules are the consultation's: consultation.TicketOrderLink).
	ConsultationID *string `json:"consultationId,omitempty"`
}

// Contractor is the contracting company (契約者).
type Contractor struct {
	NameKana      *string `json:"nameKana,omitempty"`
	Name          *string `json:"name,omitempty"`
	PostalCode    *string `json:"postalCode,omitempty"`
	Address       *string `json:"address,omitempty"`       // prefecture to chome (都道府県市区町村名丁目)
	AddressNumber *string `json:"addressNumber,omitempty"` // the rest of the address (番地等)
	Building      *string `json:"building,omitempty"`
	Floor         *string `json:"floor,omitempty"`
}

// Contact is a person to reach: `contractContact` (契約に関する連絡先) and `billingContact`.
// Email may list several addresses, comma-separated.
type Contact struct {
	Name  *string `json:"name,omitempty"`
	Phone *string `json:"phone,omitempty"`
	Email *string `json:"email,omitempty"`
}

// BillingAddress is where invoices are sent (請求書送付先).
type BillingAddress struct {
	PostalCode    *string `json:"postalCode,omitempty"`
	Address       *string `json:"address,omitempty"`
	AddressNumber *string `json:"addressNumber,omitempty"`
	Building      *string `json:"building,omitempty"`
	Floor         *string `json:"floor,omitempty"`
	RecipientKana *string `json:"recipientKana,omitempty"`
	RecipientDept *string `json:"recipientDept,omitempty"`
}

// OpeningNotice is where the opening notice (開通案内) goes, and the password that opens it.
type OpeningNotice struct {
	Email       *string `json:"email,omitempty"`
	Password    *string `json:"password,omitempty" secret:"password"`
	Phone       *string `json:"phone,omitempty"`
	CompanyName *string `json:"companyName,omitempty"`
	Name        *string `json:"name,omitempty"`
}

// Changes says which parts a change order changes (変更有無).
type Changes struct {
	HealthCheckIDs  *bool `json:"healthCheckIds,omitempty"`
	WebFiltering    *bool `json:"webFiltering,omitempty"`
	SecurityTickets *bool `json:"securityTickets,omitempty"`
	SecurityContact *bool `json:"securityContact,omitempty"`
}

// SecurityContact is the customer's security person (セキュリティ担当者).
type SecurityContact struct {
	NameKana   *string `json:"nameKana,omitempty"`
	Name       *string `json:"name,omitempty"`
	Department *string `json:"department,omitempty"`
	Phone      *string `json:"phone,omitempty"`
	Email      *string `json:"email,omitempty"` // one address
}

// Redacted returns a deep copy of f without its two passwords (`openingNotice.password` and
// `securityReportPassword`): the form as the API shows it and as events record it.
func (f Form) Redacted() Form {
	g := f.Clone()
	if g.OpeningNotice != nil {
		g.OpeningNotice.Password = nil
	}
	g.SecurityReportPassword = nil
	return g
}

// Clone returns a deep copy of f: changing the copy through any of its pointers leaves f as it is.
func (f Form) Clone() Form {
	var g Form
	deepCopyFields(reflect.ValueOf(&g).Elem(), reflect.ValueOf(f))
	return g
}

// deepCopyFields copies src into dst (both addressable-or-not structs of one type made of values
// and pointers to values or to such structs), allocating a fresh target for every non-nil pointer.
func deepCopyFields(dst, src reflect.Value) {
	for i := range src.NumField() {
		from, to := src.Field(i), dst.Field(i)
		if from.Kind() != reflect.Pointer {
			to.Set(from)
			continue
		}
		if from.IsNil() {
			continue
		}
		p := reflect.New(from.Type().Elem())
		if from.Elem().Kind() == reflect.Struct {
			deepCopyFields(p.Elem(), from.Elem())
		} else {
			p.Elem().Set(from.Elem())
		}
		to.Set(p)
	}
}
