package billing

// Issuer is the company that issues the invoices, with its qualified-invoice registration number
// (適格請求書発行事業者登録番号), both from configuration (docs/billing.md).
type Issuer struct {
	Name               string `json:"name"`
	RegistrationNumber string `json:"registrationNumber"`
}

// NewIssuer validates the issuer: a name, and a registration number of `T` followed by 13 digits.
// It reports both fields at once as a *ValidationError (ErrInvalidIssuer).
func NewIssuer(name, registrationNumber string) (Issuer, error) {
	errs := fieldErrors{kind: ErrInvalidIssuer}
	if name == "" {
		errs.add("name", CodeRequired, "the issuer's name is required")
	}
	if !validRegistrationNumber(registrationNumber) {
		errs.add("registrationNumber", CodeInvalidFormat, "registration number %q must be T followed by 13 digits", registrationNumber)
	}
	if err := errs.err(); err != nil {
		return Issuer{}, err
	}
	return Issuer{Name: name, RegistrationNumber: registrationNumber}, nil
}

func validRegistrationNumber(s string) bool {
	return len(s) == 14 && s[0] == 'T' && allDigits(s[1:])
}
