package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/eventstore/bolt/bolttest"
	"yorozu/domain/event"
)

// A damaged page makes bbolt panic; the store answers a *DamagedError naming the file instead,
// tells its owner once, and refuses everything after.
func TestADamagedPageIsAnErrorNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, bolt.FileName)
	s, err := bolt.OpenDir(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "order-1", event.NoStream(), []event.Draft{draft("OrderPlaced", `{"marker":"DAMAGE-ME"}`)})
	for i := range 40 {
		mustAppend(t, s, "order-2", event.Any(), drafts(50+i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	bolttest.DamagePagesHolding(t, path, []byte("DAMAGE-ME"))

	var mu sync.Mutex
	var told []error
	s, err = bolt.OpenDir(dir, bolt.Options{OnDamage: func(err error) {
		mu.Lock()
		told = append(told, err)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatalf("open: %v (the damaged page is a leaf of the log, not read at open)", err)
	}
	defer s.Close()

	_, err = s.ReadAll(context.Background(), 0, 0)
	var d *bolt.DamagedError
	if !errors.As(err, &d) || !errors.Is(err, bolt.ErrDamaged) || d.Path != path || !strings.Contains(err.Error(), path) {
		t.Fatalf("reading the damaged log: %v; want a *DamagedError naming %s", err, path)
	}
	if _, err := s.Append(context.Background(), "order-3", event.Any(), drafts(1)); !errors.Is(err, bolt.ErrDamaged) {
		t.Errorf("append after the damage was found: %v; want ErrDamaged", err)
	}
	if _, err := s.ReadStream(context.Background(), "order-2", 1, 1); !errors.Is(err, bolt.ErrDamaged) {
		t.Errorf("read of another stream after the damage was found: %v; want ErrDamaged", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 1 || !errors.Is(told[0], bolt.ErrDamaged) {
		t.Errorf("OnDamage got %v; want the damage once", told)
	}
}

func TestOpeningAFileWithADamagedRootFails(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	mustAppend(t, s, "order-1", event.NoStream(), drafts(3))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The root bucket's page names the top-level buckets; "versions" is one of them.
	path := filepath.Join(dir, bolt.FileName)
	bolttest.DamagePagesHolding(t, path, []byte("versions"))
	_, err := bolt.OpenDir(dir, bolt.Options{})
	if !errors.Is(err, bolt.ErrDamaged) || !strings.Contains(err.Error(), path) {
		t.Fatalf("open of a file with a damaged root: %v; want ErrDamaged naming %s", err, path)
	}
}
