package storetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// CrashTarget is the storage RunCrash kills a writer over.
type CrashTarget struct {
	// Prepare makes empty storage for one test and returns the string Open needs to reach it (a
	// directory, a DSN with a fresh schema or database). It runs in the test process only. The
	// checks read the whole global log, so nothing else may write to that storage meanwhile.
	Prepare func(t *testing.T) string
	// Open opens the store at location. It runs in the child, which writes, and in the test
	// process, which checks after the kill. RunCrash closes every store Open returns, so Open
	// must not register its own Close.
	Open func(t *testing.T, location string) event.Store
	// Acks is roughly how many acknowledged events the child reports before it is killed (the
	// exact point is random, between Acks/2 and 3*Acks/2). Default 400.
	Acks int
	// Rounds is how many children are started and killed one after the other on the same
	// storage, so that a recovered store is crashed again. Default 2.
	Rounds int
}

// Environment of the child process.
const (
	crashChildEnv    = "YOROZU_STORETEST_CRASH_CHILD"
	crashLocationEnv = "YOROZU_STORETEST_CRASH_LOCATION"
)

// Workload of the child: a few writers, each with a stream of its own appended with an exact
// expected version, plus shared streams appended with Any, one of them time-partitioned.
const (
	crashWriters      = 4
	crashSharedOrders = 3
	crashTelemetry    = 1
	crashMaxBatch     = 20
	crashChildLife    = 90 * time.Second
	crashAckTimeout   = 60 * time.Second
)

// RunCrash checks that an acknowledged append survives the sudden death of the process that
// made it (SIGKILL: no deferred Close, no flush). It works for any event.Store:
//
//	func TestCrash(t *testing.T) {
//		storetest.RunCrash(t, storetest.CrashTarget{
//			Prepare: func(t *testing.T) string { return t.TempDir() },
//			Open: func(t *testing.T, dir string) event.Store {
//				s, err := bolt.OpenDir(dir, bolt.Options{})
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			},
//		})
//	}
//
// How it runs: the test binary starts itself again (os.Args[0] with -test.run naming the calling
// test, and an environment variable that puts RunCrash in child mode and passes the location
// from Prepare). The child opens the store and appends single events and batches from several
// goroutines, to several streams, printing each acknowledged event on stdout once Append has
// returned nil. The parent reads those lines, SIGKILLs the child after a few hundred, reopens
// the store and asserts that every acknowledged event is there exactly once at the version and
// position Append reported, that no batch is half stored, that streams have no gap, that the hash
// chains hold (event.ChainVerifier over ReadAll), that a retry of an acknowledged batch is
// recognised, and that the store takes new appends. Then the next round starts a new child on
// the same storage.
//
// The calling test must be reachable by -test.run from its name, which every test and subtest is,
// and must not depend on state the parent built before calling RunCrash, since the child runs
// the test function from its start. It is skipped with -short.
func RunCrash(t *testing.T, target CrashTarget) {
	t.Helper()
	if os.Getenv(crashChildEnv) != "" {
		runCrashChild(t, target, os.Getenv(crashLocationEnv))
		return
	}
	if testing.Short() {
		t.Skip("crash test kills a child process; skipped with -short")
	}
	if target.Acks <= 0 {
		target.Acks = 400
	}
	if target.Rounds <= 0 {
		target.Rounds = 2
	}
	location := target.Prepare(t)
	acked := make(map[uuid.UUID]ackedEvent)
	var lastBatch []uuid.UUID
	for round := 1; round <= target.Rounds; round++ {
		batch := runCrashRound(t, target, location, round, acked)
		if len(batch) > 0 {
			lastBatch = batch
		}
		store := target.Open(t, location)
		checkAfterCrash(t, store, acked, lastBatch)
		if err := store.Close(); err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
		if t.Failed() {
			return
		}
	}
}

// ackedEvent is what the child reported for one event.
type ackedEvent struct {
	stream   string
	version  uint64
	position event.Position // of the event if it was last in its batch, else 0
}

// runCrashRound starts a child, kills it after enough acks and returns the IDs of the last batch
// it acknowledged, adding every acknowledged event to acked.
func runCrashRound(t *testing.T, target CrashTarget, location string, round int, acked map[uuid.UUID]ackedEvent) []uuid.UUID {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+exactRunPattern(t.Name()), "-test.count=1", "-test.v=false",
		"-test.timeout="+(crashChildLife+30*time.Second).String())
	cmd.Env = append(os.Environ(), crashChildEnv+"=1", crashLocationEnv+"="+location)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	killAt := target.Acks/2 + rand.IntN(target.Acks+1)
	var killed, timedOut atomic.Bool
	kill := func() {
		if killed.CompareAndSwap(false, true) {
			_ = cmd.Process.Kill()
		}
	}
	timer := time.AfterFunc(crashAckTimeout, func() { timedOut.Store(true); kill() })
	defer timer.Stop()

	var other []string
	var lastBatch []uuid.UUID
	n := 0
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		ids, ack, ok := parseAck(line)
		if !ok {
			other = append(other, line)
			continue
		}
		for i, id := range ids {
			a := ackedEvent{stream: ack.stream, version: ack.version + uint64(i)}
			if i == len(ids)-1 {
				a.position = ack.position
			}
			if _, dup := acked[id]; dup {
				t.Errorf("round %d: event %s acknowledged twice", round, id)
			}
			acked[id] = a
		}
		lastBatch = ids
		if n += len(ids); n >= killAt {
			kill()
		}
	}
	waitErr := cmd.Wait()
	timer.Stop()
	switch {
	case timedOut.Load() && n < killAt:
		t.Fatalf("round %d: child acknowledged only %d events in %v\nstdout:\n%s\nstderr:\n%s",
			round, n, crashAckTimeout, strings.Join(other, "\n"), stderr.String())
	case !killed.Load():
		t.Fatalf("round %d: child ended by itself (%v) after %d acks\nstdout:\n%s\nstderr:\n%s",
			round, waitErr, n, strings.Join(other, "\n"), stderr.String())
	}
	t.Logf("round %d: killed the child after %d acknowledged events", round, n)
	return lastBatch
}

// exactRunPattern is a -test.run pattern that selects exactly the test (or subtest) named name.
func exactRunPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// An ack line is "ack STREAM FIRST-VERSION LAST-POSITION ID[,ID...]".
func formatAck(stream string, res event.AppendResult, drafts []event.Draft) string {
	ids := make([]string, len(drafts))
	for i, d := range drafts {
		ids[i] = d.ID.String()
	}
	return fmt.Sprintf("ack %s %d %d %s\n", stream, res.FirstVersion, res.LastPosition, strings.Join(ids, ","))
}

func parseAck(line string) ([]uuid.UUID, ackedEvent, bool) {
	f := strings.Fields(line)
	if len(f) != 5 || f[0] != "ack" {
		return nil, ackedEvent{}, false
	}
	version, err1 := strconv.ParseUint(f[2], 10, 64)
	pos, err2 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, ackedEvent{}, false
	}
	var ids []uuid.UUID
	for _, s := range strings.Split(f[4], ",") {
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, ackedEvent{}, false
		}
		ids = append(ids, id)
	}
	return ids, ackedEvent{stream: f[1], version: version, position: event.Position(pos)}, true
}

// crashPayload is the Data of every event the child writes: enough to tell a half-stored batch.
type crashPayload struct {
	Writer int       `json:"writer"`
	Seq    int       `json:"seq"`
	Batch  uuid.UUID `json:"batch"`
	Size   int       `json:"size"`
}

func runCrashChild(t *testing.T, target CrashTarget, location string) {
	if location == "" {
		t.Fatal("crash child without a location")
	}
	store := target.Open(t, location)
	ctx, cancel := context.WithTimeout(context.Background(), crashChildLife)
	defer cancel()

	var outMu sync.Mutex
	ack := func(line string) {
		outMu.Lock()
		defer outMu.Unlock()
		// One write per append: the line is on the pipe before the next append starts.
		if _, err := io.WriteString(os.Stdout, line); err != nil {
			panic(err)
		}
	}
	shared := make([]string, 0, crashSharedOrders+crashTelemetry)
	for i := range crashSharedOrders {
		shared = append(shared, fmt.Sprintf("order-crash-shared-%d", i))
	}
	for i := range crashTelemetry {
		shared = append(shared, fmt.Sprintf("telemetry-crash-%d", i))
	}

	errs := make(chan error, crashWriters)
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			own := fmt.Sprintf("order-crash-writer-%d", w)
			recs, err := store.ReadStream(ctx, own, 1, 0)
			if err != nil {
				errs <- err
				return
			}
			var ownVersion uint64
			if len(recs) > 0 {
				ownVersion = recs[len(recs)-1].StreamVersion
			}
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			for seq := 0; ctx.Err() == nil; seq++ {
				stream, expected := own, event.Exactly(ownVersion)
				if rng.IntN(2) == 0 {
					stream, expected = shared[rng.IntN(len(shared))], event.Any()
				}
				size := 1
				if rng.IntN(3) == 0 {
					size = 2 + rng.IntN(crashMaxBatch-1)
				}
				drafts := crashDrafts(rng, stream, w, seq, size)
				res, err := store.Append(ctx, stream, expected, drafts)
				if err != nil {
					if ctx.Err() == nil {
						errs <- fmt.Errorf("writer %d: append to %s: %w", w, stream, err)
					}
					return
				}
				if stream == own {
					ownVersion = res.LastVersion
				}
				ack(formatAck(stream, res, drafts))
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := false
	for err := range errs {
		t.Error(err)
		failed = true
	}
	if !failed {
		t.Error("crash child was not killed in time")
	}
}

func crashDrafts(rng *rand.Rand, stream string, writer, seq, size int) []event.Draft {
	batch := uuid.New()
	now := time.Now().UTC()
	drafts := make([]event.Draft, size)
	for i := range drafts {
		recorded := now
		if event.TimePartitioned(stream) {
			// Spread telemetry over a few days, so that engines partitioning by day write
			// several partitions in one run.
			recorded = now.Add(-time.Duration(rng.IntN(3)) * 24 * time.Hour)
		}
		data, _ := json.Marshal(crashPayload{Writer: writer, Seq: seq, Batch: batch, Size: size})
		drafts[i] = event.Draft{
			ID:            uuid.Must(uuid.NewV7()),
			Type:          "CrashTested",
			SchemaVersion: 1,
			EffectiveAt:   now,
			RecordedAt:    recorded,
			Actor:         event.SystemActor,
			CommandID:     batch.String(),
			CorrelationID: batch.String(),
			Data:          data,
		}
	}
	return drafts
}

// checkAfterCrash asserts what a reopened store must hold after its writer was killed.
func checkAfterCrash(t *testing.T, store event.Store, acked map[uuid.UUID]ackedEvent, lastBatch []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	all := readEverything(t, store)

	verifier := event.NewChainVerifier()
	seen := make(map[uuid.UUID]event.Record, len(all))
	batches := make(map[uuid.UUID][]event.Record)
	byStream := make(map[string][]event.Record)
	var prev event.Position
	for _, r := range all {
		if r.Position <= prev {
			t.Errorf("position %d follows %d in ReadAll", r.Position, prev)
		}
		prev = r.Position
		verifier.Add(r)
		if _, dup := seen[r.ID]; dup {
			t.Errorf("event %s stored twice", r.ID)
		}
		seen[r.ID] = r
		byStream[r.Stream] = append(byStream[r.Stream], r)
		var p crashPayload
		if err := json.Unmarshal(r.Data, &p); err != nil {
			t.Errorf("event %s: data %q: %v", r.ID, r.Data, err)
			continue
		}
		batches[p.Batch] = append(batches[p.Batch], r)
	}
	if b := verifier.Broken(); b != nil {
		t.Errorf("hash chain broken after crash: %+v", *b)
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	if head < prev {
		t.Errorf("head %d is before the last event read, %d", head, prev)
	}

	for id, a := range acked {
		r, ok := seen[id]
		switch {
		case !ok:
			t.Errorf("acknowledged event %s (%s v%d) lost", id, a.stream, a.version)
		case r.Stream != a.stream || r.StreamVersion != a.version:
			t.Errorf("event %s acknowledged as %s v%d, stored as %s v%d", id, a.stream, a.version, r.Stream, r.StreamVersion)
		case a.position != 0 && r.Position != a.position:
			t.Errorf("event %s acknowledged at position %d, stored at %d", id, a.position, r.Position)
		}
	}
	for batch, recs := range batches {
		var p crashPayload
		_ = json.Unmarshal(recs[0].Data, &p)
		if len(recs) != p.Size {
			t.Errorf("batch %s half stored: %d of %d events", batch, len(recs), p.Size)
		}
	}
	for stream, recs := range byStream {
		for i, r := range recs {
			if r.StreamVersion != uint64(i+1) {
				t.Errorf("stream %s: version %d at index %d of ReadAll (gap or reorder)", stream, r.StreamVersion, i)
				break
			}
		}
		got, err := store.ReadStream(ctx, stream, 1, 0)
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		if len(got) != len(recs) {
			t.Errorf("stream %s: ReadStream has %d events, ReadAll %d", stream, len(got), len(recs))
		}
		for i := range min(len(got), len(recs)) {
			if got[i].ID != recs[i].ID {
				t.Errorf("stream %s version %d: ReadStream has %s, ReadAll %s", stream, i+1, got[i].ID, recs[i].ID)
				break
			}
		}
	}
	if t.Failed() {
		return
	}
	checkRetryAfterCrash(t, store, seen, lastBatch, len(all))
	checkAppendAfterCrash(t, store, byStream)
}

// checkRetryAfterCrash re-appends the last acknowledged batch, as a client that missed the ack
// would: the store must answer with the original result and store nothing.
func checkRetryAfterCrash(t *testing.T, store event.Store, seen map[uuid.UUID]event.Record, batch []uuid.UUID, stored int) {
	t.Helper()
	if len(batch) == 0 {
		return
	}
	drafts := make([]event.Draft, len(batch))
	var first, last event.Record
	for i, id := range batch {
		r := seen[id]
		if i == 0 {
			first = r
		}
		last = r
		drafts[i] = event.Draft{
			ID: r.ID, Type: r.Type, SchemaVersion: r.SchemaVersion, EffectiveAt: r.EffectiveAt,
			RecordedAt: r.RecordedAt, Actor: r.Actor, CommandID: r.CommandID,
			CorrelationID: r.CorrelationID, CausationID: r.CausationID, Data: r.Data,
		}
	}
	res, err := store.Append(context.Background(), first.Stream, event.Any(), drafts)
	if err != nil {
		t.Errorf("retry of an acknowledged batch after the crash: %v", err)
		return
	}
	want := event.AppendResult{FirstVersion: first.StreamVersion, LastVersion: last.StreamVersion, LastPosition: last.Position}
	if res != want {
		t.Errorf("retry of an acknowledged batch: got %+v, want the original %+v", res, want)
	}
	if n := len(readEverything(t, store)); n != stored {
		t.Errorf("retry of an acknowledged batch stored something: %d events, were %d", n, stored)
	}
}

// checkAppendAfterCrash appends to every stream at its recovered version: the store's idea of
// each stream's head survived along with the events.
func checkAppendAfterCrash(t *testing.T, store event.Store, byStream map[string][]event.Record) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for stream, recs := range byStream {
		drafts := crashDrafts(rng, stream, -1, 0, 1)
		drafts[0].RecordedAt = time.Now()
		version := recs[len(recs)-1].StreamVersion
		res, err := store.Append(context.Background(), stream, event.Exactly(version), drafts)
		if err != nil {
			t.Errorf("append to %s at its recovered version %d: %v", stream, version, err)
			continue
		}
		if res.FirstVersion != version+1 {
			t.Errorf("append to %s after the crash landed at version %d, want %d", stream, res.FirstVersion, version+1)
		}
	}
}

func readEverything(t *testing.T, store event.Store) []event.Record {
	t.Helper()
	var all []event.Record
	var after event.Position
	for {
		page, err := store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatalf("read all after %d: %v", after, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
}
