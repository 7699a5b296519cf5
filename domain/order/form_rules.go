package order

import "fmt"

// presence is what the SPEC table's R, O, - and C columns decide for one field of one form.
type presence struct {
	kind presenceKind
	// why ends the message, e.g. " on a cancel order", " when healthCheckIdAddition is use".
	why string
}

type presenceKind uint8

const (
	// undecided: the order type or the controlling choice is missing or invalid (and reported as
	// such), so only the value itself is checked.
	undecided presenceKind = iota
	required
	optional
	absent
	// notAsked: a C field whose choice does not ask for it; it must be absent, but for a number
	// 0, the paper form's default, counts as absent ("0 or absent when notUse").
	notAsked
)

// formCheck collects the problems of one form in field order.
type formCheck struct {
	typ  Type
	errs FieldErrors
}

func (c *formCheck) add(field, code, message string) {
	c.errs = append(c.errs, FieldError{Field: field, Code: code, Message: message})
}

// per reads one row of the SPEC table: cols holds the letters of the columns new, change, cancel,
// simpleChange, each R, O or - ("R--R" is contractor.nameKana). Use perC for a row with a C.
func (c *formCheck) per(cols string) presence {
	return c.perC(cols, presence{})
}

// tableColumn is the column of each order type in the SPEC table.
var tableColumn = map[Type]int{TypeNew: 0, TypeChange: 1, TypeCancel: 2, TypeSimpleChange: 3}

// perC is per for a row with C letters; cond is what the related choice asks of this form.
func (c *formCheck) perC(cols string, cond presence) presence {
	i, ok := tableColumn[c.typ]
	if !ok {
		return presence{}
	}
	why := fmt.Sprintf(" on a %s order", c.typ)
	switch cols[i] {
	case 'R':
		return presence{required, why}
	case 'O':
		return presence{optional, why}
	case '-':
		return presence{absent, why}
	}
	return cond
}

// when is the presence of a C field as its controlling choice decides it: asked (required), not
// asked (absent), or not known because the choice itself is missing or invalid.
func when(asked, known bool, why string) presence {
	switch {
	case !known:
		return presence{}
	case asked:
		return presence{required, why}
	}
	return presence{notAsked, why}
}

// group checks a nested object as a whole: where all its fields must be absent, one error on the
// object says so. It reports whether its fields are still to be checked.
func (c *formCheck) group(field string, present bool, p presence) bool {
	if present && (p.kind == absent || p.kind == notAsked) {
		c.add(field, CodeMustBeAbsent, "must be absent"+p.why)
		return false
	}
	return true
}

// text checks one string field; ok means it is present and good, so cross-field rules may use it.
func (c *formCheck) text(field string, v *string, p presence, rule textRule) (ok bool) {
	switch {
	case v == nil:
		if p.kind == required {
			c.add(field, CodeRequired, "is required"+p.why)
		}
		return false
	case p.kind == absent || p.kind == notAsked:
		c.add(field, CodeMustBeAbsent, "must be absent"+p.why)
		return false
	case damagedText(*v):
		c.add(field, CodeInvalidEncoding, "contains invalid UTF-8 or U+FFFD (a character lost on the way)")
		return false
	case hasControlChar(*v):
		c.add(field, CodeControlChar, "contains a control character; only tab and newline are allowed, in free text")
		return false
	case p.kind == required && isBlank(*v):
		c.add(field, CodeRequired, "is required"+p.why+"; it is blank")
		return false
	}
	if pr := rule(*v); pr != nil {
		c.add(field, pr.code, pr.message)
		return false
	}
	return true
}

// integer checks one numeric field; ok means it is present and good.
func (c *formCheck) integer(field string, v *int, p presence, rule intRule) (ok bool) {
	switch {
	case v == nil:
		if p.kind == required {
			c.add(field, CodeRequired, "is required"+p.why)
		}
		return false
	case p.kind == absent:
		c.add(field, CodeMustBeAbsent, "must be absent"+p.why)
		return false
	case p.kind == notAsked:
		if *v != 0 {
			c.add(field, CodeMustBeAbsent, "must be 0 or absent"+p.why)
		}
		return false
	}
	if pr := rule(*v); pr != nil {
		c.add(field, pr.code, pr.message)
		return false
	}
	return true
}

// boolean checks one true/false field.
func (c *formCheck) boolean(field string, v *bool, p presence) (ok bool) {
	switch {
	case v == nil:
		if p.kind == required {
			c.add(field, CodeRequired, "is required"+p.why)
		}
		return false
	case p.kind == absent || p.kind == notAsked:
		c.add(field, CodeMustBeAbsent, "must be absent"+p.why)
		return false
	}
	return true
}

// Validate applies every rule of the SPEC section 2 form table that needs nothing but the form
// (CheckAgainstContract has the others) and returns every problem, nil when there is none. It
// reports at most one problem per field: the first of presence, encoding, control characters,
// blankness, length, characters, format; then the rules between fields, only on fields that passed their own rules.
func (f Form) Validate() FieldErrors {
	c := &formCheck{typ: f.Type}
	switch {
	case f.Type == "":
		c.add("type", CodeRequired, "is required: new, change, cancel or simpleChange")
	case !f.Type.Valid():
		c.add("type", CodeInvalidChoice, "must be one of new, change, cancel, simpleChange")
	}

	appliedOK := c.text("appliedOn", f.AppliedOn, c.per("RRRR"), formDate)
	desiredOK := c.text("desiredDate", f.DesiredDate, c.per("RRR-"), formDate)
	if appliedOK && desiredOK && dateBefore(*f.DesiredDate, *f.AppliedOn) {
		c.add("desiredDate", CodeBeforeAppliedOn, fmt.Sprintf("must not be before appliedOn (%s)", *f.AppliedOn))
	}
	c.text("customerNumber", f.CustomerNumber, c.per("-RRR"), customerNumberRule)
	c.text("commonCustomerId", f.CommonCustomerID, c.per("RRRR"), commonCustomerIDRule)

	if c.group("contractor", f.Contractor != nil, c.per("RRRR")) {
		k := deref(f.Contractor)
		c.text("contractor.nameKana", k.NameKana, c.per("R--R"), kana(80))
		c.text("contractor.name", k.Name, c.per("RRRR"), fullWidth(80))
		c.text("contractor.postalCode", k.PostalCode, c.per("R--R"), postalCode)
		c.text("contractor.address", k.Address, c.per("R--R"), fullWidth(46))
		c.text("contractor.addressNumber", k.AddressNumber, c.per("R--R"), fullWidth(20))
		c.text("contractor.building", k.Building, c.per("O--O"), fullWidth(16))
		c.text("contractor.floor", k.Floor, c.per("O--O"), fullWidth(4))
	}
	c.contact("contractContact", f.ContractContact, c.per("R-RR"))

	if p := c.per("R---"); c.group("billingAddress", f.BillingAddress != nil, p) {
		b := deref(f.BillingAddress)
		c.text("billingAddress.postalCode", b.PostalCode, p, postalCode)
		c.text("billingAddress.address", b.Address, p, fullWidth(46))
		c.text("billingAddress.addressNumber", b.AddressNumber, p, fullWidth(20))
		c.text("billingAddress.building", b.Building, c.per("O---"), fullWidth(16))
		c.text("billingAddress.floor", b.Floor, c.per("O---"), fullWidth(4))
		c.text("billingAddress.recipientKana", b.RecipientKana, p, kana(30))
		c.text("billingAddress.recipientDept", b.RecipientDept, c.per("O---"), fullWidth(20))
	}
	c.contact("billingContact", f.BillingContact, c.per("R---"))

	if p := c.per("RR--"); c.group("openingNotice", f.OpeningNotice != nil, p) {
		n := deref(f.OpeningNotice)
		c.text("openingNotice.email", n.Email, p, email(125))
		c.text("openingNotice.password", n.Password, p, password(8, 10))
		c.text("openingNotice.phone", n.Phone, p, phone)
		c.text("openingNotice.companyName", n.CompanyName, p, fullWidth(80))
		c.text("openingNotice.name", n.Name, p, fullWidth(10))
	}
	c.text("customerRemarks", f.CustomerRemarks, c.per("OOOO"), freeText(1000))

	ch := deref(f.Changes)
	if p := c.per("-R--"); c.group("changes", f.Changes != nil, p) {
		all := true
		for _, b := range []struct {
			field string
			v     *bool
		}{
			{"changes.healthCheckIds", ch.HealthCheckIDs},
			{"changes.webFiltering", ch.WebFiltering},
			{"changes.securityTickets", ch.SecurityTickets},
			{"changes.securityContact", ch.SecurityContact},
		} {
			all = c.boolean(b.field, b.v, p) && all
		}
		if all && p.kind == required && !*ch.HealthCheckIDs && !*ch.WebFiltering &&
			!*ch.SecurityTickets && !*ch.SecurityContact {
			c.add("changes", CodeNothingSelected, "at least one of healthCheckIds, webFiltering, securityTickets, securityContact must be true")
		}
	}

	c.text("plan", (*string)(f.Plan), c.per("R---"), choice(PlanBasic))
	c.healthCheckIDs(f, ch)
	c.webFiltering(f, ch)
	c.securityTickets(f, ch)
	c.securityContact(f, ch)
	return c.errs
}

// contact checks contractContact or billingContact: name full-width <= 10, phone, e-mail list.
func (c *formCheck) contact(field string, v *Contact, p presence) {
	if !c.group(field, v != nil, p) {
		return
	}
	k := deref(v)
	c.text(field+".name", k.Name, p, fullWidth(10))
	c.text(field+".phone", k.Phone, p, phone)
	c.text(field+".email", k.Email, p, emailList(82))
}

// healthCheckIDs checks healthCheckIdAddition and additionalIds (new) and healthCheckIdChange and
// idsAfterChange (change).
func (c *formCheck) healthCheckIDs(f Form, ch Changes) {
	addition := c.text("healthCheckIdAddition", (*string)(f.HealthCheckIDAddition), c.per("R---"), choice(UsageUse, UsageNotUse))
	additionalIDs := when(addition && *f.HealthCheckIDAddition == UsageUse, addition, " when healthCheckIdAddition is "+string(deref(f.HealthCheckIDAddition)))
	c.ids("additionalIds", f.AdditionalIDs, c.perC("C---", additionalIDs))

	changing := when(ptrTrue(ch.HealthCheckIDs), ch.HealthCheckIDs != nil, " when changes.healthCheckIds is "+fmt.Sprint(ptrTrue(ch.HealthCheckIDs)))
	changeP := c.perC("-C--", changing)
	how := c.text("healthCheckIdChange", (*string)(f.HealthCheckIDChange), changeP, choice(IDChangeAdd, IDChangeRemove, IDChangeEnd))
	after := changeP
	if changeP.kind == required {
		after = when(how && *f.HealthCheckIDChange != IDChangeEnd, how, " when healthCheckIdChange is "+string(deref(f.HealthCheckIDChange)))
	}
	c.ids("idsAfterChange", f.IDsAfterChange, after)
}

// ids checks a count of additional IDs: 10 to 9999 where asked, 0 or absent where not.
func (c *formCheck) ids(field string, v *int, p presence) {
	rule := idCount
	if p.kind == required {
		rule = intRange(10, 9999)
	}
	c.integer(field, v, p, rule)
}

// webFiltering checks the webFiltering choice and that it is on only with at least 15 IDs, as far
// as the form alone tells (CheckAgainstContract does the rest).
func (c *formCheck) webFiltering(f Form, ch Changes) {
	changing := when(ptrTrue(ch.WebFiltering), ch.WebFiltering != nil, " when changes.webFiltering is "+fmt.Sprint(ptrTrue(ch.WebFiltering)))
	if !c.text("webFiltering", (*string)(f.WebFiltering), c.perC("RC--", changing), choice(UsageUse, UsageNotUse)) ||
		*f.WebFiltering != UsageUse {
		return
	}
	tooFew := false
	switch f.Type {
	case TypeNew:
		tooFew = deref(f.HealthCheckIDAddition) == UsageNotUse
	case TypeChange:
		tooFew = ptrTrue(ch.HealthCheckIDs) && deref(f.HealthCheckIDChange) == IDChangeEnd
	}
	if tooFew {
		c.add("webFiltering", CodeTooFewIDs, "web filtering needs at least 15 IDs (5 included + at least 10 additional)")
	}
}

// securityTickets checks securityTicketApplication (new) and securityTicketCount (new, change).
func (c *formCheck) securityTickets(f Form, ch Changes) {
	applied := c.text("securityTicketApplication", (*string)(f.SecurityTicketApplication), c.per("R---"), choice(TicketYes, TicketNo))
	var asked presence
	switch f.Type {
	case TypeNew:
		asked = when(applied && *f.SecurityTicketApplication == TicketYes, applied, " when securityTicketApplication is "+string(deref(f.SecurityTicketApplication)))
	case TypeChange:
		asked = when(ptrTrue(ch.SecurityTickets), ch.SecurityTickets != nil, " when changes.securityTickets is "+fmt.Sprint(ptrTrue(ch.SecurityTickets)))
	}
	p := c.perC("CC--", asked)
	rule := intRange(0, 9999)
	if p.kind == required {
		rule = intRange(1, 9999)
	}
	c.integer("securityTicketCount", f.SecurityTicketCount, p, rule)
}

// securityContact checks securityContact and securityReportPassword.
func (c *formCheck) securityContact(f Form, ch Changes) {
	changing := when(ptrTrue(ch.SecurityContact), ch.SecurityContact != nil, " when changes.securityContact is "+fmt.Sprint(ptrTrue(ch.SecurityContact)))
	p := c.perC("RC--", changing)
	if c.group("securityContact", f.SecurityContact != nil, p) {
		s := deref(f.SecurityContact)
		c.text("securityContact.nameKana", s.NameKana, p, kana(80))
		c.text("securityContact.name", s.Name, p, fullWidth(10))
		c.text("securityContact.department", s.Department, p, fullWidth(80))
		c.text("securityContact.phone", s.Phone, p, phone)
		c.text("securityContact.email", s.Email, p, email(82))
	}
	c.text("securityReportPassword", f.SecurityReportPassword, p, password(8, 40))
}

// deref returns *p, or the zero value for nil: an absent group reads as a group of absent fields.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func ptrTrue(b *bool) bool { return b != nil && *b }
