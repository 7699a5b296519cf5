package main

// `yorozu keyring export` and `import` (docs/backup.md): their command lines, and everything an
// import refuses with nothing written, on the embedded store's file and on PostgreSQL. The key
// ring's round trip with a restored store is in backup_test.go (testRestoreEverything).

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"yorozu/adapters/keyring"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/domain/telemetry"
)

// newKeyRingDir makes a data directory with a master key and a key ring of two contracts, the
// second's key destroyed; it returns the master key.
func newKeyRingDir(t *testing.T, dir string) []byte {
	t.Helper()
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "master.key"), master, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := keyring.OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := keyring.New(b, master, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, cn := range []string{"N000000001", "N000000002"} {
		if _, err := r.DataKey(ctx, cn); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Destroy(ctx, "N000000002"); err != nil {
		t.Fatal(err)
	}
	return master
}

func testKeyRingCommands(t *testing.T, c *cli) {
	src := filepath.Join(c.dir, "src")
	master := newKeyRingDir(t, src)
	masterEnv := []string{"YOROZU_MASTER_KEY=" + base64.StdEncoding.EncodeToString(master)}
	export := filepath.Join(c.dir, "keyring-export.json")
	if sum := c.keyringExport("--data", src, "--out", export); sum.Keys != 1 || sum.Destroyed != 1 || sum.File != export {
		t.Fatalf("export printed %+v", sum)
	}
	if fi, err := os.Stat(export); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the export file: %v %v; want mode 0600", fi.Mode(), err)
	}
	good, _ := os.ReadFile(export)
	doc := readKeyRingDoc(t, good)
	if doc.Backend != keyring.BackendFile || len(doc.Keys) != 1 || doc.Keys[0].CustomerNumber != "N000000001" ||
		len(doc.Destroyed) != 1 || doc.Destroyed[0].CustomerNumber != "N000000002" || doc.Destroyed[0].DestroyedAt.IsZero() {
		t.Fatalf("export: %s", good)
	}
	// Never an unwrapped key: what the file holds is what keyring.json holds, wrapped.
	onDisk, err := keyring.OpenFile(src)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := onDisk.List(context.Background())
	if !reflect.DeepEqual(doc.Entries(), entries) {
		t.Fatalf("export %+v, key ring %+v", doc.Entries(), entries)
	}

	// Command lines.
	for _, args := range [][]string{{"keyring"}, {"keyring", "list"}, {"keyring", "import"}, {"keyring", "import", "a", "b"},
		{"keyring", "export", "extra"}, {"keyring", "export", "--out"}, {"keyring", "import", "--frobnicate", export},
		{"keyring", "import", export, "--data", "d", "--postgres", "postgres://nowhere/db"}} {
		if r := c.run("", args...); r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "usage: yorozu") {
			t.Errorf("yorozu %q: exit %d, stdout %q, stderr %q; want exit 2 with the usage", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, args := range [][]string{{"keyring", "export", "--help"}, {"keyring", "import", "-h"}} {
		if r := c.run("", args...); r.code != 0 || !strings.Contains(r.stdout, "usage: yorozu keyring") || r.stderr != "" {
			t.Errorf("yorozu %q: exit %d, stdout %q, stderr %q; want the usage on standard output", args, r.code, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(c.dir, "d")); err == nil {
		t.Error("a refused command line made its data directory")
	}
	// The file may come after the options too.
	after := filepath.Join(c.dir, "after")
	copyFile(t, filepath.Join(src, "master.key"), filepath.Join(after, "master.key"))
	c.mustRun("", "keyring", "import", "--data", after, export)

	// Export refusals: an existing file is not overwritten; a directory that is no data directory.
	if r := c.run("", "keyring", "export", "--data", src, "--out", export); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("export over an existing file: exit %d, %s", r.code, r.stderr)
	}
	if now, _ := os.ReadFile(export); string(now) != string(good) {
		t.Error("a refused export changed the existing file")
	}
	if r := c.run("", "keyring", "export", "--data", filepath.Join(c.dir, "nowhere")); r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "no key ring") {
		t.Errorf("export of a missing directory: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}

	// Import refusals, each leaving the target without a key ring.
	damaged := filepath.Join(c.dir, "damaged.json")
	if err := os.WriteFile(damaged, []byte(strings.Replace(string(good), "N000000002", "N000000003", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(c.dir, "cut.json")
	if err := os.WriteFile(cut, good[:len(good)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	backupFile := filepath.Join(c.dir, "not-a-keyring.jsonl")
	if err := os.WriteFile(backupFile, []byte(`{"format":"yorozu-backup","version":1,"engine":"embedded","head":0}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherMaster := filepath.Join(c.dir, "other")
	newKeyRingDir(t, filepath.Join(c.dir, "unrelated"))
	copyFile(t, filepath.Join(c.dir, "unrelated", "master.key"), filepath.Join(otherMaster, "master.key"))
	sameMaster := func(name string) string {
		d := filepath.Join(c.dir, name)
		copyFile(t, filepath.Join(src, "master.key"), filepath.Join(d, "master.key"))
		return d
	}
	for _, tc := range []struct {
		name, file, dir string
		env             []string
		says            string
	}{
		{"a changed tombstone", damaged, sameMaster("t1"), nil, "not an intact key ring export"},
		{"a cut file", cut, sameMaster("t2"), nil, "not an intact key ring export"},
		{"a backup file", backupFile, sameMaster("t3"), nil, "not an intact key ring export"},
		{"another deployment's master key", export, otherMaster, nil, "wrong master key"},
		{"a wrong YOROZU_MASTER_KEY", export, sameMaster("t4"), []string{"YOROZU_MASTER_KEY=" + base64.StdEncoding.EncodeToString(make([]byte, 32))}, "wrong master key"},
		{"no master key", export, filepath.Join(c.dir, "t5"), nil, "no master key"},
	} {
		r := c.runWithEnv(tc.env, "", "keyring", "import", tc.file, "--data", tc.dir)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tc.says) || !strings.Contains(r.stderr, "nothing was written") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 saying %q", tc.name, r.code, r.stdout, r.stderr, tc.says)
		}
		if _, err := os.Stat(filepath.Join(tc.dir, keyring.FileName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the refused import left a key ring file (%v)", tc.name, err)
		}
		if _, err := os.Stat(filepath.Join(tc.dir, "master.key")); tc.name == "no master key" && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the import made a master key", tc.name)
		}
	}

	// With YOROZU_MASTER_KEY into a new directory; then a second import is refused.
	target := filepath.Join(c.dir, "target")
	c.keyringImport(export, masterEnv, "--data", target)
	if _, err := os.Stat(filepath.Join(target, "master.key")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the import made a master key although YOROZU_MASTER_KEY is set")
	}
	imported, _ := os.ReadFile(filepath.Join(target, keyring.FileName))
	if r := c.runWithEnv(masterEnv, "", "keyring", "import", export, "--data", target); r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("a second import: exit %d, %s", r.code, r.stderr)
	}
	if now, _ := os.ReadFile(filepath.Join(target, keyring.FileName)); string(now) != string(imported) {
		t.Error("a refused import changed the key ring file")
	}
	// The imported key ring opens what the source's keys sealed, and keeps the tombstone.
	b, err := keyring.OpenFile(target)
	if err != nil {
		t.Fatal(err)
	}
	ring := newRing(t, b, master)
	if _, err := ring.Key(context.Background(), "N000000001"); err != nil {
		t.Errorf("the imported key: %v", err)
	}
	if _, err := ring.DataKey(context.Background(), "N000000002"); !errors.Is(err, telemetry.ErrKeyDestroyed) {
		t.Errorf("the imported tombstone: %v", err)
	}

	// A directory a server holds is refused.
	served := sameMaster("served")
	srv := c.serve("--data", served)
	if r := c.run("", "keyring", "import", export, "--data", served); r.code != 1 || !strings.Contains(r.stderr, "in use by a running server") {
		t.Errorf("import into a served directory: exit %d, %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(served, keyring.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused import into a served directory wrote its key ring")
	}
	// The export of a served directory reads its key ring beside the server.
	c.mustRun("", "keyring", "export", "--data", served)
	srv.stop()

	// PostgreSQL: a new database gets its schema and the key ring; a second import, a damaged
	// file and another master key are refused with the table untouched; the export reads it back.
	dsn := pgtest.NewDatabase(t)
	if r := c.run("", "keyring", "export", "--postgres", dsn); r.code != 1 || !strings.Contains(r.stderr, "no key ring") {
		t.Errorf("export from a database without the schema: exit %d, %s", r.code, r.stderr)
	}
	if r := c.run("", "keyring", "import", export, "--postgres", dsn); r.code != 1 || !strings.Contains(r.stderr, "no master key") {
		t.Errorf("import into PostgreSQL without a master key: exit %d, %s", r.code, r.stderr)
	}
	c.keyringImport(export, masterEnv, "--postgres", dsn)
	rows := func() int {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM telemetry_keys").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		file string
		env  []string
		says string
	}{
		{export, masterEnv, "not empty"},
		{damaged, masterEnv, "not an intact key ring export"},
		{export, []string{"YOROZU_MASTER_KEY=" + base64.StdEncoding.EncodeToString(make([]byte, 32))}, "wrong master key"},
	} {
		if r := c.runWithEnv(tc.env, "", "keyring", "import", tc.file, "--postgres", dsn); r.code != 1 || !strings.Contains(r.stderr, tc.says) {
			t.Errorf("import %s into PostgreSQL: exit %d, %s; want %q", filepath.Base(tc.file), r.code, r.stderr, tc.says)
		}
	}
	if n := rows(); n != 2 {
		t.Errorf("the table holds %d rows after refused imports, want 2", n)
	}
	back := readKeyRingDoc(t, []byte(c.mustRun("", "keyring", "export", "--postgres", dsn).stdout))
	want := doc.Entries()
	got := back.Entries()
	for i := range want {
		want[i].DestroyedAt = want[i].DestroyedAt.Truncate(time.Microsecond)
		got[i].DestroyedAt = got[i].DestroyedAt.Truncate(time.Microsecond)
	}
	if back.Backend != keyring.BackendPostgres || !reflect.DeepEqual(got, want) {
		t.Errorf("exported back from PostgreSQL:\n%+v\nwant\n%+v", got, want)
	}
}
