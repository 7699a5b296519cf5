// Package readmodeltest is the one conformance suite every readmodel.Store adapter runs: the
// in-memory store and PostgreSQL. It also holds the benchmarks both adapters report.
//
// The suite fixes what the port leaves to the adapters, so that a projection behaves the same on
// either of them:
//   - documents come back as equivalent JSON, not necessarily the same bytes (PostgreSQL's jsonb
//     reorders keys);
//   - a field that is absent or null satisfies no condition, and sorts as the empty string;
//   - Contains folds case over all of Unicode (full-width letters too), not only ASCII;
//   - ties of an ordered query follow the document id in the query's direction, and Desc without
//     OrderBy is reverse insertion order;
//   - a document deleted and put again, even within one unit of work, goes to the end of the
//     insertion order;
//   - a field name in a query must look like an identifier (letters, digits, '_'); anything else
//     is refused with an error;
//   - a cursor is bound to the query that made it (collection, conditions, order); Limit may vary;
//   - Put and Delete refuse an empty collection name or id, and a Tx kept past its Update refuses
//     everything.
package readmodeltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// Factory opens a store for one subtest. It may hand every subtest the same store: each subtest
// prefixes its projection names with a fresh random string, so that it sees only its own data.
// Closing the store, if it needs closing, is the factory's business (t.Cleanup).
type Factory func(t *testing.T) readmodel.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s readmodel.Store)
	}{
		{"UpdateCommitsDocumentsWithCheckpoint", testUpdateCommits},
		{"FailedUpdateKeepsNothing", testFailedUpdate},
		{"UnitReadsItsOwnWrites", testReadOwnWrites},
		{"UnitRefusesMisuse", testUnitMisuse},
		{"PutReplacesKeepingInsertionPlace", testPutReplaces},
		{"Delete", testDelete},
		{"GetCommitted", testGetCommitted},
		{"FindConditions", testFindConditions},
		{"FindOrder", testFindOrder},
		{"QueriesFollowLaterWrites", testQueriesFollowWrites},
		{"PagingVisitsEveryDocumentOnce", testPaging},
		{"PagingWhileDocumentsArrive", testPagingWhileInserting},
		{"BadCursor", testBadCursor},
		{"BadFieldIsRefused", testBadField},
		{"LimitDefaultsTo100", testDefaultLimit},
		{"ProjectionsAreIsolated", testIsolation},
		{"ResetWipesOneProjection", testReset},
		{"ParallelUpdatesOfTwoProjectionsWithReaders", testConcurrency},
		{"UnitSeesTheCommittedCheckpoint", testUnitCheckpoint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, namespaced{open(t), fmt.Sprintf("t%016x.", rand.Uint64())})
		})
	}
}

// namespaced prefixes every projection name, so that subtests sharing a store do not meet.
type namespaced struct {
	s      readmodel.Store
	prefix string
}

func (n namespaced) Update(ctx context.Context, projection string, through event.Position, fn func(readmodel.Tx) error) error {
	return n.s.Update(ctx, n.prefix+projection, through, fn)
}

func (n namespaced) Checkpoint(ctx context.Context, projection string) (event.Position, error) {
	return n.s.Checkpoint(ctx, n.prefix+projection)
}

func (n namespaced) Reset(ctx context.Context, projection string) error {
	return n.s.Reset(ctx, n.prefix+projection)
}

func (n namespaced) Get(ctx context.Context, projection, collection, id string) (json.RawMessage, bool, error) {
	return n.s.Get(ctx, n.prefix+projection, collection, id)
}

func (n namespaced) Find(ctx context.Context, projection string, q readmodel.Query) (readmodel.Page, error) {
	return n.s.Find(ctx, n.prefix+projection, q)
}

// customer is the document most tests store: a contract as the contracts read model lists it.
type customer struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Kana         string  `json:"kana,omitempty"`
	Status       string  `json:"status"`
	OpenedOn     string  `json:"openedOn,omitempty"`
	Devices      int     `json:"devices"`
	WebFiltering bool    `json:"webFiltering"`
	Note         *string `json:"note"` // always null: a null field reads as absent
}

// customers are put in this order, which is neither id order nor any field's order.
var customers = []customer{
	{ID: "c03", Name: "Suzuki Ichiro", Kana: "スズキ イチロウ", Status: "terminated", OpenedOn: "2023-12-01", Devices: 42},
	{ID: "c01", Name: "YAMADA Taro", Kana: "ヤマダ タロウ", Status: "active", OpenedOn: "2024-04-01", Devices: 5, WebFiltering: true},
	{ID: "c06", Name: "佐藤 次郎", Kana: "サトウ ジロウ", Status: "active", OpenedOn: "2025-01-31", Devices: 42, WebFiltering: true},
	{ID: "c02", Name: "山田 花子", Kana: "ヤマダ ハナコ", Status: "active", OpenedOn: "2024-05-10", Devices: 7},
	{ID: "c05", Name: "Tanaka Yamadaya", Kana: "タナカ ヤマダヤ", Status: "active", Devices: 10},
	{ID: "c04", Name: "ＹＡＭＡＤＡ商事", Kana: "ヤマダショウジ", Status: "terminated", OpenedOn: "2024-04-01", Devices: 5, WebFiltering: true},
}

const (
	contracts = "contracts"
	orders    = "orders"
)

var errBoom = errors.New("projection failed")

func ctx(t *testing.T) context.Context { return t.Context() }

// update runs one unit of work that puts the customers, in order.
func update(t *testing.T, s readmodel.Store, projection string, through event.Position, docs ...customer) {
	t.Helper()
	err := s.Update(ctx(t), projection, through, func(tx readmodel.Tx) error {
		for _, d := range docs {
			if err := tx.Put(ctx(t), contracts, d.ID, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(%s, %d): %v", projection, through, err)
	}
}

func mustCheckpoint(t *testing.T, s readmodel.Store, projection string, want event.Position) {
	t.Helper()
	got, err := s.Checkpoint(ctx(t), projection)
	if err != nil {
		t.Fatalf("Checkpoint(%s): %v", projection, err)
	}
	if got != want {
		t.Errorf("Checkpoint(%s) = %d, want %d", projection, got, want)
	}
}

// mustGet reads a committed customer; nil if it is not there.
func mustGet(t *testing.T, s readmodel.Store, projection, collection, id string) *customer {
	t.Helper()
	raw, ok, err := s.Get(ctx(t), projection, collection, id)
	if err != nil {
		t.Fatalf("Get(%s, %s, %s): %v", projection, collection, id, err)
	}
	if !ok {
		return nil
	}
	return decode(t, raw)
}

func decode(t *testing.T, raw json.RawMessage) *customer {
	t.Helper()
	var c customer
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("stored document %s does not decode: %v", raw, err)
	}
	return &c
}

func ids(t *testing.T, docs []json.RawMessage) []string {
	t.Helper()
	out := make([]string, 0, len(docs))
	for _, raw := range docs {
		out = append(out, decode(t, raw).ID)
	}
	return out
}

// findIDs runs one page of a query and returns the ids on it.
func findIDs(t *testing.T, s readmodel.Store, projection string, q readmodel.Query) []string {
	t.Helper()
	page, err := s.Find(ctx(t), projection, q)
	if err != nil {
		t.Fatalf("Find(%s, %+v): %v", projection, q, err)
	}
	return ids(t, page.Docs)
}

// findAll pages through a query and fails on a document seen twice.
func findAll(t *testing.T, s readmodel.Store, projection string, q readmodel.Query) []string {
	t.Helper()
	var all []string
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("Find(%+v) does not end", q)
		}
		page, err := s.Find(ctx(t), projection, q)
		if err != nil {
			t.Fatalf("Find(%+v): %v", q, err)
		}
		if q.Limit > 0 && len(page.Docs) > q.Limit {
			t.Fatalf("Find(%+v) returned %d documents, more than its limit", q, len(page.Docs))
		}
		for _, id := range ids(t, page.Docs) {
			if seen[id] {
				t.Fatalf("Find(%+v): %s on two pages", q, id)
			}
			seen[id] = true
			all = append(all, id)
		}
		if page.Next == "" {
			return all
		}
		if len(page.Docs) == 0 {
			t.Fatalf("Find(%+v): empty page with a Next cursor", q)
		}
		q.After = page.Next
	}
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func testUpdateCommits(t *testing.T, s readmodel.Store) {
	mustCheckpoint(t, s, "contracts", 0)
	update(t, s, "contracts", 7, customers[0], customers[1])
	mustCheckpoint(t, s, "contracts", 7)
	for _, want := range customers[:2] {
		got := mustGet(t, s, "contracts", contracts, want.ID)
		if got == nil || *got != want {
			t.Errorf("Get(%s) = %+v, want %+v", want.ID, got, want)
		}
	}
	update(t, s, "contracts", 12, customers[2])
	mustCheckpoint(t, s, "contracts", 12)
	if mustGet(t, s, "contracts", contracts, customers[2].ID) == nil {
		t.Errorf("the second unit's document is missing")
	}
	// A unit without writes still moves the checkpoint: the events it saw needed nothing.
	if err := s.Update(ctx(t), "contracts", 15, func(readmodel.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	mustCheckpoint(t, s, "contracts", 15)
}

func testFailedUpdate(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 5, customers[0], customers[1])
	err := s.Update(ctx(t), "contracts", 9, func(tx readmodel.Tx) error {
		changed := customers[0]
		changed.Status = "terminated"
		for _, w := range []func() error{
			func() error { return tx.Put(ctx(t), contracts, changed.ID, changed) },
			func() error { return tx.Put(ctx(t), contracts, customers[2].ID, customers[2]) },
			func() error { return tx.Delete(ctx(t), contracts, customers[1].ID) },
		} {
			if err := w(); err != nil {
				return err
			}
		}
		return fmt.Errorf("applying event 9: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update returned %v, want the error of fn", err)
	}
	mustCheckpoint(t, s, "contracts", 5)
	if got := mustGet(t, s, "contracts", contracts, customers[0].ID); got == nil || *got != customers[0] {
		t.Errorf("a failed unit changed %s: %+v", customers[0].ID, got)
	}
	if mustGet(t, s, "contracts", contracts, customers[1].ID) == nil {
		t.Errorf("a failed unit deleted %s", customers[1].ID)
	}
	if mustGet(t, s, "contracts", contracts, customers[2].ID) != nil {
		t.Errorf("a failed unit put %s", customers[2].ID)
	}
	sameIDs(t, "documents after a failed unit", findAll(t, s, "contracts", readmodel.Query{Collection: contracts}), []string{"c03", "c01"})

	// A value that does not marshal fails the Put; fn passing that on keeps nothing either.
	err = s.Update(ctx(t), "contracts", 10, func(tx readmodel.Tx) error {
		if err := tx.Put(ctx(t), contracts, "c09", customers[2]); err != nil {
			return err
		}
		return tx.Put(ctx(t), contracts, "bad", map[string]any{"ch": make(chan int)})
	})
	if err == nil {
		t.Fatalf("Put of a value that does not marshal succeeded")
	}
	mustCheckpoint(t, s, "contracts", 5)
	if mustGet(t, s, "contracts", contracts, "c09") != nil {
		t.Errorf("a failed unit put c09")
	}
}

func testReadOwnWrites(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 1, customers[0], customers[1])
	a, b := customers[0], customers[1]
	changed := a
	changed.Devices = 99
	err := s.Update(ctx(t), "contracts", 2, func(tx readmodel.Tx) error {
		get := func(id string) *customer {
			raw, ok, err := tx.Get(ctx(t), contracts, id)
			if err != nil {
				t.Fatalf("Tx.Get(%s): %v", id, err)
			}
			if !ok {
				return nil
			}
			return decode(t, raw)
		}
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := get(a.ID); got == nil || *got != a {
			t.Errorf("Tx.Get of a committed document = %+v, want %+v", got, a)
		}
		must(tx.Put(ctx(t), contracts, a.ID, changed))
		if got := get(a.ID); got == nil || *got != changed {
			t.Errorf("Tx.Get after Put = %+v, want %+v", got, changed)
		}
		must(tx.Delete(ctx(t), contracts, b.ID))
		if got := get(b.ID); got != nil {
			t.Errorf("Tx.Get after Delete of a committed document = %+v, want none", got)
		}
		c := customers[2]
		if got := get(c.ID); got != nil {
			t.Errorf("Tx.Get of a document not yet put = %+v", got)
		}
		must(tx.Put(ctx(t), contracts, c.ID, c))
		if got := get(c.ID); got == nil || *got != c {
			t.Errorf("Tx.Get of a new document = %+v, want %+v", got, c)
		}
		must(tx.Delete(ctx(t), contracts, c.ID))
		if got := get(c.ID); got != nil {
			t.Errorf("Tx.Get after Put then Delete = %+v, want none", got)
		}
		must(tx.Put(ctx(t), contracts, c.ID, c))
		if got := get(c.ID); got == nil {
			t.Errorf("Tx.Get after Put, Delete, Put found nothing")
		}
		// Collections are separate namespaces of ids.
		if raw, ok, err := tx.Get(ctx(t), orders, a.ID); err != nil || ok {
			t.Errorf("Tx.Get(%s, %s) = %s, %v, %v; want nothing", orders, a.ID, raw, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "contracts", contracts, a.ID); got == nil || *got != changed {
		t.Errorf("committed %s = %+v, want %+v", a.ID, got, changed)
	}
	if mustGet(t, s, "contracts", contracts, b.ID) != nil {
		t.Errorf("%s survived its Delete", b.ID)
	}
	if mustGet(t, s, "contracts", contracts, customers[2].ID) == nil {
		t.Errorf("%s is missing", customers[2].ID)
	}
}

func testUnitMisuse(t *testing.T, s readmodel.Store) {
	for _, w := range []struct{ collection, id string }{{"", "c01"}, {contracts, ""}} {
		err := s.Update(ctx(t), "contracts", 1, func(tx readmodel.Tx) error {
			return tx.Put(ctx(t), w.collection, w.id, customers[0])
		})
		if err == nil {
			t.Errorf("Put(%q, %q) succeeded", w.collection, w.id)
		}
		err = s.Update(ctx(t), "contracts", 1, func(tx readmodel.Tx) error {
			return tx.Delete(ctx(t), w.collection, w.id)
		})
		if err == nil {
			t.Errorf("Delete(%q, %q) succeeded", w.collection, w.id)
		}
	}
	mustCheckpoint(t, s, "contracts", 0)

	// A unit of work ends with its Update: a Tx kept past it writes nothing.
	var kept readmodel.Tx
	if err := s.Update(ctx(t), "contracts", 2, func(tx readmodel.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := kept.Put(ctx(t), contracts, "late", customers[0]); err == nil {
		t.Errorf("Put on a finished unit of work succeeded")
	}
	if _, _, err := kept.Get(ctx(t), contracts, "late"); err == nil {
		t.Errorf("Get on a finished unit of work succeeded")
	}
	if got := mustGet(t, s, "contracts", contracts, "late"); got != nil {
		t.Errorf("a finished unit of work wrote %+v", got)
	}
}

func testPutReplaces(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 1, customers[0], customers[1], customers[2])
	all := readmodel.Query{Collection: contracts}
	sameIDs(t, "insertion order", findAll(t, s, "contracts", all), []string{"c03", "c01", "c06"})

	changed := customers[0]
	changed.Name = "Suzuki Jiro"
	update(t, s, "contracts", 2, changed)
	sameIDs(t, "order after a replace", findAll(t, s, "contracts", all), []string{"c03", "c01", "c06"})
	if got := mustGet(t, s, "contracts", contracts, changed.ID); got == nil || *got != changed {
		t.Errorf("replaced document = %+v, want %+v", got, changed)
	}
	page, err := s.Find(ctx(t), "contracts", all)
	if err != nil {
		t.Fatal(err)
	}
	if first := decode(t, page.Docs[0]); *first != changed {
		t.Errorf("Find returned the old version %+v", first)
	}

	// Put twice within one unit keeps the place of the first Put.
	update(t, s, "contracts", 3, customers[3], customers[4], customers[3])
	sameIDs(t, "order after a double Put", findAll(t, s, "contracts", all), []string{"c03", "c01", "c06", "c02", "c05"})

	// Deleted and put again is a new document: it goes to the end, even within one unit.
	err = s.Update(ctx(t), "contracts", 4, func(tx readmodel.Tx) error {
		if err := tx.Delete(ctx(t), contracts, "c01"); err != nil {
			return err
		}
		return tx.Put(ctx(t), contracts, "c01", customers[1])
	})
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "order after Delete and Put", findAll(t, s, "contracts", all), []string{"c03", "c06", "c02", "c05", "c01"})
}

func testDelete(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 1, customers...)
	err := s.Update(ctx(t), "contracts", 2, func(tx readmodel.Tx) error {
		for _, id := range []string{"c01", "c04", "never-there"} {
			if err := tx.Delete(ctx(t), contracts, id); err != nil {
				return err
			}
		}
		return tx.Delete(ctx(t), "no-such-collection", "c02")
	})
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, id := range []string{"c01", "c04"} {
		if mustGet(t, s, "contracts", contracts, id) != nil {
			t.Errorf("%s survived its Delete", id)
		}
	}
	sameIDs(t, "documents after Delete", findAll(t, s, "contracts", readmodel.Query{Collection: contracts}), []string{"c03", "c06", "c02", "c05"})
	sameIDs(t, "documents after Delete, by name", findAll(t, s, "contracts", readmodel.Query{Collection: contracts, OrderBy: "id"}), []string{"c02", "c03", "c05", "c06"})
	mustCheckpoint(t, s, "contracts", 2)
}

func testGetCommitted(t *testing.T, s readmodel.Store) {
	if got := mustGet(t, s, "nobody", contracts, "c01"); got != nil {
		t.Errorf("Get in an unknown projection = %+v", got)
	}
	update(t, s, "contracts", 1, customers...)
	for _, want := range customers {
		if got := mustGet(t, s, "contracts", contracts, want.ID); got == nil || *got != want {
			t.Errorf("Get(%s) = %+v, want %+v", want.ID, got, want)
		}
	}
	if got := mustGet(t, s, "contracts", contracts, "c99"); got != nil {
		t.Errorf("Get of an unknown id = %+v", got)
	}
	if got := mustGet(t, s, "contracts", orders, "c01"); got != nil {
		t.Errorf("Get in another collection = %+v", got)
	}
	raw, _, err := s.Get(ctx(t), "contracts", contracts, "c06")
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	if v, ok := fields["note"]; !ok || v != nil {
		t.Errorf("a null field did not come back as null: %s", raw)
	}
}

func testFindConditions(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 1, customers...)
	c := func(field string, op readmodel.Op, value string) readmodel.Cond {
		return readmodel.Cond{Field: field, Op: op, Value: value}
	}
	nameOrKana := []readmodel.Cond{c("name", readmodel.Contains, "yamada"), c("kana", readmodel.Contains, "ヤマダ")}
	tests := []struct {
		name  string
		where []readmodel.Cond
		anyOf []readmodel.Cond
		want  []string
	}{
		{"all", nil, nil, []string{"c03", "c01", "c06", "c02", "c05", "c04"}},
		{"status is active", []readmodel.Cond{c("status", readmodel.Eq, "active")}, nil, []string{"c01", "c06", "c02", "c05"}},
		{"no such status", []readmodel.Cond{c("status", readmodel.Eq, "closed")}, nil, nil},
		{"a number in its JSON text", []readmodel.Cond{c("devices", readmodel.Eq, "42")}, nil, []string{"c03", "c06"}},
		{"a boolean in its JSON text", []readmodel.Cond{c("webFiltering", readmodel.Eq, "true")}, nil, []string{"c01", "c06", "c04"}},
		{"opened on or after April", []readmodel.Cond{c("openedOn", readmodel.Gte, "2024-04-01")}, nil, []string{"c01", "c06", "c02", "c04"}},
		{"opened before April", []readmodel.Cond{c("openedOn", readmodel.Lt, "2024-04-01")}, nil, []string{"c03"}},
		{"opened in fiscal 2024", []readmodel.Cond{c("openedOn", readmodel.Gte, "2024-04-01"), c("openedOn", readmodel.Lt, "2025-01-01")}, nil, []string{"c01", "c02", "c04"}},
		{"an absent field satisfies no condition", []readmodel.Cond{c("openedOn", readmodel.Gte, "")}, nil, []string{"c03", "c01", "c06", "c02", "c04"}},
		{"a null field satisfies no condition", []readmodel.Cond{c("note", readmodel.Contains, "")}, nil, nil},
		{"an unknown field satisfies no condition", []readmodel.Cond{c("nothing", readmodel.Lt, "zzz")}, nil, nil},
		{"name contains, any case", []readmodel.Cond{c("name", readmodel.Contains, "yamada")}, nil, []string{"c01", "c05"}},
		{"name contains, upper case asked", []readmodel.Cond{c("name", readmodel.Contains, "YAMADAYA")}, nil, []string{"c05"}},
		{"full-width letters fold too", []readmodel.Cond{c("name", readmodel.Contains, "ｙａｍａｄａ")}, nil, []string{"c04"}},
		{"kana", []readmodel.Cond{c("kana", readmodel.Contains, "ヤマダ")}, nil, []string{"c01", "c02", "c05", "c04"}},
		{"kanji", []readmodel.Cond{c("name", readmodel.Contains, "山田")}, nil, []string{"c02"}},
		{"text search over name or kana", nil, nameOrKana, []string{"c01", "c02", "c05", "c04"}},
		{"text search among active contracts", []readmodel.Cond{c("status", readmodel.Eq, "active")}, nameOrKana, []string{"c01", "c02", "c05"}},
		{"text search that finds nothing", nil, []readmodel.Cond{c("name", readmodel.Contains, "伊藤"), c("kana", readmodel.Contains, "イトウ")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := readmodel.Query{Collection: contracts, Where: tc.where, AnyOf: tc.anyOf}
			sameIDs(t, "Find", findIDs(t, s, "contracts", q), tc.want)
			q.Limit = 1
			sameIDs(t, "Find one by one", findAll(t, s, "contracts", q), tc.want)
		})
	}
}

func testFindOrder(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 1, customers...)
	tests := []struct {
		name    string
		orderBy string
		desc    bool
		where   []readmodel.Cond
		want    []string
	}{
		{"insertion order", "", false, nil, []string{"c03", "c01", "c06", "c02", "c05", "c04"}},
		{"reverse insertion order", "", true, nil, []string{"c04", "c05", "c02", "c06", "c01", "c03"}},
		// c05 has no openedOn, which sorts as "". c01 and c04 tie and follow their ids.
		{"opened on, ascending", "openedOn", false, nil, []string{"c05", "c03", "c01", "c04", "c02", "c06"}},
		{"opened on, descending", "openedOn", true, nil, []string{"c06", "c02", "c04", "c01", "c03", "c05"}},
		{"numbers order as strings", "devices", false, nil, []string{"c05", "c03", "c06", "c01", "c04", "c02"}},
		{"by id", "id", false, nil, []string{"c01", "c02", "c03", "c04", "c05", "c06"}},
		{"active by kana", "kana", false, []readmodel.Cond{{Field: "status", Op: readmodel.Eq, Value: "active"}}, []string{"c06", "c05", "c01", "c02"}},
		{"active by kana, descending", "kana", true, []readmodel.Cond{{Field: "status", Op: readmodel.Eq, Value: "active"}}, []string{"c02", "c01", "c05", "c06"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := readmodel.Query{Collection: contracts, OrderBy: tc.orderBy, Desc: tc.desc, Where: tc.where}
			sameIDs(t, "Find", findIDs(t, s, "contracts", q), tc.want)
			for _, limit := range []int{1, 2, 4} {
				q.Limit = limit
				sameIDs(t, fmt.Sprintf("Find by pages of %d", limit), findAll(t, s, "contracts", q), tc.want)
			}
		})
	}
}

// testQueriesFollowWrites queries fields before and after they change, so that a store that
// indexes or caches fields on first use must keep up with replaces, deletes and mass deletes.
func testQueriesFollowWrites(t *testing.T, s readmodel.Store) {
	docs := numbered(0, 300)
	update(t, s, "contracts", 1, docs...)
	active := readmodel.Query{Collection: contracts, Where: []readmodel.Cond{{Field: "status", Op: readmodel.Eq, Value: "active"}}}
	byName := readmodel.Query{Collection: contracts, OrderBy: "name", Limit: 7}
	if got := findAll(t, s, "contracts", active); len(got) != 150 {
		t.Fatalf("%d active documents, want 150", len(got))
	}
	findAll(t, s, "contracts", byName)

	// d000 was active; now it is not, under a new name.
	changed := docs[0]
	changed.Status, changed.Name = "terminated", "zz renamed"
	update(t, s, "contracts", 2, changed)
	if got := findAll(t, s, "contracts", active); len(got) != 149 || slices.Contains(got, "d000") {
		t.Errorf("after d000 changed status: %d active documents (d000 among them: %v), want 149 without it", len(got), slices.Contains(got, "d000"))
	}
	if got := findAll(t, s, "contracts", byName); got[len(got)-1] != "d000" {
		t.Errorf("after d000 was renamed, the listing by name ends with %s", got[len(got)-1])
	}

	// A listing begun before most documents are deleted goes on with the ones left.
	page, err := s.Find(ctx(t), "contracts", readmodel.Query{Collection: contracts, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx(t), "contracts", 3, func(tx readmodel.Tx) error {
		for _, d := range docs[5:280] {
			if err := tx.Delete(ctx(t), contracts, d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	left := slices.Concat(idsOf(docs[:5]), idsOf(docs[280:]))
	rest := findAll(t, s, "contracts", readmodel.Query{Collection: contracts, Limit: 10, After: page.Next})
	sameIDs(t, "the rest of a listing after a mass delete", rest, idsOf(docs[280:]))
	sameIDs(t, "every document after a mass delete", findAll(t, s, "contracts", readmodel.Query{Collection: contracts, Limit: 4}), left)
	var wantActive []string
	for _, d := range slices.Concat(docs[1:5], docs[280:]) {
		if d.Status == "active" {
			wantActive = append(wantActive, d.ID)
		}
	}
	sameIDs(t, "active documents after a mass delete", findAll(t, s, "contracts", active), wantActive)

	// Deleted documents put again are new: at the end, with their new values.
	back := docs[100]
	back.Status = "active"
	update(t, s, "contracts", 4, back)
	got := findAll(t, s, "contracts", active)
	if len(got) == 0 || got[len(got)-1] != back.ID {
		t.Errorf("active documents after %s came back: %v, want it last", back.ID, got)
	}
	if got := findIDs(t, s, "contracts", readmodel.Query{Collection: contracts, Where: []readmodel.Cond{{Field: "name", Op: readmodel.Eq, Value: docs[150].Name}}}); len(got) != 0 {
		t.Errorf("a deleted document is still found by its name: %v", got)
	}
}

// numbered are n documents "d000".. with a few repeating values to order by.
func numbered(from, n int) []customer {
	out := make([]customer, n)
	for i := range out {
		k := from + i
		out[i] = customer{
			ID:       fmt.Sprintf("d%03d", k),
			Name:     fmt.Sprintf("customer %d", k),
			Status:   []string{"active", "terminated"}[k%2],
			OpenedOn: fmt.Sprintf("2024-%02d-01", 1+k%5),
			Devices:  k,
		}
	}
	return out
}

func idsOf(docs []customer) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

func testPaging(t *testing.T, s readmodel.Store) {
	docs := numbered(0, 47)
	update(t, s, "contracts", 1, docs...)
	all := idsOf(docs)
	for _, limit := range []int{1, 5, 46, 47, 48, 1000} {
		got := findAll(t, s, "contracts", readmodel.Query{Collection: contracts, Limit: limit})
		sameIDs(t, fmt.Sprintf("pages of %d", limit), got, all)

		byDate := findAll(t, s, "contracts", readmodel.Query{Collection: contracts, OrderBy: "openedOn", Limit: limit})
		if len(byDate) != len(all) {
			t.Errorf("pages of %d by date: %d documents, want %d", limit, len(byDate), len(all))
		}
		active := findAll(t, s, "contracts", readmodel.Query{
			Collection: contracts, OrderBy: "openedOn", Desc: true, Limit: limit,
			Where: []readmodel.Cond{{Field: "status", Op: readmodel.Eq, Value: "active"}},
		})
		if len(active) != 24 {
			t.Errorf("pages of %d of active documents: %d documents, want 24", limit, len(active))
		}
	}
	// A page that ends exactly at the last document has no Next.
	page, err := s.Find(ctx(t), "contracts", readmodel.Query{Collection: contracts, Limit: 47})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Docs) != 47 || page.Next != "" {
		t.Errorf("a page holding every document: %d documents, Next %q", len(page.Docs), page.Next)
	}
}

func testPagingWhileInserting(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 1, numbered(0, 20)...)

	t.Run("insertion order", func(t *testing.T) {
		q := readmodel.Query{Collection: contracts, Limit: 6}
		var got []string
		for round := 0; ; round++ {
			page, err := s.Find(ctx(t), "contracts", q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(t, page.Docs)...)
			if page.Next == "" {
				break
			}
			q.After = page.Next
			// Between pages: new documents arrive, and documents already listed and not yet
			// listed change. Every document must still come exactly once.
			if round < 3 {
				fresh := numbered(100+10*round, 3)
				fresh = append(fresh, numbered(0, 1)[0], numbered(19, 1)[0])
				update(t, s, "contracts", event.Position(2+round), fresh...)
			}
		}
		want := idsOf(numbered(0, 20))
		for round := 0; round < 3; round++ {
			want = append(want, idsOf(numbered(100+10*round, 3))...)
		}
		sameIDs(t, "listing while documents arrive", got, want)
	})

	t.Run("ordered", func(t *testing.T) {
		q := readmodel.Query{Collection: contracts, OrderBy: "id", Limit: 4}
		before := findAll(t, s, "contracts", readmodel.Query{Collection: contracts, OrderBy: "id"})
		var got []string
		seen := map[string]bool{}
		for round := 0; ; round++ {
			page, err := s.Find(ctx(t), "contracts", q)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids(t, page.Docs) {
				if seen[id] {
					t.Fatalf("%s listed twice", id)
				}
				seen[id] = true
				got = append(got, id)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
			if round == 1 {
				// One document sorts before the cursor (it is not listed: the listing has
				// passed its place), one after it (it is listed).
				update(t, s, "contracts", 10, customer{ID: "a000", Status: "active"}, customer{ID: "z999", Status: "active"})
			}
		}
		want := slices.Concat(before, []string{"z999"})
		sameIDs(t, "ordered listing while documents arrive", got, want)
	})
}

func testBadCursor(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 1, customers...)
	byDate := readmodel.Query{Collection: contracts, OrderBy: "openedOn", Limit: 2}
	page, err := s.Find(ctx(t), "contracts", byDate)
	if err != nil || page.Next == "" {
		t.Fatalf("first page: %v, Next %q", err, page.Next)
	}
	inserted, err := s.Find(ctx(t), "contracts", readmodel.Query{Collection: contracts, Limit: 2})
	if err != nil || inserted.Next == "" {
		t.Fatalf("first page: %v, Next %q", err, inserted.Next)
	}
	tests := []struct {
		name string
		q    readmodel.Query
	}{
		{"not base64", readmodel.Query{Collection: contracts, After: "%%%not a cursor%%%"}},
		{"base64 of garbage", readmodel.Query{Collection: contracts, After: "Z2FyYmFnZQ"}},
		{"a cursor of another order", readmodel.Query{Collection: contracts, After: page.Next}},
		{"a cursor of the other direction", readmodel.Query{Collection: contracts, OrderBy: "openedOn", Desc: true, After: page.Next}},
		{"a cursor of another collection", readmodel.Query{Collection: orders, OrderBy: "openedOn", After: page.Next}},
		{"a cursor of other conditions", readmodel.Query{Collection: contracts, After: inserted.Next, Where: []readmodel.Cond{{Field: "status", Op: readmodel.Eq, Value: "active"}}}},
		{"a cursor of insertion order used for an order", readmodel.Query{Collection: contracts, OrderBy: "openedOn", After: inserted.Next}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Find(ctx(t), "contracts", tc.q)
			if !errors.Is(err, readmodel.ErrBadCursor) {
				t.Errorf("Find = %v, want ErrBadCursor", err)
			}
		})
	}
	// The same query with another page size accepts the cursor.
	byDate.After, byDate.Limit = page.Next, 10
	if got := findIDs(t, s, "contracts", byDate); len(got) != 4 {
		t.Errorf("the rest of the listing by date: %v, want 4 documents", got)
	}
}

func testBadField(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 1, customers...)
	for _, q := range []readmodel.Query{
		{Collection: contracts, Where: []readmodel.Cond{{Field: "", Op: readmodel.Eq, Value: "x"}}},
		{Collection: contracts, Where: []readmodel.Cond{{Field: "name'); DROP TABLE x; --", Op: readmodel.Eq, Value: "x"}}},
		{Collection: contracts, AnyOf: []readmodel.Cond{{Field: "a b", Op: readmodel.Contains, Value: "x"}}},
		{Collection: contracts, OrderBy: "kana desc"},
		{Collection: contracts, Where: []readmodel.Cond{{Field: "name", Op: readmodel.Op(200), Value: "x"}}},
	} {
		if _, err := s.Find(ctx(t), "contracts", q); err == nil || errors.Is(err, readmodel.ErrBadCursor) {
			t.Errorf("Find(%+v) = %v, want an error", q, err)
		}
	}
	// A value is data, whatever it holds.
	q := readmodel.Query{Collection: contracts, Where: []readmodel.Cond{{Field: "name", Op: readmodel.Eq, Value: "x' OR '1'='1"}}}
	sameIDs(t, "Find with quotes in a value", findIDs(t, s, "contracts", q), nil)
}

func testDefaultLimit(t *testing.T, s readmodel.Store) {
	docs := numbered(0, 150)
	update(t, s, "contracts", 1, docs...)
	for _, limit := range []int{0, -1} {
		page, err := s.Find(ctx(t), "contracts", readmodel.Query{Collection: contracts, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Docs) != 100 || page.Next == "" {
			t.Fatalf("Limit %d: %d documents, Next %q; want 100 and a cursor", limit, len(page.Docs), page.Next)
		}
		rest, err := s.Find(ctx(t), "contracts", readmodel.Query{Collection: contracts, Limit: limit, After: page.Next})
		if err != nil {
			t.Fatal(err)
		}
		if len(rest.Docs) != 50 || rest.Next != "" {
			t.Errorf("Limit %d, second page: %d documents, Next %q; want 50 and none", limit, len(rest.Docs), rest.Next)
		}
	}
}

func testIsolation(t *testing.T, s readmodel.Store) {
	mine, theirs := customers[0], customers[0]
	theirs.Name = "someone else's view"
	update(t, s, "contracts", 3, mine, customers[1])
	update(t, s, "audit", 8, theirs)
	err := s.Update(ctx(t), "audit", 9, func(tx readmodel.Tx) error {
		return tx.Put(ctx(t), orders, "o1", customer{ID: "o1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	mustCheckpoint(t, s, "contracts", 3)
	mustCheckpoint(t, s, "audit", 9)
	if got := mustGet(t, s, "contracts", contracts, mine.ID); got == nil || *got != mine {
		t.Errorf("contracts sees %+v, want its own %+v", got, mine)
	}
	if got := mustGet(t, s, "audit", contracts, theirs.ID); got == nil || *got != theirs {
		t.Errorf("audit sees %+v, want its own %+v", got, theirs)
	}
	if got := mustGet(t, s, "audit", contracts, customers[1].ID); got != nil {
		t.Errorf("audit sees a document of contracts: %+v", got)
	}
	if got := mustGet(t, s, "contracts", orders, "o1"); got != nil {
		t.Errorf("contracts sees a document of audit: %+v", got)
	}
	sameIDs(t, "contracts' documents", findAll(t, s, "contracts", readmodel.Query{Collection: contracts}), []string{"c03", "c01"})
	sameIDs(t, "audit's documents", findAll(t, s, "audit", readmodel.Query{Collection: contracts}), []string{"c03"})
	sameIDs(t, "contracts' orders", findAll(t, s, "contracts", readmodel.Query{Collection: orders}), nil)
	sameIDs(t, "an unknown projection's documents", findAll(t, s, "nobody", readmodel.Query{Collection: contracts}), nil)
	// A cursor of one projection's listing does not leak another's documents.
	page, err := s.Find(ctx(t), "contracts", readmodel.Query{Collection: contracts, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rest, err := s.Find(ctx(t), "audit", readmodel.Query{Collection: contracts, After: page.Next}); err == nil {
		for _, id := range ids(t, rest.Docs) {
			if id == customers[1].ID {
				t.Errorf("audit's listing shows contracts' %s", id)
			}
		}
	}
}

func testReset(t *testing.T, s readmodel.Store) {
	update(t, s, "contracts", 4, customers...)
	update(t, s, "audit", 6, customers[:2]...)
	if err := s.Reset(ctx(t), "contracts"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	mustCheckpoint(t, s, "contracts", 0)
	mustCheckpoint(t, s, "audit", 6)
	sameIDs(t, "documents after Reset", findAll(t, s, "contracts", readmodel.Query{Collection: contracts}), nil)
	if got := mustGet(t, s, "contracts", contracts, "c01"); got != nil {
		t.Errorf("Get after Reset = %+v", got)
	}
	sameIDs(t, "the other projection after Reset", findAll(t, s, "audit", readmodel.Query{Collection: contracts}), []string{"c03", "c01"})

	// The rebuild that follows a reset starts from an empty projection.
	update(t, s, "contracts", 2, customers[5], customers[4])
	mustCheckpoint(t, s, "contracts", 2)
	sameIDs(t, "documents after a rebuild", findAll(t, s, "contracts", readmodel.Query{Collection: contracts}), []string{"c04", "c05"})
	if err := s.Reset(ctx(t), "never-updated"); err != nil {
		t.Errorf("Reset of an unknown projection: %v", err)
	}
}

func testConcurrency(t *testing.T, s readmodel.Store) {
	const units, perUnit = 30, 20
	projections := []string{"left", "right"}
	var writers, readers sync.WaitGroup
	done := make(chan struct{})
	for _, p := range projections {
		writers.Go(func() {
			for u := range units {
				err := s.Update(context.Background(), p, event.Position(u+1), func(tx readmodel.Tx) error {
					for _, d := range numbered(u*perUnit, perUnit) {
						d.Name = p
						if err := tx.Put(context.Background(), contracts, d.ID, d); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Errorf("Update(%s, %d): %v", p, u+1, err)
					return
				}
			}
		})
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				page, err := s.Find(context.Background(), p, readmodel.Query{Collection: contracts, Limit: units * perUnit})
				if err != nil {
					t.Errorf("Find(%s): %v", p, err)
					return
				}
				// A unit is all or nothing for readers too.
				if n := len(page.Docs); n%perUnit != 0 {
					t.Errorf("Find(%s) saw %d documents, part of a unit", p, n)
					return
				}
				for _, raw := range page.Docs {
					var d customer
					if err := json.Unmarshal(raw, &d); err != nil || d.Name != p {
						t.Errorf("Find(%s) saw %s", p, raw)
						return
					}
				}
				if _, _, err := s.Get(context.Background(), p, contracts, "d000"); err != nil {
					t.Errorf("Get(%s): %v", p, err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
	for _, p := range projections {
		mustCheckpoint(t, s, p, units)
		got := findAll(t, s, p, readmodel.Query{Collection: contracts, Limit: 250})
		sameIDs(t, p+"'s documents", got, idsOf(numbered(0, units*perUnit)))
	}
}

// testUnitCheckpoint: a unit reads the projection's committed checkpoint, which is what lets a
// runner refuse a page whose start is no longer the checkpoint (another worker projected it).
func testUnitCheckpoint(t *testing.T, s readmodel.Store) {
	seen := func(through event.Position) event.Position {
		t.Helper()
		var got event.Position
		err := s.Update(ctx(t), "orders", through, func(tx readmodel.Tx) error {
			var err error
			got, err = tx.Checkpoint(ctx(t))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := seen(7); got != 0 {
		t.Fatalf("first unit sees checkpoint %d, want 0", got)
	}
	if got := seen(12); got != 7 {
		t.Fatalf("second unit sees checkpoint %d, want 7 (the first one's)", got)
	}
	// A unit that fails leaves the checkpoint where it was.
	refused := errors.New("refused")
	if err := s.Update(ctx(t), "orders", 99, func(readmodel.Tx) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("failed unit: %v", err)
	}
	if got := seen(13); got != 12 {
		t.Fatalf("after a failed unit the checkpoint is %d, want 12", got)
	}
}
