package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// scanRecords decodes rows of recordColumns straight from PostgreSQL's binary format: catch-up
// reads millions of events, and going through Scan costs about twice as much per event.
func scanRecords(rows pgx.Rows, limit int) ([]event.Record, error) {
	defer rows.Close()
	size := limit
	if size <= 0 || size > 4096 {
		size = 64
	}
	recs := make([]event.Record, 0, size)
	// Stream names, types and actors repeat from event to event: allocate each once per read.
	interned := make(map[string]string)
	intern := func(b []byte) string {
		if s, ok := interned[string(b)]; ok {
			return s
		}
		s := string(b)
		interned[s] = s
		return s
	}
	for rows.Next() {
		if len(recs) == 0 {
			if err := checkFormats(rows.FieldDescriptions()); err != nil {
				return nil, err
			}
		}
		r, err := decodeRecordInterned(rows.RawValues(), intern)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

// decodeRecord decodes one row of recordColumns in binary format.
func decodeRecord(v [][]byte) (event.Record, error) {
	return decodeRecordInterned(v, func(b []byte) string { return string(b) })
}

func decodeRecordInterned(v [][]byte, intern func([]byte) string) (event.Record, error) {
	if len(v) != len(binaryColumn) {
		return event.Record{}, fmt.Errorf("read %d columns, want %d", len(v), len(binaryColumn))
	}
	for i, b := range v {
		if b == nil {
			return event.Record{}, fmt.Errorf("column %d is NULL", i)
		}
		if w := binaryWidth[i]; w != 0 && len(b) != w {
			return event.Record{}, fmt.Errorf("column %d has %d bytes, want %d", i, len(b), w)
		}
	}
	var r event.Record
	r.Position = event.Position(binary.BigEndian.Uint64(v[0]))
	copy(r.ID[:], v[1])
	r.Stream = intern(v[2])
	r.StreamVersion = binary.BigEndian.Uint64(v[3])
	r.Type = intern(v[4])
	r.SchemaVersion = int(int32(binary.BigEndian.Uint32(v[5])))
	r.EffectiveAt = pgTime(v[6])
	r.RecordedAt = pgTime(v[7])
	r.Actor = intern(v[8])
	r.CommandID = string(v[9])
	r.CorrelationID = string(v[10])
	r.CausationID = string(v[11])
	r.Data = bytes.Clone(v[12])
	copy(r.PrevHash[:], v[13])
	copy(r.Hash[:], v[14])
	return r, nil
}

// binaryColumn says which of recordColumns must come in binary format (text is the same bytes
// in both), and binaryWidth the fixed size of those that have one.
var (
	binaryColumn = [...]bool{true, true, false, true, false, true, true, true, false, false, false, false, true, true, true}
	binaryWidth  = [...]int{8, 16, 0, 8, 0, 4, 8, 8, 0, 0, 0, 0, 0, 32, 32}
)

func checkFormats(fields []pgconn.FieldDescription) error {
	if len(fields) != len(binaryColumn) {
		return fmt.Errorf("read %d columns, want %d", len(fields), len(binaryColumn))
	}
	for i, f := range fields {
		if binaryColumn[i] && f.Format != pgx.BinaryFormatCode {
			return fmt.Errorf("column %s is not in binary format", f.Name)
		}
	}
	return nil
}

// pgEpoch is PostgreSQL's zero time, 2000-01-01 UTC, in Unix microseconds.
const pgEpoch = 946684800 * 1_000_000

// pgTime decodes a binary timestamptz: microseconds since 2000-01-01 UTC.
func pgTime(b []byte) time.Time {
	return time.UnixMicro(int64(binary.BigEndian.Uint64(b)) + pgEpoch).UTC()
}
