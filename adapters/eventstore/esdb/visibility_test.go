package esdb

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"yorozu/domain/event"
)

func TestWhatAStreamReadWouldShow(t *testing.T) {
	cases := []struct {
		name     string
		e        streamVisibility
		revision uint64
		visible  bool
		known    bool
	}{
		{"deleted stream", streamVisibility{deleted: true}, 0, false, true},
		{"before the first readable", streamVisibility{readable: true, first: 5}, 4, false, true},
		{"at the first readable", streamVisibility{readable: true, first: 5}, 5, true, true},
		{"after the first readable", streamVisibility{readable: true, first: 5}, 900, true, true},
		{"all removed, up to the one asked about", streamVisibility{hiddenUpTo: 7}, 7, false, true},
		{"all removed, appended since", streamVisibility{hiddenUpTo: 7}, 8, false, false},
	}
	for _, c := range cases {
		visible, known := c.e.shows(c.revision)
		if visible != c.visible || known != c.known {
			t.Errorf("%s: shows(%d) = %v, %v; want %v, %v", c.name, c.revision, visible, known, c.visible, c.known)
		}
	}
}

func TestVisibilityAnswersAge(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := newVisibility(time.Minute, func() time.Time { return now })
	v.remember("order-1", streamVisibility{readable: true, first: 3})
	v.remember("order-2", streamVisibility{deleted: true})
	if _, ok := v.lookup("order-1"); !ok {
		t.Fatal("fresh answer not used")
	}
	now = now.Add(time.Minute)
	if _, ok := v.lookup("order-1"); ok {
		t.Error("an answer older than its time to live is still used")
	}
	if e, ok := v.lookup("order-2"); !ok || !e.deleted {
		t.Error("a deletion is forgotten with time; deleted streams never come back")
	}
	v.forget("order-2")
	if _, ok := v.lookup("order-2"); ok {
		t.Error("forget did not forget")
	}
}

func TestVisibilityCacheStartsOverWhenFull(t *testing.T) {
	v := newVisibility(time.Hour, time.Now)
	for i := 0; i < maxVisibilityEntries; i++ {
		v.streams[strconv.Itoa(i)] = streamVisibility{}
	}
	v.remember("order-1", streamVisibility{readable: true})
	if len(v.streams) != 1 {
		t.Errorf("cache holds %d entries after overflowing, want 1", len(v.streams))
	}
}

// With every answer already known, onlyVisible decides without the server.
func TestOnlyVisibleFromKnownAnswers(t *testing.T) {
	s := &Store{visible: newVisibility(time.Hour, time.Now)}
	s.visible.remember("telemetry-1", streamVisibility{readable: true, first: 2})
	s.visible.remember("order-9", streamVisibility{deleted: true})
	s.visible.remember("contract-1", streamVisibility{hiddenUpTo: 4})
	recs := []event.Record{
		{Stream: "telemetry-1", StreamVersion: 2},
		{Stream: "order-9", StreamVersion: 1},
		{Stream: "telemetry-1", StreamVersion: 3},
		{Stream: "contract-1", StreamVersion: 5},
		{Stream: "telemetry-1", StreamVersion: 4},
	}
	got, err := s.onlyVisible(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, r := range got {
		kept = append(kept, r.Stream+"@"+strconv.FormatUint(r.StreamVersion, 10))
	}
	if want := []string{"telemetry-1@3", "telemetry-1@4"}; len(kept) != 2 || kept[0] != want[0] || kept[1] != want[1] {
		t.Errorf("kept %v, want %v", kept, want)
	}
}

func TestForEachRunsAllAndReportsAnError(t *testing.T) {
	var ran, running, peak atomic.Int32
	boom := errors.New("boom")
	err := forEach(50, 4, func(i int) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		running.Add(-1)
		ran.Add(1)
		if i == 17 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || ran.Load() != 50 {
		t.Errorf("err %v after %d calls, want boom after 50", err, ran.Load())
	}
	if peak.Load() > 4 {
		t.Errorf("%d calls ran at once, limit 4", peak.Load())
	}
}

func TestClosedStoreRefusesWork(t *testing.T) {
	cfg, err := esdbclient.ParseConnectionString("esdb://127.0.0.1:1?tls=false")
	if err != nil {
		t.Fatal(err)
	}
	client, err := esdbclient.NewClient(cfg) // connects lazily: no server is needed here
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{client: client, opts: Options{}.withDefaults()}
	s.visible = newVisibility(s.opts.VisibilityTTL, s.opts.Now)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := context.Background()
	checks := map[string]error{
		"Append":         func() error { _, err := s.Append(ctx, "order-1", event.Any(), nil); return err }(),
		"ReadStream":     func() error { _, err := s.ReadStream(ctx, "order-1", 1, 0); return err }(),
		"ReadAll":        func() error { _, err := s.ReadAll(ctx, 0, 10); return err }(),
		"Head":           func() error { _, err := s.Head(ctx); return err }(),
		"Subscribe":      s.Subscribe(ctx, 0, func(event.Record) error { return nil }),
		"DeleteStream":   s.DeleteStream(ctx, "order-1"),
		"TruncateBefore": s.TruncateBefore(ctx, "order-1", 3),
		"ExpireBefore":   s.ExpireBefore(ctx, time.Now()),
	}
	for name, err := range checks {
		if !errors.Is(err, event.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestOpenRefusesABadConnectionString(t *testing.T) {
	for _, url := range []string{"", "http://localhost:2113", "esdb://localhost:2113?tls=maybe"} {
		if s, err := Open(context.Background(), url, Options{}); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", url)
		}
	}
}

func TestOptionDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.TelemetryMaxAge != DefaultTelemetryMaxAge || o.IdempotencyWindow != DefaultIdempotencyWindow ||
		o.AnyRetries != DefaultAnyRetries || o.VisibilityTTL != DefaultVisibilityTTL || o.Logger == nil || o.Now == nil {
		t.Errorf("defaults not applied: %+v", o)
	}
	if o := (Options{TelemetryMaxAge: -1}).withDefaults(); o.TelemetryMaxAge >= 0 {
		t.Error("a negative TelemetryMaxAge (no $maxAge) was replaced by the default")
	}
}
