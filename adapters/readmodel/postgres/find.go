package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	port "yorozu/projections/readmodel"
)

// Find implements readmodel.Store. Values always travel as parameters. Field names, which must
// look like identifiers, are written into the statement as literals, so that an expression index
// that a migration adds for a hot query matches the statement's expressions:
//
//	Eq:       (doc->>'f') = $n
//	Gte, Lt:  (doc->>'f') COLLATE "C" >= $n
//	OrderBy:  coalesce((doc->>'f'), '') COLLATE "C"
//
// for example
//
//	CREATE INDEX ON rm_docs ((doc->>'customerNumber'), seq)
//	    WHERE projection = 'audit' AND collection = 'events';
func (s *Store) Find(ctx context.Context, projection string, q port.Query) (port.Page, error) {
	shape := q.Shape("postgres/1")
	var after *port.Cursor
	if q.After != "" {
		c, err := port.DecodeCursor(q.After, shape)
		if err != nil {
			return port.Page{}, err
		}
		after = &c
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	fold, err := s.foldCollation(ctx)
	if err != nil {
		return port.Page{}, err
	}

	b := &statement{fold: fold}
	b.sql.WriteString("SELECT id, seq, doc")
	orderKey := ""
	if q.OrderBy != "" {
		if !port.ValidField(q.OrderBy) {
			return port.Page{}, fmt.Errorf("read model: bad order field %q", q.OrderBy)
		}
		// An absent or null field sorts as "", as in the in-memory store.
		orderKey = "coalesce(" + fieldOf(q.OrderBy) + `, '') COLLATE "C"`
		b.sql.WriteString(", " + orderKey)
	}
	b.sql.WriteString(" FROM rm_docs WHERE projection = " + b.arg(projection) + " AND collection = " + b.arg(q.Collection))
	for _, c := range q.Where {
		cond, err := b.cond(c)
		if err != nil {
			return port.Page{}, err
		}
		b.sql.WriteString(" AND " + cond)
	}
	if len(q.AnyOf) > 0 {
		conds := make([]string, len(q.AnyOf))
		for i, c := range q.AnyOf {
			if conds[i], err = b.cond(c); err != nil {
				return port.Page{}, err
			}
		}
		b.sql.WriteString(" AND (" + strings.Join(conds, " OR ") + ")")
	}

	cmp, dir := ">", "ASC"
	if q.Desc {
		cmp, dir = "<", "DESC"
	}
	if orderKey == "" {
		if after != nil {
			b.sql.WriteString(" AND seq " + cmp + " " + b.arg(after.Seq))
		}
		b.sql.WriteString(" ORDER BY seq " + dir)
	} else {
		if after != nil {
			v, id := b.arg(after.Value), b.arg(after.ID)
			fmt.Fprintf(&b.sql, " AND (%[1]s %[2]s %[3]s OR (%[1]s = %[3]s AND id %[2]s %[4]s))", orderKey, cmp, v, id)
		}
		b.sql.WriteString(" ORDER BY " + orderKey + " " + dir + ", id " + dir)
	}
	b.sql.WriteString(" LIMIT " + b.arg(limit+1))

	rows, err := s.pool.Query(ctx, b.sql.String(), b.args...)
	if err != nil {
		return port.Page{}, fmt.Errorf("read model: find in %s/%s: %w", projection, q.Collection, err)
	}
	var (
		page    port.Page
		last    port.Cursor
		id      string
		seq     int64
		doc     []byte
		value   string
		targets = []any{&id, &seq, &doc}
	)
	if orderKey != "" {
		targets = append(targets, &value)
	}
	_, err = pgx.ForEachRow(rows, targets, func() error {
		if len(page.Docs) == limit {
			page.Next = last.Encode()
			return nil
		}
		page.Docs = append(page.Docs, json.RawMessage(doc))
		last = port.Cursor{Shape: shape, Seq: seq, Value: value, ID: id}
		if orderKey == "" {
			last.Value, last.ID = "", ""
		} else {
			last.Seq = 0
		}
		return nil
	})
	if err != nil {
		return port.Page{}, fmt.Errorf("read model: find in %s/%s: %w", projection, q.Collection, err)
	}
	return page, nil
}

// fieldOf is the SQL expression of a top-level field. name has passed validField, so it holds
// no quote and may stand in the statement as a literal.
func fieldOf(name string) string { return "(doc->>'" + name + "')" }

// statement collects the SQL text and its parameters.
type statement struct {
	sql  strings.Builder
	args []any
	fold string
}

// arg adds a parameter and returns its placeholder.
func (b *statement) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *statement) cond(c port.Cond) (string, error) {
	if !port.ValidField(c.Field) {
		return "", fmt.Errorf("read model: bad condition field %q", c.Field)
	}
	field := fieldOf(c.Field)
	value := b.arg(c.Value) + "::text"
	switch c.Op {
	case port.Eq:
		// Equality is the same in every collation PostgreSQL allows as a database default;
		// leaving it out keeps the expression that of a plain expression index.
		return field + " = " + value, nil
	case port.Gte:
		return field + ` COLLATE "C" >= ` + value, nil
	case port.Lt:
		return field + ` COLLATE "C" < ` + value, nil
	case port.Contains:
		if b.fold != "" {
			collate := " COLLATE " + pgx.Identifier{b.fold}.Sanitize()
			field, value = field+collate, value+collate
		}
		return "strpos(lower(" + field + "), lower(" + value + ")) > 0", nil
	default:
		return "", fmt.Errorf("read model: unknown operator %d on %q", c.Op, c.Field)
	}
}

// icuRoot is ICU's root locale, whose lower-casing covers all of Unicode. A database made with
// the C locale lower-cases ASCII only, which would make "ＹＡＭＡＤＡ" and "ｙａｍａｄａ" differ.
const icuRoot = "und-x-icu"

// foldCollation returns the collation Contains lower-cases in: ICU's root where the server has
// it, else the database's default ("").
func (s *Store) foldCollation(ctx context.Context) (string, error) {
	if f := s.fold.Load(); f != nil {
		return *f, nil
	}
	var found bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = $1)`, icuRoot).Scan(&found)
	if err != nil {
		return "", fmt.Errorf("read model: look for the %s collation: %w", icuRoot, err)
	}
	f := ""
	if found {
		f = icuRoot
	}
	s.fold.Store(&f)
	return f, nil
}
