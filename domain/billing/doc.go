// Package billing computes the monthly invoice of a contract (docs/billing.md): which months the basic
// service and each option are charged, the quantities, the price list that applies, the
// consumption tax, adjustments for months already closed, and the CSV export of invoices.
//
// It is pure: no I/O and no clock. Its input is a contract's billing-relevant Timeline (filled from
// completed orders), a PriceBook and a usage Month; its output is an Invoice. Month close, invoice
// numbering and the billing feed belong to the application layer, which calls ComputeInvoice,
// Difference and AdjustmentDue. docs/billing.md describes the rules and the decisions taken where
// the product rules are silent.
package billing
