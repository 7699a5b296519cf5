package order_test

import (
	"reflect"
	"testing"

	"yorozu/domain/order"
)

// yamato is the contract testdata/new.json opens: 15 additional IDs, web filtering on.
var yamato = order.ContractFacts{
	Exists:           true,
	Active:           true,
	CommonCustomerID: "C1234567890",
	ContractorName:   "株式会社大和商事",
	AdditionalIDs:    15,
	WebFiltering:     true,
}

func TestCheckAgainstContract(t *testing.T) {
	cases := []struct {
		name     string
		base     order.Type
		change   func(f *order.Form)
		contract func(c *order.ContractFacts)
		// want is the list of (field, code), empty when the order fits the contract.
		want order.FieldErrors
	}{
		{"a change that fits the contract", order.TypeChange, nil, nil, nil},
		{"a cancel that fits the contract", order.TypeCancel, nil, nil, nil},
		{"a simple change renaming the contractor", order.TypeSimpleChange, nil, nil, nil},
		{"a new order has no contract to check", order.TypeNew, nil, func(c *order.ContractFacts) { *c = order.ContractFacts{} }, nil},
		{"an order for an unknown customer number", order.TypeCancel, nil,
			func(c *order.ContractFacts) { *c = order.ContractFacts{} },
			order.FieldErrors{{Field: "customerNumber", Code: order.CodeNotFound}}},
		{"an order for a terminated contract", order.TypeSimpleChange, nil,
			func(c *order.ContractFacts) { c.Active = false },
			order.FieldErrors{{Field: "customerNumber", Code: order.CodeNotActive}}},
		{"a cancel with another common customer ID", order.TypeCancel,
			func(f *order.Form) { f.CommonCustomerID = str("C0000000001") }, nil,
			order.FieldErrors{{Field: "commonCustomerId", Code: order.CodeMismatch}}},
		{"a simple change with another common customer ID", order.TypeSimpleChange,
			func(f *order.Form) { f.CommonCustomerID = str("D1234567890") }, nil,
			order.FieldErrors{{Field: "commonCustomerId", Code: order.CodeMismatch}}},
		{"a change with another contractor name", order.TypeChange,
			func(f *order.Form) { f.Contractor.Name = str("株式会社大和商亊") }, nil,
			order.FieldErrors{{Field: "contractor.name", Code: order.CodeMismatch}}},
		{"a malformed common customer ID is Validate's problem, not a mismatch", order.TypeCancel,
			func(f *order.Form) { f.CommonCustomerID = str("C123") }, nil, nil},
		{"a malformed customer number cannot name a contract", order.TypeCancel,
			func(f *order.Form) { f.CustomerNumber = str("N1") }, func(c *order.ContractFacts) { *c = order.ContractFacts{} }, nil},
		{"adding IDs to the same count", order.TypeChange,
			func(f *order.Form) { f.IDsAfterChange = num(15) }, nil,
			order.FieldErrors{{Field: "idsAfterChange", Code: order.CodeNotIncreased}}},
		{"adding IDs from none (新規利用)", order.TypeChange,
			func(f *order.Form) { f.IDsAfterChange = num(10) }, func(c *order.ContractFacts) { c.AdditionalIDs, c.WebFiltering = 0, false }, nil},
		{"removing IDs to a smaller count", order.TypeChange,
			func(f *order.Form) {
				f.HealthCheckIDChange = idChange(order.IDChangeRemove)
				f.IDsAfterChange = num(10)
			}, nil, nil},
		{"removing IDs to a larger count", order.TypeChange,
			func(f *order.Form) {
				f.HealthCheckIDChange = idChange(order.IDChangeRemove)
				f.IDsAfterChange = num(20)
			}, nil,
			order.FieldErrors{{Field: "idsAfterChange", Code: order.CodeNotDecreased}}},
		{"ending IDs on a contract without additional IDs", order.TypeChange,
			func(f *order.Form) { f.HealthCheckIDChange = idChange(order.IDChangeEnd); f.IDsAfterChange = nil },
			func(c *order.ContractFacts) { c.AdditionalIDs, c.WebFiltering = 0, false },
			order.FieldErrors{{Field: "healthCheckIdChange", Code: order.CodeAlreadyZero}}},
		{"ending IDs while web filtering stays on", order.TypeChange,
			func(f *order.Form) { f.HealthCheckIDChange = idChange(order.IDChangeEnd); f.IDsAfterChange = nil }, nil,
			order.FieldErrors{{Field: "healthCheckIdChange", Code: order.CodeTooFewIDs}}},
		{"ending IDs and web filtering together", order.TypeChange,
			func(f *order.Form) {
				f.HealthCheckIDChange = idChange(order.IDChangeEnd)
				f.IDsAfterChange = nil
				f.Changes.WebFiltering = flag(true)
				f.WebFiltering = notUse()
			}, nil, nil},
		{"turning web filtering on for a contract with 5 IDs", order.TypeChange,
			func(f *order.Form) { keepIDs(f); f.Changes.WebFiltering = flag(true); f.WebFiltering = use() },
			func(c *order.ContractFacts) { c.AdditionalIDs, c.WebFiltering = 0, false },
			order.FieldErrors{{Field: "webFiltering", Code: order.CodeTooFewIDs}}},
		{"turning web filtering on for a contract with 15 IDs", order.TypeChange,
			func(f *order.Form) { keepIDs(f); f.Changes.WebFiltering = flag(true); f.WebFiltering = use() },
			func(c *order.ContractFacts) { c.AdditionalIDs, c.WebFiltering = 10, false }, nil},
		{"turning web filtering on together with the first 10 additional IDs", order.TypeChange,
			func(f *order.Form) {
				f.IDsAfterChange = num(10)
				f.Changes.WebFiltering = flag(true)
				f.WebFiltering = use()
			},
			func(c *order.ContractFacts) { c.AdditionalIDs, c.WebFiltering = 0, false }, nil},
		{"turning web filtering on when it is on", order.TypeChange,
			func(f *order.Form) { f.Changes.WebFiltering = flag(true); f.WebFiltering = use() }, nil,
			order.FieldErrors{{Field: "webFiltering", Code: order.CodeUnchanged}}},
		{"several contract problems at once", order.TypeChange,
			func(f *order.Form) { f.Contractor.Name = str("別会社"); f.IDsAfterChange = num(12) },
			func(c *order.ContractFacts) { c.Active = false; c.CommonCustomerID = "C9999999999" },
			order.FieldErrors{
				{Field: "customerNumber", Code: order.CodeNotActive},
				{Field: "commonCustomerId", Code: order.CodeMismatch},
				{Field: "contractor.name", Code: order.CodeMismatch},
				{Field: "idsAfterChange", Code: order.CodeNotIncreased},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := example(t, tc.base)
			if tc.change != nil {
				tc.change(&f)
			}
			c := yamato
			if tc.contract != nil {
				tc.contract(&c)
			}
			got := withoutMessages(order.CheckAgainstContract(f, c))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
