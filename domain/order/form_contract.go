package order

import "fmt"

// ContractFacts is what the form rules need to know about the contract a change, cancel or
// simpleChange order names by its customerNumber, taken from the contract read model.
type ContractFacts struct {
	Exists           bool   // a contract has this customer number
	Active           bool   // it is active (not terminated)
	CommonCustomerID string // 共通顧客ID on the contract
	ContractorName   string // contractor.name on the contract
	AdditionalIDs    int    // additional health-check IDs now (excluding the 5 included)
	WebFiltering     bool   // web filtering is on now
}

// CheckAgainstContract applies the rules of the docs/product.md form table that need the contract:
// the customer number names an existing active contract; commonCustomerId matches it (change,
// cancel, simpleChange) and contractor.name matches it (change, cancel); a change adds to or removes
// from the current additional IDs as it says, and leaves web filtering on only with at least 15 IDs.
//
// It looks only at fields that pass their own rules (Validate), so its result can be appended to
// Validate's without repeating a problem. A new order, or a form whose type or customerNumber is
// not valid, has nothing to check here: the result is nil.
func CheckAgainstContract(f Form, c ContractFacts) FieldErrors {
	if f.Type == TypeNew || !f.Type.Valid() {
		return nil
	}
	own := f.Validate()
	good := func(field string) bool {
		for _, e := range own {
			if e.Field == field {
				return false
			}
		}
		return true
	}
	if f.CustomerNumber == nil || !good("customerNumber") {
		return nil
	}
	var errs FieldErrors
	add := func(field, code, message string) {
		errs = append(errs, FieldError{Field: field, Code: code, Message: message})
	}
	if !c.Exists {
		add("customerNumber", CodeNotFound, fmt.Sprintf("no contract has customer number %s", *f.CustomerNumber))
		return errs
	}
	if !c.Active {
		add("customerNumber", CodeNotActive, fmt.Sprintf("contract %s is terminated and accepts no order", *f.CustomerNumber))
	}
	if f.CommonCustomerID != nil && good("commonCustomerId") && *f.CommonCustomerID != c.CommonCustomerID {
		add("commonCustomerId", CodeMismatch, "does not match the contract's common customer ID")
	}
	if f.Type == TypeChange || f.Type == TypeCancel {
		if name := deref(f.Contractor).Name; name != nil && good("contractor.name") && *name != c.ContractorName {
			add("contractor.name", CodeMismatch, "does not match the contractor name of the contract")
		}
	}
	if f.Type != TypeChange {
		return errs
	}

	ch := deref(f.Changes)
	how := deref(f.HealthCheckIDChange)
	changesIDs := ptrTrue(ch.HealthCheckIDs) && f.HealthCheckIDChange != nil && good("healthCheckIdChange")
	if changesIDs {
		after := f.IDsAfterChange
		afterGood := after != nil && good("idsAfterChange")
		switch {
		case how == IDChangeAdd && afterGood && *after <= c.AdditionalIDs:
			add("idsAfterChange", CodeNotIncreased, fmt.Sprintf("add must raise the additional IDs above the current %d", c.AdditionalIDs))
		case how == IDChangeRemove && afterGood && *after >= c.AdditionalIDs:
			add("idsAfterChange", CodeNotDecreased, fmt.Sprintf("remove must lower the additional IDs below the current %d", c.AdditionalIDs))
		case how == IDChangeEnd && c.AdditionalIDs == 0:
			add("healthCheckIdChange", CodeAlreadyZero, "the contract has no additional IDs to end")
		}
	}

	switch {
	case ptrTrue(ch.WebFiltering) && f.WebFiltering != nil && good("webFiltering"):
		on := *f.WebFiltering == UsageUse
		switch {
		case on == c.WebFiltering:
			add("webFiltering", CodeUnchanged, fmt.Sprintf("web filtering is already %s on the contract", *f.WebFiltering))
		case on && ch.HealthCheckIDs != nil && !*ch.HealthCheckIDs && c.AdditionalIDs < 10:
			add("webFiltering", CodeTooFewIDs, fmt.Sprintf("web filtering needs at least 15 IDs; the contract has %d", 5+c.AdditionalIDs))
		}
	case ch.WebFiltering != nil && !*ch.WebFiltering && c.WebFiltering && changesIDs && how == IDChangeEnd:
		add("healthCheckIdChange", CodeTooFewIDs, "ending the additional IDs would leave web filtering on with 5 IDs; turn web filtering off in the same order")
	}
	return errs
}
