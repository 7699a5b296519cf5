package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"yorozu/domain/event"
)

const recordColumns = `position, id, stream, stream_version, type, schema_version, effective_at,
	recorded_at, actor, command_id, correlation_id, causation_id, data, prev_hash, hash`

// time_partitioned in the condition lets PostgreSQL skip the partition the stream cannot be in.
const readStreamSQL = `SELECT ` + recordColumns + ` FROM events
WHERE stream = $1 AND time_partitioned = $2 AND stream_version >= $3
ORDER BY stream_version LIMIT $4`

const readAllSQL = `SELECT ` + recordColumns + ` FROM events
WHERE position > $1 ORDER BY position LIMIT $2`

// customPlan makes pgx send a query as an unnamed statement (binary results, one round trip),
// which PostgreSQL plans for the actual arguments each time. A named prepared statement would
// switch to a generic plan after five runs, and one chosen while the log was small (a sequential
// scan and a sort) would be kept as it grows to millions of rows.
const customPlan = pgx.QueryExecModeCacheDescribe

// ReadStream implements event.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]event.Record, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, readStreamSQL, customPlan, stream, event.TimePartitioned(stream), int64(min(from, 1<<63-1)), sqlLimit(limit))
	if err != nil {
		return nil, s.mapErr(fmt.Errorf("postgres event store: read %q: %w", stream, err))
	}
	recs, err := scanRecords(rows, limit)
	if err != nil {
		return nil, s.mapErr(fmt.Errorf("postgres event store: read %q: %w", stream, err))
	}
	return recs, nil
}

// ReadAll implements event.Store. limit <= 0 reads to the end of the log.
func (s *Store) ReadAll(ctx context.Context, after event.Position, limit int) ([]event.Record, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, readAllSQL, customPlan, int64(min(uint64(after), 1<<63-1)), sqlLimit(limit))
	if err != nil {
		return nil, s.mapErr(fmt.Errorf("postgres event store: read all: %w", err))
	}
	recs, err := scanRecords(rows, limit)
	if err != nil {
		return nil, s.mapErr(fmt.Errorf("postgres event store: read all: %w", err))
	}
	return recs, nil
}

// sqlLimit is the LIMIT argument: NULL (no limit) for limit <= 0.
func sqlLimit(limit int) *int64 {
	if limit <= 0 {
		return nil
	}
	l := int64(limit)
	return &l
}

func scanRecords(rows pgx.Rows, limit int) ([]event.Record, error) {
	defer rows.Close()
	size := limit
	if size <= 0 || size > 4096 {
		size = 64
	}
	recs := make([]event.Record, 0, size)
	var (
		position, version int64
		schemaVersion     int32
		data              []byte
		prevHash, hash    []byte
	)
	for rows.Next() {
		var r event.Record
		err := rows.Scan(&position, (*[16]byte)(&r.ID), &r.Stream, &version, &r.Type, &schemaVersion,
			&r.EffectiveAt, &r.RecordedAt, &r.Actor, &r.CommandID, &r.CorrelationID, &r.CausationID,
			&data, &prevHash, &hash)
		if err != nil {
			return nil, err
		}
		r.Position = event.Position(position)
		r.StreamVersion = uint64(version)
		r.SchemaVersion = int(schemaVersion)
		r.EffectiveAt = r.EffectiveAt.UTC()
		r.RecordedAt = r.RecordedAt.UTC()
		r.Data = data
		copy(r.PrevHash[:], prevHash)
		copy(r.Hash[:], hash)
		recs = append(recs, r)
	}
	return recs, rows.Err()
}
