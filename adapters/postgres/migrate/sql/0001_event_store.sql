-- The event log (adapters/eventstore/postgres).
--
-- events is LIST-partitioned on time_partitioned (event.TimePartitioned(stream)):
--   events_plain  (false): every business event, kept for good; one table, globally unique ids.
--   events_timed  (true):  high-volume, short-lived streams (agent telemetry), RANGE-partitioned
--                          on the UTC day of recorded_at; the store creates a day's partition on
--                          first use and retention drops whole days (DROP TABLE, no row deletes).
-- Queries go to events and PostgreSQL merges the partitions in position order.
--
-- Global order: every writer takes one transaction-level advisory lock before it reads the
-- position sequence, so positions are assigned in commit order even across processes and a
-- reader of "position > n" never skips a late commit (see the adapter's package doc).

CREATE SEQUENCE event_position_seq AS bigint;

CREATE TABLE events (
    position         bigint      NOT NULL,
    id               uuid        NOT NULL,
    stream           text        NOT NULL,
    stream_version   bigint      NOT NULL,
    type             text        NOT NULL,
    schema_version   integer     NOT NULL,
    effective_at     timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL,
    actor            text        NOT NULL,
    command_id       text        NOT NULL,
    correlation_id   text        NOT NULL,
    causation_id     text        NOT NULL,
    -- The exact bytes the hash covers (not jsonb, which would normalise them).
    data             bytea       NOT NULL,
    prev_hash        bytea       NOT NULL,
    hash             bytea       NOT NULL,
    time_partitioned boolean     NOT NULL
) PARTITION BY LIST (time_partitioned);

CREATE TABLE events_plain PARTITION OF events (
    PRIMARY KEY (position),
    UNIQUE (id),
    UNIQUE (stream, stream_version)
) FOR VALUES IN (false);

CREATE TABLE events_timed PARTITION OF events FOR VALUES IN (true)
    PARTITION BY RANGE (recorded_at);
-- Unique indexes on a partitioned table must contain recorded_at, which would make them useless;
-- these plain ones are created on every day partition. Uniqueness holds because one writer at a
-- time (under the advisory lock) checks ids and versions before inserting.
CREATE INDEX events_timed_position ON events_timed (position);
CREATE INDEX events_timed_id ON events_timed (id);
CREATE INDEX events_timed_stream ON events_timed (stream, stream_version);

-- One row per stream ever written or deleted: where its chain ends and whether it is a tombstone.
CREATE TABLE event_streams (
    stream    text    PRIMARY KEY,
    version   bigint  NOT NULL,
    last_hash bytea   NOT NULL,
    deleted   boolean NOT NULL DEFAULT false
);
