-- Telemetry (adapters/keyring, projections/terminals, projections/reports).

-- The key ring: each contract's telemetry data key, wrapped (AES-256-GCM) by the deployment's
-- master key, apart from the event log so that a backup of the log holds no key. Destroying a
-- contract's key (crypto-shredding at termination) clears wrapped and keeps the row as a
-- tombstone, so that the key is never made again.
CREATE TABLE telemetry_keys (
    customer_number text        PRIMARY KEY,
    wrapped         bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    destroyed_at    timestamptz
);

-- Terminals of one contract (GET /api/v1/terminals?customerNumber=).
CREATE INDEX rm_docs_terminals_customer ON rm_docs ((doc->>'customerNumber'), seq)
    WHERE projection = 'terminals' AND collection = 'terminals';
