-- The audit trail on PostgreSQL becomes a view over the events table joined with the audit
-- projection's links (adapters/eventstore/postgres AuditTrail): the projection keeps one row per
-- stream that belongs to a customer (collection 'streams') and one per event that names another
-- customer than its stream (collection 'eventlinks'), instead of a copy of every event.
--
-- The documents of the former trail go, and so does its checkpoint: the projection rebuilds its
-- links from the log at the next start (a pass over the log that writes a row per stream).
DELETE FROM rm_docs WHERE projection = 'audit';
DELETE FROM projection_checkpoints WHERE name = 'audit';
DROP INDEX IF EXISTS rm_docs_audit_customer;
-- A customer's streams and exceptions, for the trail's customer filter.
CREATE INDEX rm_docs_audit_links ON rm_docs ((doc->>'customerNumber'))
    WHERE projection = 'audit' AND collection IN ('streams', 'eventlinks');
-- The trail's other filters on the log itself.
CREATE INDEX events_plain_actor ON events_plain (actor, position);
CREATE INDEX events_plain_type ON events_plain (type, position);
