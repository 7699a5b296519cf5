package outbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"yorozu/adapters/outbox"
	"yorozu/domain/event"
)

func TestFileCursorsSurviveReopening(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "var") // created on open
	c, err := outbox.OpenFileCursors(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pos, err := c.Load(ctx, "invoice-finalized"); pos != 0 || err != nil {
		t.Fatalf("a new relay's position: %d, %v", pos, err)
	}
	for _, save := range []struct {
		relay string
		pos   event.Position
	}{{"invoice-finalized", 5}, {"report-sealed", 7}, {"invoice-finalized", 12}} {
		if err := c.Save(ctx, save.relay, save.pos); err != nil {
			t.Fatal(err)
		}
	}
	reopened, err := outbox.OpenFileCursors(dir)
	if err != nil {
		t.Fatal(err)
	}
	for relay, want := range map[string]event.Position{"invoice-finalized": 12, "report-sealed": 7, "mail-magazine-sent": 0} {
		if pos, err := reopened.Load(ctx, relay); pos != want || err != nil {
			t.Errorf("%s after reopening: %d, %v; want %d", relay, pos, err, want)
		}
	}
	// Written in place of the old file, nothing left beside it.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != outbox.CursorFileName || reopened.Path() != filepath.Join(dir, outbox.CursorFileName) {
		t.Fatalf("data directory holds %v", entries)
	}

	if err := os.WriteFile(reopened.Path(), []byte("{torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.OpenFileCursors(dir); !errors.Is(err, outbox.ErrCorruptCursorFile) {
		t.Fatalf("a corrupt file: %v", err)
	}
}

func TestFileCursorsFailedSaveKeepsTheOldPosition(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := outbox.OpenFileCursors(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx, "r", 3); err != nil {
		t.Fatal(err)
	}
	// A directory where the temporary file goes makes the write fail.
	if err := os.Mkdir(c.Path()+".tmp", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx, "r", 9); err == nil {
		t.Fatal("Save succeeded without being able to write")
	}
	if pos, _ := c.Load(ctx, "r"); pos != 3 {
		t.Fatalf("position %d after a failed save, want 3", pos)
	}
	reopened, err := outbox.OpenFileCursors(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pos, _ := reopened.Load(ctx, "r"); pos != 3 {
		t.Fatalf("position %d on disk after a failed save, want 3", pos)
	}
}

func TestPostgresCursorsNeverMoveBack(t *testing.T) {
	ctx := context.Background()
	_, pool := pgLog(t)
	c := outbox.NewPostgresCursors(pool)
	if pos, err := c.Load(ctx, "r"); pos != 0 || err != nil {
		t.Fatalf("a new relay's position: %d, %v", pos, err)
	}
	var wg sync.WaitGroup
	for _, pos := range []event.Position{40, 10, 30, 20} { // replicas saving out of order
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Save(ctx, "r", pos); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if pos, err := outbox.NewPostgresCursors(pool).Load(ctx, "r"); pos != 40 || err != nil {
		t.Fatalf("position %d, %v; want 40", pos, err)
	}
	if pos := relayPosition(t, pool, "r"); pos != 40 {
		t.Fatalf("integration_relays holds %d", pos)
	}
}
