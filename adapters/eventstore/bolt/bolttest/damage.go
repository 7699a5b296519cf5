// Package bolttest damages embedded event-store files the way a failing disk or an edit by hand
// would, for tests of what the service does with them.
package bolttest

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// bbolt's page header: id (8 bytes), flags (2), count (2), overflow (4). The first meta page
// holds the page size 8 bytes after its header (after the magic and the version).
const (
	flagsOffset    = 8
	pageSizeOffset = 16 + 8
)

// DamagePagesHolding gives every page of the closed bbolt file at path that holds needle an
// invalid page type, as a torn write or a bad sector would leave it, and returns how many pages
// it damaged (the test fails if none). bbolt panics when it reads such a page.
func DamagePagesHolding(t testing.TB, path string, needle []byte) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.LittleEndian.Uint32(raw[pageSizeOffset:]))
	if pageSize < 512 || pageSize > 1<<16 || len(raw)%pageSize != 0 {
		t.Fatalf("%s: page size %d does not look like a bbolt file of %d bytes", path, pageSize, len(raw))
	}
	damaged := 0
	for start := 2 * pageSize; start < len(raw); start += pageSize {
		if !bytes.Contains(raw[start:start+pageSize], needle) {
			continue
		}
		binary.LittleEndian.PutUint16(raw[start+flagsOffset:], 0xdead)
		damaged++
	}
	if damaged == 0 {
		t.Fatalf("%s: no page holds %q", path, needle)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return damaged
}

// Replace changes every occurrence of old in the closed file at path into new, which must have
// the same length: an edit in place that keeps bbolt's pages readable (the event store's own
// checks must find it). The test fails if old does not occur.
func Replace(t testing.TB, path string, old, new []byte) {
	t.Helper()
	if len(old) != len(new) {
		t.Fatalf("bolttest.Replace: %q and %q differ in length", old, new)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, old) {
		t.Fatalf("%s does not hold %q", path, old)
	}
	if err := os.WriteFile(path, bytes.ReplaceAll(raw, old, new), 0o600); err != nil {
		t.Fatal(err)
	}
}
