// Package audit is the audit-trail projection (SPEC 9): every stored event with its envelope,
// linked to the customer number it concerns, queryable by customer number, stream, actor, type
// and recorded time. Event data enters and leaves the trail without the secrets some events
// keep (event.Registry.Redact).
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// Name is the projection's checkpoint key: part of the storage schema.
const Name = "audit"

// Collections of the projection: part of the storage schema (the PostgreSQL view joins streams
// and eventlinks).
const (
	eventsCollection     = "events"
	streamsCollection    = "streams"
	eventLinksCollection = "eventlinks"
)

// InstantLayout is the fixed-width UTC form times are stored in, so that they compare as strings.
const InstantLayout = "2006-01-02T15:04:05.000000Z"

// Entry is one event of the trail, as the API shows it (SPEC 12 history item, plus links).
type Entry struct {
	EventID        string          `json:"eventId"`
	Type           string          `json:"type"`
	SchemaVersion  int             `json:"schemaVersion"`
	Stream         string          `json:"stream"`
	StreamVersion  uint64          `json:"streamVersion"`
	Position       uint64          `json:"position"`
	EffectiveAt    string          `json:"effectiveAt"`
	RecordedAt     string          `json:"recordedAt"`
	Actor          string          `json:"actor"`
	CommandID      string          `json:"commandId,omitempty"`
	CorrelationID  string          `json:"correlationId,omitempty"`
	CausationID    string          `json:"causationId,omitempty"`
	CustomerNumber string          `json:"customerNumber,omitempty"`
	Hash           string          `json:"hash"`
	PrevHash       string          `json:"prevHash"`
	Data           json.RawMessage `json:"data"`
}

// streamLink remembers which customer a stream belongs to, and (where the trail keeps entries)
// the events seen before that was known (an order is received before acceptance gives it a
// customer number).
type streamLink struct {
	CustomerNumber string   `json:"customerNumber,omitempty"`
	Unlinked       []string `json:"unlinked,omitempty"`
}

// Mode says what the projection keeps.
type Mode int

const (
	// Entries keeps every event's trail entry as a document: the trail is read from the read
	// model alone (the embedded engine, whose event log has no secondary indexes).
	Entries Mode = iota
	// LinksOnly keeps only which customer each stream (and each event naming another customer
	// than its stream's) belongs to: the trail is a view over the event log joined with these
	// links (PostgreSQL, where the log is a table; see adapters/eventstore/postgres AuditTrail).
	LinksOnly
)

// Projection builds the trail. Use one value per runner: it remembers the stream links of the
// unit of work in progress, which saves a read-model lookup for each event of a stream seen
// earlier in the same unit.
type Projection struct {
	codec *event.Registry
	mode  Mode
	// forCustomer caches, per stored type, whether its events name a customer.
	forCustomer map[string]bool
	unit        readmodel.Tx
	links       map[string]streamLink
}

// New returns the projection, decoding with codec.
func New(codec *event.Registry, mode Mode) *Projection {
	return &Projection{codec: codec, mode: mode, forCustomer: map[string]bool{}}
}

// Name implements projections.Projection.
func (*Projection) Name() string { return Name }

// Apply implements projections.Projection. An event belongs to the customer it names itself, or
// else to its stream's: the first customer an event of the stream named, or the one the
// stream's name carries (contract-N…).
func (p *Projection) Apply(ctx context.Context, tx readmodel.Tx, r event.Record) error {
	if tx != p.unit {
		// A new unit of work: what the last one saw may have been rolled back.
		p.unit, p.links = tx, make(map[string]streamLink)
	}
	link, found := p.links[r.Stream]
	if !found {
		raw, ok, err := tx.Get(ctx, streamsCollection, r.Stream)
		if err != nil {
			return err
		}
		if ok {
			if err := json.Unmarshal(raw, &link); err != nil {
				return err
			}
		}
	}
	own, err := p.customerNumberOf(r)
	if err != nil {
		return err
	}
	cn := own
	linkChanged := false
	switch {
	case own != "" && link.CustomerNumber == "":
		// The stream just learnt its customer: earlier events of it belong to the customer too.
		for _, id := range link.Unlinked {
			if err := relink(ctx, tx, id, own); err != nil {
				return err
			}
		}
		link = streamLink{CustomerNumber: own}
		linkChanged = true
	case own == "":
		cn = link.CustomerNumber
		if cn == "" && p.mode == Entries && event.Category(r.Stream) == "order" {
			// Only a new order learns its customer number later (at acceptance); other streams
			// without one (staff, numbering) never will, so nothing is kept for them.
			link.Unlinked = append(link.Unlinked, entryID(r.Position))
			linkChanged = true
		}
	case own != link.CustomerNumber && p.mode == LinksOnly:
		// An event naming another customer than its stream's (the customer-number register):
		// the view cannot tell without this exception.
		if err := tx.Put(ctx, eventLinksCollection, entryID(r.Position), streamLink{CustomerNumber: own}); err != nil {
			return err
		}
	}
	if linkChanged {
		if err := tx.Put(ctx, streamsCollection, r.Stream, link); err != nil {
			return err
		}
	}
	p.links[r.Stream] = link
	if p.mode == LinksOnly {
		return nil
	}
	// The trail shows every event to auditors: the secrets some events keep (hashes, sealed
	// values) never enter it.
	r.Data = p.codec.Redact(r.Type, r.Data)
	return tx.Put(ctx, eventsCollection, entryID(r.Position), encodeEntry(r, cn))
}

// customerNumberOf is the customer number the event names: its stream's name's, for a stream
// named by customer number, else the one the event itself names (event.ForCustomer), or "". Only
// events of ForCustomer types in other streams are decoded.
func (p *Projection) customerNumberOf(r event.Record) (string, error) {
	if cn, ok := p.codec.CustomerOfStream(r.Stream); ok {
		return cn, nil
	}
	names, known := p.forCustomer[r.Type]
	if !known {
		names = event.Implements[event.ForCustomer](p.codec, r.Type)
		p.forCustomer[r.Type] = names
	}
	if !names {
		return "", nil
	}
	e, err := p.codec.Decode(r)
	if err != nil {
		return "", err
	}
	return e.(event.ForCustomer).CustomerNumberOf(), nil
}

// entryID keys an entry by its global position, zero-padded: entries arrive in position order, so
// their keys grow, and a B-tree index on them (PostgreSQL's primary key) is appended to rather
// than written at random places as event UUIDs would be.
func entryID(p event.Position) string { return fmt.Sprintf("%020d", uint64(p)) }

func relink(ctx context.Context, tx readmodel.Tx, id, cn string) error {
	raw, ok, err := tx.Get(ctx, eventsCollection, id)
	if err != nil || !ok {
		return err
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return err
	}
	e.CustomerNumber = cn
	return tx.Put(ctx, eventsCollection, id, e)
}

// EntryOf renders a record as a trail entry.
func EntryOf(r event.Record, customerNumber string) Entry {
	return Entry{
		EventID:        r.ID.String(),
		Type:           r.Type,
		SchemaVersion:  r.SchemaVersion,
		Stream:         r.Stream,
		StreamVersion:  r.StreamVersion,
		Position:       uint64(r.Position),
		EffectiveAt:    instant(r.EffectiveAt),
		RecordedAt:     instant(r.RecordedAt),
		Actor:          r.Actor,
		CommandID:      r.CommandID,
		CorrelationID:  r.CorrelationID,
		CausationID:    r.CausationID,
		CustomerNumber: customerNumber,
		Hash:           r.Hash.String(),
		PrevHash:       r.PrevHash.String(),
		Data:           r.Data,
	}
}

// instant formats t as InstantLayout does, by arithmetic on its Unix microseconds: the trail
// formats two instants for every event of the log, and time.Format's zone handling was a tenth
// of a rebuild. Years 0000 to 9999 only, which is every instant the service stores.
func instant(t time.Time) string {
	us := t.UnixMicro()
	days, rem := us/86_400_000_000, us%86_400_000_000
	if rem < 0 {
		days, rem = days-1, rem+86_400_000_000
	}
	y, m, d := civil(days)
	if y < 0 || y > 9999 {
		return t.UTC().Format(InstantLayout)
	}
	secs, micro := rem/1_000_000, rem%1_000_000
	b := make([]byte, 0, len(InstantLayout))
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, m, 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, secs/3600, 2)
	b = append(b, ':')
	b = appendDigits(b, secs/60%60, 2)
	b = append(b, ':')
	b = appendDigits(b, secs%60, 2)
	b = append(b, '.')
	b = appendDigits(b, micro, 6)
	return string(append(b, 'Z'))
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
// days_from_civil inverse).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func appendDigits(b []byte, v int64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for ; width > 0 || v > 0; width-- {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[i:]...)
}

// Filter selects trail entries. Zero fields do not filter.
type Filter struct {
	CustomerNumber string
	Stream         string
	Actor          string
	Type           string
	// From and To bound the recorded time: From <= recordedAt < To.
	From, To time.Time
	After    string
	Limit    int
}

// Trail reads the audit trail in log order, one page at a time.
type Trail interface {
	Query(ctx context.Context, f Filter) ([]Entry, string, error)
}

// DocumentTrail reads the trail from the entries the projection keeps (mode Entries).
type DocumentTrail struct {
	Models readmodel.Store
	// Codec redacts each entry's data again as it leaves: entries written before the
	// projection redacted them keep no secret either.
	Codec *event.Registry
}

// Query implements Trail. Entries carry no secret (event.Registry.Redact).
func (t DocumentTrail) Query(ctx context.Context, f Filter) ([]Entry, string, error) {
	if t.Codec == nil {
		return nil, "", errors.New("audit: DocumentTrail.Codec is required to redact the entries")
	}
	q := readmodel.Query{Collection: eventsCollection, After: f.After, Limit: f.Limit}
	eq := func(field, v string) {
		if v != "" {
			q.Where = append(q.Where, readmodel.Cond{Field: field, Op: readmodel.Eq, Value: v})
		}
	}
	eq("customerNumber", f.CustomerNumber)
	eq("stream", f.Stream)
	eq("actor", f.Actor)
	eq("type", f.Type)
	if !f.From.IsZero() {
		q.Where = append(q.Where, readmodel.Cond{Field: "recordedAt", Op: readmodel.Gte, Value: f.From.UTC().Format(InstantLayout)})
	}
	if !f.To.IsZero() {
		q.Where = append(q.Where, readmodel.Cond{Field: "recordedAt", Op: readmodel.Lt, Value: f.To.UTC().Format(InstantLayout)})
	}
	page, err := t.Models.Find(ctx, Name, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]Entry, len(page.Docs))
	for i, d := range page.Docs {
		if err := json.Unmarshal(d, &out[i]); err != nil {
			return nil, "", err
		}
		out[i].Data = t.Codec.Redact(out[i].Type, out[i].Data)
	}
	return out, page.Next, nil
}
