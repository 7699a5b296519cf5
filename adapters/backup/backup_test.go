package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/backup"
	"yorozu/adapters/eventstore/memory"
	"yorozu/domain/event"
)

var at = time.Date(2026, 11, 15, 0, 30, 0, 123456000, time.UTC)

// payloads that must come back byte for byte, whether embedded as JSON or not.
var payloads = []string{
	`{"orderId":"0193a6f2","name":"株式会社大和商事","note":"a \"quoted\" <b>&amp;</b> \u2028 line"}`,
	`{"nested":{"list":[1,2,{"x":"}]{["}],"empty":{}},"n":-1.5e3,"t":true,"f":false,"z":null}`,
	"{\n  \"pretty\": true\n}", // JSON over several lines: written as base64
	"not json at all \x00\xff", // not JSON: base64
	` {"space":"around"} `,     // surrounding space would be lost if embedded
	`"a bare string"`,
	`[1,2,3]`,
}

// sourceStore holds events with every kind of payload and text, in several streams and batches.
func sourceStore(t *testing.T) *memory.Store {
	t.Helper()
	s := memory.New()
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	for i, p := range payloads {
		st := fmt.Sprintf("order-%d", i%3)
		ds := []event.Draft{{
			ID: uuid.New(), Type: "OrderReceived", SchemaVersion: 1 + i%2,
			EffectiveAt: at.Add(-time.Duration(i) * time.Hour), RecordedAt: at.Add(time.Duration(i) * time.Second),
			Actor: "担当者\t\"斎藤\"\\x", CommandID: uuid.NewString(), CorrelationID: "corr\n" + fmt.Sprint(i),
			CausationID: "\x01\x1f", Data: []byte(p),
		}}
		if i%2 == 0 {
			d := ds[0]
			d.ID = uuid.New()
			ds = append(ds, d)
		}
		if _, err := s.Append(ctx, st, event.Any(), ds); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func readAll(t *testing.T, l event.Log) []event.Record {
	t.Helper()
	recs, err := l.ReadAll(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func create(t *testing.T, l event.Log, dir string, now time.Time) backup.Summary {
	t.Helper()
	sum, err := backup.Create(context.Background(), l, backup.CreateOptions{Dir: dir, Engine: "memory", Keep: 2, Now: now})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return sum
}

func TestRoundTripKeepsEveryEventExactly(t *testing.T) {
	src := sourceStore(t)
	want := readAll(t, src)
	dir := t.TempDir()
	sum := create(t, src, dir, at)

	raw, err := os.ReadFile(sum.File)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(raw)
	if sum.SHA256 != hex.EncodeToString(digest[:]) || sum.Events != len(want) || sum.Head != want[len(want)-1].Position {
		t.Fatalf("summary %+v; file sha256 %x, %d events", sum, digest, len(want))
	}
	if fi, _ := os.Stat(sum.File); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v, want 0600", fi.Mode().Perm())
	}
	// Every line is a JSON object; the first is the header, the last the end.
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != len(want)+2 {
		t.Fatalf("%d lines for %d events", len(lines), len(want))
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, l)
		}
	}
	if !strings.HasPrefix(lines[0], `{"format":"yorozu-backup","version":1,"engine":"memory","head":`) ||
		!strings.HasPrefix(lines[len(lines)-1], fmt.Sprintf(`{"end":true,"events":%d,"sha256":"`, len(want))) {
		t.Fatalf("header %s\nend %s", lines[0], lines[len(lines)-1])
	}

	if v, err := backup.Verify(context.Background(), sum.File); err != nil || v.SHA256 != sum.SHA256 || v.Events != sum.Events {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	dst := memory.New()
	defer dst.Close()
	got, err := backup.Restore(context.Background(), sum.File, dst, backup.RestoreOptions{})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if got.Events != len(want) || got.SHA256 != sum.SHA256 {
		t.Fatalf("restore summary %+v", got)
	}
	if back := readAll(t, dst); !reflect.DeepEqual(back, want) {
		t.Fatalf("restored log differs:\n got %+v\nwant %+v", back, want)
	}
	if h, _ := dst.Head(context.Background()); h != sum.Head {
		t.Fatalf("restored head %d, want %d", h, sum.Head)
	}
}

func TestGzippedBackupRestores(t *testing.T) {
	src := sourceStore(t)
	sum := create(t, src, t.TempDir(), at)
	raw, _ := os.ReadFile(sum.File)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	path := sum.File + ".gz"
	if err := os.WriteFile(path, z.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := memory.New()
	defer dst.Close()
	if _, err := backup.Restore(context.Background(), path, dst, backup.RestoreOptions{VerifyFirst: true}); err != nil {
		t.Fatalf("restore of the gzipped file: %v", err)
	}
	if !reflect.DeepEqual(readAll(t, dst), readAll(t, src)) {
		t.Fatal("the gzipped backup restores another log")
	}
}

// TestDamagedFilesAreRefusedAndWriteNothing: whatever is wrong with the file, Verify and Restore
// (in both modes) refuse it, and the target stays empty.
func TestDamagedFilesAreRefusedAndWriteNothing(t *testing.T) {
	src := sourceStore(t)
	sum := create(t, src, t.TempDir(), at)
	good, err := os.ReadFile(sum.File)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(good, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty string after the last "\n"
	endLine := len(lines) - 1
	flip := func(line int, at string) []byte {
		out := slices.Clone(good)
		off := bytes.Index(out, lines[line]) + bytes.Index(lines[line], []byte(at))
		out[off] ^= 0x01
		return out
	}
	join := func(ls ...[]byte) []byte { return bytes.Join(ls, nil) }
	cases := map[string][]byte{
		"a flipped byte in an event's data":       flip(3, `"data":`+`{"nested"`),
		"a flipped byte in an event's hash":       flip(2, `"hash":"`),
		"a flipped byte in the checksum":          flip(endLine, `"sha256":"`),
		"cut in the middle of a line":             good[:len(good)-len(lines[endLine])-20],
		"cut at a line boundary":                  join(lines[:endLine]...),
		"end line removed and an event too":       join(lines[:endLine-1]...),
		"a line removed":                          join(append(slices.Clone(lines[:2]), lines[3:]...)...),
		"two lines swapped":                       join(append(append(slices.Clone(lines[:2]), lines[3], lines[2]), lines[4:]...)...),
		"data after the end line":                 append(slices.Clone(good), []byte("{}\n")...),
		"an empty file":                           {},
		"not a backup":                            []byte("{\"hello\":\"world\"}\n"),
		"not JSON":                                []byte("PK\x03\x04 a zip file\n"),
		"a later format version":                  bytes.Replace(good, []byte(`"version":1`), []byte(`"version":2`), 1),
		"end line counting another number":        bytes.Replace(good, []byte(fmt.Sprintf(`"events":%d`, sum.Events)), []byte(fmt.Sprintf(`"events":%d`, sum.Events+1)), 1),
		"last line without its newline":           good[:len(good)-1],
		"an event line with an unknown field":     bytes.Replace(good, []byte(`{"position":`), []byte(`{"extra":1,"position":`), 1),
		"an event line without its data":          bytes.Replace(good, []byte(`,"data":`+payloads[1]), nil, 1),
		"a gzip stream cut short":                 gzipped(t, good)[:100],
		"the header engine altered (checksummed)": bytes.Replace(good, []byte(`"engine":"memory"`), []byte(`"engine":"mumory"`), 1),
	}
	dir := t.TempDir()
	for name, content := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := backup.Verify(context.Background(), path); !errors.Is(err, backup.ErrDamaged) {
			t.Errorf("%s: verify: %v, want ErrDamaged", name, err)
		}
		for _, first := range []bool{false, true} {
			dst := memory.New()
			_, err := backup.Restore(context.Background(), path, dst, backup.RestoreOptions{VerifyFirst: first})
			if !errors.Is(err, backup.ErrDamaged) && !errors.Is(err, event.ErrInvalidImport) {
				t.Errorf("%s (verify first: %v): restore: %v, want a damaged file", name, first, err)
			}
			if n := len(readAll(t, dst)); n != 0 {
				t.Errorf("%s (verify first: %v): restore of a damaged file wrote %d events", name, first, n)
			}
			dst.Close()
		}
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	return z.Bytes()
}

func TestRestoreRefusesANonEmptyStore(t *testing.T) {
	src := sourceStore(t)
	sum := create(t, src, t.TempDir(), at)
	dst := sourceStore(t) // holds events of its own
	before := readAll(t, dst)
	if _, err := backup.Restore(context.Background(), sum.File, dst, backup.RestoreOptions{}); !errors.Is(err, event.ErrNotEmpty) {
		t.Fatalf("restore into a store with events: %v, want ErrNotEmpty", err)
	}
	if !reflect.DeepEqual(readAll(t, dst), before) {
		t.Fatal("a refused restore changed the store")
	}
}

// brokenLog is a log whose third event was altered after it was stored.
type brokenLog struct{ event.Log }

func (b brokenLog) ReadAll(ctx context.Context, after event.Position, limit int) ([]event.Record, error) {
	recs, err := b.Log.ReadAll(ctx, after, limit)
	for i := range recs {
		if recs[i].Position == 3 {
			recs[i].Data = []byte(`{"altered":true}`)
		}
	}
	return recs, err
}

func TestBrokenChainFailsTheBackupAndLeavesNoFile(t *testing.T) {
	src := sourceStore(t)
	dir := t.TempDir()
	_, err := backup.Create(context.Background(), brokenLog{src}, backup.CreateOptions{Dir: dir, Keep: 2, Now: at})
	if !errors.Is(err, backup.ErrBrokenChain) || !strings.Contains(err.Error(), "does not match its content") {
		t.Fatalf("backup of an altered log: %v, want ErrBrokenChain naming the event", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed backup left %d files: %v", len(entries), entries)
	}
}

func TestOnlyTheNewestTwoBackupsAreKept(t *testing.T) {
	src := sourceStore(t)
	dir := t.TempDir()
	others := []string{"notes.txt", "yorozu-backup-keep-me.jsonl", "yorozu-backup-20200101T000000.000000000Z.jsonl.gz"}
	for _, n := range others {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	for i := range 4 {
		files = append(files, create(t, src, dir, at.Add(time.Duration(i)*time.Hour)).File)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := append(slices.Clone(others), filepath.Base(files[2]), filepath.Base(files[3]))
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("directory after 4 backups: %v\nwant %v", names, want)
	}
}
