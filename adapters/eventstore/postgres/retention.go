package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"yorozu/domain/event"
)

// dayPrefix names the day partitions of events_timed: events_timed_pYYYYMMDD (UTC day).
const dayPrefix = "events_timed_p"

func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func dayPartition(day time.Time) string { return dayPrefix + day.Format("20060102") }

// createDaySQL creates the partition of one UTC day. Only the writer runs it, under the append
// lock, so no other process creates or drops the same partition meanwhile.
func createDaySQL(name string, day time.Time) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF events_timed FOR VALUES FROM ('%s 00:00:00+00') TO ('%s 00:00:00+00')",
		pgx.Identifier{name}.Sanitize(), day.Format(time.DateOnly), day.AddDate(0, 0, 1).Format(time.DateOnly))
}

// DeleteStream implements event.Store. The stream's row stays as a tombstone, so later appends
// fail with event.ErrStreamDeleted (and a stream never written can be deleted ahead).
func (s *Store) DeleteStream(ctx context.Context, stream string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Under the append lock: no batch can be between reading the stream and writing it.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", appendLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO event_streams (stream, version, last_hash, deleted)
			VALUES ($1, 0, $2, true) ON CONFLICT (stream) DO UPDATE SET deleted = true`,
			stream, make([]byte, len(event.Hash{}))); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM events WHERE stream = $1 AND time_partitioned = $2",
			customPlan, stream, event.TimePartitioned(stream))
		return err
	})
	if err != nil {
		return s.mapErr(fmt.Errorf("postgres event store: delete %q: %w", stream, err))
	}
	return nil
}

// TruncateBefore implements event.Store. event_streams keeps the version and last hash, so the
// chain continues. It needs no lock: it removes only events older than any a writer adds.
func (s *Store) TruncateBefore(ctx context.Context, stream string, version uint64) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, "DELETE FROM events WHERE stream = $1 AND time_partitioned = $2 AND stream_version < $3",
		customPlan, stream, event.TimePartitioned(stream), int64(min(version, 1<<63-1)))
	if err != nil {
		return s.mapErr(fmt.Errorf("postgres event store: truncate %q: %w", stream, err))
	}
	return nil
}

// ExpireBefore implements event.Store: it drops every day partition of events_timed wholly before
// the UTC day of cutoff. Rows are never deleted one by one.
func (s *Store) ExpireBefore(ctx context.Context, cutoff time.Time) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	keepFrom := dayPartition(utcDay(cutoff))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Under the append lock: the writer does not create a partition we are about to drop.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", appendLock); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'events_timed'::regclass`)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range names {
			// Names sort like their days (fixed-width YYYYMMDD).
			if !strings.HasPrefix(name, dayPrefix) || len(name) != len(keepFrom) || name >= keepFrom {
				continue
			}
			if _, err := tx.Exec(ctx, "DROP TABLE "+pgx.Identifier{name}.Sanitize()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.mapErr(fmt.Errorf("postgres event store: expire before %s: %w", cutoff.UTC().Format(time.RFC3339), err))
	}
	return nil
}
