package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"yorozu/adapters/keyring"
	"yorozu/adapters/postgres/migrate"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/domain/telemetry"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backend is a Backend that can also be listed and imported into.
type backend interface {
	keyring.Backend
	keyring.Transfer
}

// engines makes empty backends of each kind.
var engines = []struct {
	name string
	open func(t *testing.T) backend
}{
	{keyring.BackendFile, func(t *testing.T) backend {
		b, err := keyring.OpenFile(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}},
	{keyring.BackendPostgres, func(t *testing.T) backend {
		pool := pgtest.NewPool(t)
		if err := migrate.Up(context.Background(), pool); err != nil {
			t.Fatal(err)
		}
		return keyring.NewPostgres(pool)
	}},
}

func masterKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// fill makes keys for three contracts through a Ring and destroys the second's.
func fill(t *testing.T, b backend, master []byte) *keyring.Ring {
	t.Helper()
	ctx := context.Background()
	r, err := keyring.New(b, master, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, cn := range []string{"N000000003", "N000000001", "N000000002"} {
		if _, err := r.DataKey(ctx, cn); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Destroy(ctx, "N000000002"); err != nil {
		t.Fatal(err)
	}
	return r
}

// sealWith seals a message with a contract's key from ring.
func sealWith(t *testing.T, r *keyring.Ring, cn string) []byte {
	t.Helper()
	k, err := r.Key(context.Background(), cn)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, k.NonceSize())
	return k.Seal(nonce, nonce, []byte("telemetry of "+cn), nil)
}

func openWith(r *keyring.Ring, cn string, sealed []byte) (string, error) {
	k, err := r.Key(context.Background(), cn)
	if err != nil {
		return "", err
	}
	n := k.NonceSize()
	plain, err := k.Open(nil, sealed[:n], sealed[n:], nil)
	return string(plain), err
}

// A key ring moves between backends of either kind through an export document: the same keys
// (opening what the source sealed), the same tombstones (a destroyed key stays destroyed and is
// never made again), nothing unwrapped on the way.
func TestKeyRingMovesBetweenBackends(t *testing.T) {
	ctx := context.Background()
	for _, from := range engines {
		for _, to := range engines {
			t.Run(from.name+" to "+to.name, func(t *testing.T) {
				master := masterKey(t)
				src := from.open(t)
				if got, err := src.List(ctx); err != nil || len(got) != 0 {
					t.Fatalf("an empty key ring lists %v (%v)", got, err)
				}
				ring := fill(t, src, master)
				sealed := sealWith(t, ring, "N000000001")
				entries, err := src.List(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(entries) != 3 || entries[0].CustomerNumber != "N000000001" || entries[1].CustomerNumber != "N000000002" ||
					entries[2].CustomerNumber != "N000000003" || !entries[1].Destroyed() || entries[1].DestroyedAt.IsZero() ||
					entries[0].Destroyed() || entries[2].Destroyed() {
					t.Fatalf("listed %+v; want N000000001..3 in order, the second a tombstone", entries)
				}

				var buf bytes.Buffer
				created := time.Date(2025, 9, 30, 3, 0, 0, 0, time.UTC)
				if _, err := keyring.NewDocument(from.name, created, entries).WriteTo(&buf); err != nil {
					t.Fatal(err)
				}
				doc, err := keyring.ReadDocument(bytes.NewReader(buf.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				if doc.Backend != from.name || !doc.CreatedAt.Equal(created) || len(doc.Keys) != 2 || len(doc.Destroyed) != 1 {
					t.Fatalf("document %+v", doc)
				}
				if !reflect.DeepEqual(doc.Entries(), entries) {
					t.Fatalf("the document's entries differ from the listed ones:\n%+v\n%+v", doc.Entries(), entries)
				}
				if err := keyring.CheckMasterKey(master, doc.Entries()); err != nil {
					t.Fatal(err)
				}
				if err := keyring.CheckMasterKey(masterKey(t), doc.Entries()); !errors.Is(err, keyring.ErrWrongMasterKey) ||
					!strings.Contains(err.Error(), "N000000001") {
					t.Fatalf("another master key: %v", err)
				}

				dst := to.open(t)
				if err := dst.Import(ctx, doc.Entries()); err != nil {
					t.Fatal(err)
				}
				moved, err := dst.List(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for i := range entries {
					// PostgreSQL keeps microseconds.
					entries[i].DestroyedAt = entries[i].DestroyedAt.Truncate(time.Microsecond)
					moved[i].DestroyedAt = moved[i].DestroyedAt.Truncate(time.Microsecond)
				}
				if !reflect.DeepEqual(moved, entries) {
					t.Fatalf("after the move:\n%+v\nwant\n%+v", moved, entries)
				}
				there, err := keyring.New(dst, master, rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				if plain, err := openWith(there, "N000000001", sealed); err != nil || plain != "telemetry of N000000001" {
					t.Fatalf("the moved key opens %q, %v", plain, err)
				}
				if _, err := there.Key(ctx, "N000000002"); !errors.Is(err, telemetry.ErrKeyDestroyed) {
					t.Fatalf("the destroyed key after the move: %v", err)
				}
				if _, err := there.DataKey(ctx, "N000000002"); !errors.Is(err, telemetry.ErrKeyDestroyed) {
					t.Fatalf("a destroyed key is made again after the move: %v", err)
				}

				// A second import is refused: the key ring is not empty.
				if err := dst.Import(ctx, doc.Entries()); !errors.Is(err, keyring.ErrNotEmpty) {
					t.Fatalf("an import into a filled key ring: %v", err)
				}
			})
		}
	}
}

// An import into a key ring holding anything, even one tombstone, or of entries that do not hold
// together, writes nothing.
func TestKeyRingImportRefusals(t *testing.T) {
	ctx := context.Background()
	good := func(t *testing.T) []keyring.Entry {
		b := engines[0].open(t)
		fill(t, b, masterKey(t))
		e, err := b.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			entries := good(t)
			// Only a tombstone.
			b := eng.open(t)
			if err := b.Destroy(ctx, "N000000009"); err != nil {
				t.Fatal(err)
			}
			if err := b.Import(ctx, entries); !errors.Is(err, keyring.ErrNotEmpty) {
				t.Fatalf("import over a tombstone: %v", err)
			}
			if got, _ := b.List(ctx); len(got) != 1 || got[0].CustomerNumber != "N000000009" {
				t.Fatalf("a refused import changed the key ring: %+v", got)
			}

			short := append([]keyring.Entry{}, entries...)
			short[0].Wrapped = short[0].Wrapped[:10]
			both := append([]keyring.Entry{}, entries...)
			both[0].DestroyedAt = time.Now()
			for name, bad := range map[string][]keyring.Entry{
				"twice":       append(append([]keyring.Entry{}, entries...), entries[0]),
				"short key":   short,
				"both":        both,
				"neither":     append(append([]keyring.Entry{}, entries...), keyring.Entry{CustomerNumber: "N000000008"}),
				"no customer": append(append([]keyring.Entry{}, entries...), keyring.Entry{DestroyedAt: time.Now()}),
			} {
				b := eng.open(t)
				if err := b.Import(ctx, bad); !errors.Is(err, keyring.ErrInvalidEntries) {
					t.Errorf("%s: %v", name, err)
				}
				if got, _ := b.List(ctx); len(got) != 0 {
					t.Errorf("%s: a refused import wrote %+v", name, got)
				}
			}
		})
	}

	// The file is read again at import: a key ring written by another process since OpenFile
	// is not overwritten.
	dir := t.TempDir()
	stale, err := keyring.OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := keyring.OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, other, masterKey(t))
	before, _ := os.ReadFile(filepath.Join(dir, keyring.FileName))
	if err := stale.Import(ctx, good(t)); !errors.Is(err, keyring.ErrNotEmpty) {
		t.Fatalf("import over a file written since: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, keyring.FileName)); !bytes.Equal(after, before) {
		t.Fatal("a refused import rewrote the file")
	}
}

// A document that is not intact is refused whole.
func TestKeyRingDocumentRefusals(t *testing.T) {
	b := engines[0].open(t)
	fill(t, b, masterKey(t))
	entries, err := b.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := keyring.NewDocument(keyring.BackendFile, time.Now(), entries).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if _, err := keyring.ReadDocument(strings.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(good, `"wrapped":"`) + len(`"wrapped":"`) + 5
	flip := func(s string, i int) string {
		c := s[i]
		r := byte('A')
		if c == 'A' {
			r = 'B'
		}
		return s[:i] + string(r) + s[i+1:]
	}
	for name, doc := range map[string]string{
		"empty":          "",
		"not JSON":       "yorozu-backup\n",
		"cut":            good[:len(good)/2],
		"flipped key":    flip(good, i),
		"other customer": strings.Replace(good, "N000000001", "N000000004", 1),
		"tombstone gone": regexp.MustCompile(`"destroyed":\[[^]]*\]`).ReplaceAllString(good, `"destroyed":[]`),
		"unknown field":  strings.Replace(good, `"keys":`, `"extra":1,"keys":`, 1),
		"other format":   strings.Replace(good, `"format":"yorozu-keyring"`, `"format":"yorozu-backup"`, 1),
		"version 2":      strings.Replace(good, `"version":1`, `"version":2`, 1),
		"no checksum":    strings.Replace(good, `"sha256":"`, `"sha":"`, 1),
		"trailing":       good + "{}\n",
		"keyring.json":   `{"format":1,"keys":{},"destroyed":{}}`,
	} {
		if _, err := keyring.ReadDocument(strings.NewReader(doc)); !errors.Is(err, keyring.ErrDamaged) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
