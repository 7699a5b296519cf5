-- Billing (projections/invoices and the InvoiceFinalized relay in cmd/yorozu/app/billing.go).

-- The final invoices of one month, in finalization order: GET /billing/invoices?month= of a
-- closed month walks this index instead of every final invoice of every month.
CREATE INDEX rm_docs_invoices_finals_month ON rm_docs ((doc->>'month'), seq)
    WHERE projection = 'invoices' AND collection = 'finals';

-- How far each integration-event relay has forwarded the event log into its watermill-sql topic.
-- A relay moves its row in the same transaction as the messages it inserts (outbox: every
-- finalized invoice is published exactly once), and holds the row locked meanwhile, so that one
-- replica at a time forwards.
CREATE TABLE integration_relays (
    name     text   PRIMARY KEY,
    position bigint NOT NULL
);
