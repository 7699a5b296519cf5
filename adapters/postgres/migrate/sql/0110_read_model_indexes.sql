-- Indexes for the read-model queries that filter large collections by equality (the adapter
-- writes Eq as (doc->>'field') = $n, which these expression indexes match). Partial, so other
-- projections' writes do not pay for them. The audit trail is the largest collection: an
-- auditor's query by customer number must not scan every event. Other audit filters (actor,
-- type) scan: each index costs the audit rebuild about 8% (docs/benchmarks.md).
CREATE INDEX rm_docs_audit_customer ON rm_docs ((doc->>'customerNumber'), seq)
    WHERE projection = 'audit' AND collection = 'events';
CREATE INDEX rm_docs_orders_status ON rm_docs ((doc->>'status'), seq)
    WHERE projection = 'orders' AND collection = 'orders';
