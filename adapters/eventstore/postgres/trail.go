package postgres

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"yorozu/domain/event"
	"yorozu/projections/audit"
	"yorozu/projections/readmodel"
)

// AuditTrail is the audit trail on PostgreSQL: a view over the events table joined with the audit
// projection's links, the rows of rm_docs that say which customer each stream belongs to and
// which events name another customer than their stream's (projections/audit, mode LinksOnly).
// Storing an entry per event beside the event itself would double the log's size and make a
// rebuild of the trail write a million documents; the links are one row per stream.
//
// It shows the events the audit projection has processed (up to its checkpoint), so that an
// event is never listed before its customer link is known.
type AuditTrail struct {
	s     *Store
	codec *event.Registry
}

var _ audit.Trail = AuditTrail{}

// AuditTrail returns the trail view on the store's database; codec redacts the secrets some
// events keep (event.Registry.Redact) from every entry.
func (s *Store) AuditTrail(codec *event.Registry) AuditTrail { return AuditTrail{s: s, codec: codec} }

// The view. $1 is the position the page starts after; the WHERE clause is completed by the
// filters. rm_docs ids of eventlinks are positions padded to 20 digits (audit.entryID).
var trailSQL = `
WITH through AS (
	SELECT COALESCE((SELECT position FROM projection_checkpoints WHERE name = 'audit'), 0) AS position
)
SELECT ` + qualifiedRecordColumns + `, COALESCE(x.doc->>'customerNumber', s.doc->>'customerNumber', '')
FROM events e
LEFT JOIN rm_docs s ON s.projection = 'audit' AND s.collection = 'streams' AND s.id = e.stream
LEFT JOIN rm_docs x ON x.projection = 'audit' AND x.collection = 'eventlinks'
	AND x.id = lpad(e.position::text, 20, '0')
WHERE e.position > $1 AND e.position <= (SELECT position FROM through)`

// qualifiedRecordColumns are recordColumns of the events table aliased e.
var qualifiedRecordColumns = func() string {
	cols := strings.Split(recordColumns, ",")
	for i, c := range cols {
		cols[i] = "e." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// customerFilter selects a customer's events: those of the streams linked to the customer, less
// the exceptions naming another, plus the exceptions naming this one. Written as semi-joins on
// small sets, so PostgreSQL reads the customer's streams by their index instead of scanning the
// log.
const customerFilter = `
	AND (
		(e.stream IN (SELECT id FROM rm_docs WHERE projection = 'audit' AND collection = 'streams'
			AND doc->>'customerNumber' = $%[1]d) AND x.id IS NULL)
		OR e.position IN (SELECT id::bigint FROM rm_docs WHERE projection = 'audit'
			AND collection = 'eventlinks' AND doc->>'customerNumber' = $%[1]d)
	)`

// Query implements audit.Trail.
func (t AuditTrail) Query(ctx context.Context, f audit.Filter) ([]audit.Entry, string, error) {
	if err := t.s.usable(ctx); err != nil {
		return nil, "", err
	}
	after, err := decodeTrailCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var sql strings.Builder
	sql.WriteString(trailSQL)
	args := []any{int64(after)}
	arg := func(v any) int {
		args = append(args, v)
		return len(args)
	}
	for col, v := range map[string]string{"e.stream": f.Stream, "e.actor": f.Actor, "e.type": f.Type} {
		if v != "" {
			fmt.Fprintf(&sql, "\n\tAND %s = $%d", col, arg(v))
		}
	}
	if !f.From.IsZero() {
		fmt.Fprintf(&sql, "\n\tAND e.recorded_at >= $%d", arg(f.From))
	}
	if !f.To.IsZero() {
		fmt.Fprintf(&sql, "\n\tAND e.recorded_at < $%d", arg(f.To))
	}
	if f.CustomerNumber != "" {
		fmt.Fprintf(&sql, customerFilter, arg(f.CustomerNumber))
	}
	fmt.Fprintf(&sql, "\nORDER BY e.position LIMIT $%d", arg(limit+1))

	rows, err := t.s.pool.Query(ctx, sql.String(), append([]any{customPlan}, args...)...)
	if err != nil {
		return nil, "", t.s.mapErr(fmt.Errorf("postgres audit trail: %w", err))
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		if out == nil {
			if err := checkFormats(rows.FieldDescriptions()[:len(binaryColumn)]); err != nil {
				return nil, "", fmt.Errorf("postgres audit trail: %w", err)
			}
		}
		v := rows.RawValues()
		rec, err := decodeRecord(v[:len(binaryColumn)])
		if err != nil {
			return nil, "", fmt.Errorf("postgres audit trail: %w", err)
		}
		rec.Data = t.codec.Redact(rec.Type, rec.Data)
		out = append(out, audit.EntryOf(rec, string(v[len(binaryColumn)])))
	}
	if err := rows.Err(); err != nil {
		return nil, "", t.s.mapErr(fmt.Errorf("postgres audit trail: %w", err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeTrailCursor(event.Position(out[limit-1].Position))
	}
	return out, next, nil
}

const trailCursorPrefix = "audit:"

func encodeTrailCursor(p event.Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(trailCursorPrefix + strconv.FormatUint(uint64(p), 10)))
}

func decodeTrailCursor(s string) (event.Position, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), trailCursorPrefix) {
		return 0, readmodel.ErrBadCursor
	}
	p, err := strconv.ParseUint(string(b[len(trailCursorPrefix):]), 10, 63)
	if err != nil {
		return 0, readmodel.ErrBadCursor
	}
	return event.Position(p), nil
}
