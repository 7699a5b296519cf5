// Package migrate brings a PostgreSQL database to the service's current schema: the event store
// tables, projection checkpoints and, as they come, the read models. Each migration is one
// embedded file sql/NNNN_name.sql, applied once, in order, each in its own transaction; the
// applied versions are kept in schema_migrations.
//
// It is a small runner of its own rather than tern or goose: it works on the pgxpool the service
// already has (goose wants database/sql, tern a single *pgx.Conn and text/template processing of
// every file, which turns any "{{" in SQL into a template error), it adds no module, and what it
// has to do fits on a page: a session advisory lock so that two starting replicas do not migrate
// at once, then "apply what is missing".
//
// Migrations are forward only. A file, once released, is never edited: add a new one. Numbers
// need not be consecutive (areas may take ranges: 0100 read models, ...); a file numbered below
// one already applied is still applied, in number order among the missing ones.
package migrate

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed sql/*.sql
var files embed.FS

// lockKey is the advisory lock held while migrating ("yorozu-migrate" in spirit; any constant
// no other part of the service uses).
const lockKey int64 = 0x796f726f7a756d01

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// All returns the embedded migrations in version order.
func All() ([]Migration, error) {
	entries, err := fs.ReadDir(files, "sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrate: %s is not named NNNN_name.sql", e.Name())
		}
		b, err := files.ReadFile(path.Join("sql", e.Name()))
		if err != nil {
			return nil, err
		}
		v, _ := strconv.Atoi(m[1])
		if len(ms) > 0 && ms[len(ms)-1].Version == v {
			return nil, fmt.Errorf("migrate: two migrations numbered %04d", v)
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	return ms, nil
}

// Up applies every migration the database does not have yet. It is safe to call from several
// processes at once: they take turns, and the later ones find nothing to do.
func Up(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := All()
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		// A session lock outlives a cancelled ctx: unlock with a fresh one, or drop the connection.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied, err := appliedVersions(ctx, conn.Conn())
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if err := apply(ctx, conn.Conn(), m); err != nil {
			return err
		}
	}
	return nil
}

// Applied returns the versions recorded in the database (none if it was never migrated).
func Applied(ctx context.Context, pool *pgxpool.Pool) ([]int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return nil, err
	}
	set, err := appliedVersions(ctx, conn.Conn())
	if err != nil {
		return nil, err
	}
	vs := make([]int, 0, len(set))
	for v := range set {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs, nil
}

func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[int]bool, error) {
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	set := make(map[int]bool, len(vs))
	for _, v := range vs {
		set[int(v)] = true
	}
	return set, nil
}

func apply(ctx context.Context, conn *pgx.Conn, m Migration) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// No arguments: pgx sends it with the simple protocol, which runs a multi-statement file.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: %04d_%s: %w", m.Version, m.Name, err)
	}
	return nil
}
