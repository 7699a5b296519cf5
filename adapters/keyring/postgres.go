package keyring

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresBackend keeps the wrapped keys in the table telemetry_keys (migration 0140), which
// every replica of a deployment shares. Destroying clears the wrapped key in place (the row stays
// as a tombstone); PostgreSQL reclaims the old row version at its next vacuum.
type PostgresBackend struct{ pool *pgxpool.Pool }

// NewPostgres returns the backend on pool.
func NewPostgres(pool *pgxpool.Pool) *PostgresBackend { return &PostgresBackend{pool: pool} }

// Load implements Backend.
func (b *PostgresBackend) Load(ctx context.Context, cn string) ([]byte, bool, error) {
	var wrapped []byte
	var destroyed bool
	err := b.pool.QueryRow(ctx, "SELECT wrapped, destroyed_at IS NOT NULL FROM telemetry_keys WHERE customer_number = $1", cn).
		Scan(&wrapped, &destroyed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("keyring: load %s: %w", cn, err)
	}
	if destroyed {
		return nil, true, nil
	}
	return wrapped, false, nil
}

// Create implements Backend.
func (b *PostgresBackend) Create(ctx context.Context, cn string, wrapped []byte) ([]byte, bool, error) {
	if _, err := b.pool.Exec(ctx, "INSERT INTO telemetry_keys (customer_number, wrapped) VALUES ($1, $2) ON CONFLICT DO NOTHING", cn, wrapped); err != nil {
		return nil, false, fmt.Errorf("keyring: create %s: %w", cn, err)
	}
	return b.Load(ctx, cn)
}

// Destroy implements Backend.
func (b *PostgresBackend) Destroy(ctx context.Context, cn string) error {
	_, err := b.pool.Exec(ctx, `INSERT INTO telemetry_keys (customer_number, wrapped, destroyed_at) VALUES ($1, NULL, now())
		ON CONFLICT (customer_number) DO UPDATE SET wrapped = NULL, destroyed_at = coalesce(telemetry_keys.destroyed_at, now())`, cn)
	if err != nil {
		return fmt.Errorf("keyring: destroy %s: %w", cn, err)
	}
	return nil
}

// List implements Transfer: the table as one statement sees it.
func (b *PostgresBackend) List(ctx context.Context) ([]Entry, error) {
	rows, err := b.pool.Query(ctx, "SELECT customer_number, wrapped, destroyed_at FROM telemetry_keys ORDER BY customer_number")
	if err != nil {
		return nil, fmt.Errorf("keyring: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var destroyed *time.Time
		if err := rows.Scan(&e.CustomerNumber, &e.Wrapped, &destroyed); err != nil {
			return nil, fmt.Errorf("keyring: list: %w", err)
		}
		if destroyed != nil {
			e.Wrapped, e.DestroyedAt = nil, destroyed.UTC()
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keyring: list: %w", err)
	}
	sortEntries(out) // the same order as FileBackend's, whatever the database's collation
	return out, nil
}

// Import implements Transfer, in one transaction that holds the table against every other
// writer (a replica making a key waits, then finds the imported one).
func (b *PostgresBackend) Import(ctx context.Context, entries []Entry) error {
	if err := CheckEntries(entries); err != nil {
		return err
	}
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("keyring: import: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "LOCK TABLE telemetry_keys IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("keyring: import: %w", err)
	}
	var keys, tombstones int
	if err := tx.QueryRow(ctx, "SELECT count(*) FILTER (WHERE destroyed_at IS NULL), count(*) FILTER (WHERE destroyed_at IS NOT NULL) FROM telemetry_keys").
		Scan(&keys, &tombstones); err != nil {
		return fmt.Errorf("keyring: import: %w", err)
	}
	if keys+tombstones > 0 {
		return fmt.Errorf("%w: the table telemetry_keys holds %d keys and %d tombstones", ErrNotEmpty, keys, tombstones)
	}
	rows := make([][]any, len(entries))
	for i, e := range entries {
		var destroyed any
		if e.Destroyed() {
			destroyed = e.DestroyedAt.UTC()
		}
		rows[i] = []any{e.CustomerNumber, e.Wrapped, destroyed}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"telemetry_keys"}, []string{"customer_number", "wrapped", "destroyed_at"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("keyring: import: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("keyring: import: %w", err)
	}
	return nil
}
