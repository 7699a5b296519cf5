package outbox

import (
	"encoding/json"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"yorozu/domain/billing"
	"yorozu/domain/event"
)

// InvoiceFinalizedTopic is the topic of the InvoiceFinalized integration event: one message per
// final invoice, UUID derived from the invoice number (InvoiceMessageID), payload the invoice as
// GET /api/v1/billing/invoices/{customerNumber}/{month} shows it, metadata name=InvoiceFinalized,
// invoiceNumber, customerNumber, month and position (of its InvoicesFinalized event in the log).
const InvoiceFinalizedTopic = "billing_invoice_finalized"

// InvoiceFinalizedRelay is the cursor key the service has always used for the relay of final
// invoices (its row in integration_relays).
const InvoiceFinalizedRelay = "invoice-finalized"

// invoiceMessageNamespace derives a message's UUID from its invoice number. It is part of the
// message contract: consumers de-duplicate by these IDs, and so does JetStream. Never change it.
var invoiceMessageNamespace = uuid.MustParse("0b9f6f3e-3c1d-4f57-9a53-8f0c7a2b1d64")

// InvoiceMessageID is the message UUID of the InvoiceFinalized message of an invoice: the same
// invoice always gives the same ID, whichever relay, process or retry sends it.
func InvoiceMessageID(invoiceNumber string) string {
	return uuid.NewSHA1(invoiceMessageNamespace, []byte(invoiceNumber)).String()
}

// InvoiceFinalized translates the InvoicesFinalized events (one part of a month's close) into one
// InvoiceFinalized message per final invoice, in invoice-number order. codec is the log's codec.
func InvoiceFinalized(codec *event.Registry) Translator {
	name, err := codec.Name((*billing.InvoicesFinalized)(nil))
	if err != nil {
		panic(fmt.Sprintf("outbox: %v", err)) // the billing events are not registered: a wiring error
	}
	return Translator{
		EventType: name,
		Topic:     InvoiceFinalizedTopic,
		Translate: func(rec event.Record) ([]*message.Message, error) { return invoiceFinalizedMessages(codec, rec) },
	}
}

func invoiceFinalizedMessages(codec *event.Registry, rec event.Record) ([]*message.Message, error) {
	e, err := codec.Decode(rec)
	if err != nil {
		return nil, err
	}
	part, ok := e.(*billing.InvoicesFinalized)
	if !ok {
		return nil, fmt.Errorf("outbox: %s decodes to %T", rec.Type, e)
	}
	out := make([]*message.Message, 0, len(part.Invoices))
	for i := range part.Invoices {
		inv := part.Invoice(i)
		payload, err := json.Marshal(inv)
		if err != nil {
			return nil, err
		}
		msg := message.NewMessage(InvoiceMessageID(inv.InvoiceNumber), payload)
		msg.Metadata.Set("name", "InvoiceFinalized")
		msg.Metadata.Set("invoiceNumber", inv.InvoiceNumber)
		msg.Metadata.Set("customerNumber", inv.CustomerNumber)
		msg.Metadata.Set("month", inv.Month.String())
		msg.Metadata.Set("position", fmt.Sprint(rec.Position))
		out = append(out, msg)
	}
	return out, nil
}
