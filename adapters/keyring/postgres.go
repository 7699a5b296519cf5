package keyring

import (
	"context"
	"errors"
	"fmt"

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
