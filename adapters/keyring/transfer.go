package keyring

// Moving a key ring between deployments and engines (`yorozu keyring export` and `import`,
// docs/backup.md): every backend lists its entries and loads a whole list into an empty key
// ring. Keys move wrapped, as they are stored: an unwrapped key never leaves a Ring. Tombstones
// move too, so that a destroyed key is never made again where the key ring goes.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Entry is one contract's place in a key ring: its wrapped key, or the tombstone its destroyed
// key left (Wrapped nil, DestroyedAt set).
type Entry struct {
	CustomerNumber string
	Wrapped        []byte
	DestroyedAt    time.Time
}

// Destroyed reports whether the entry is a tombstone.
func (e Entry) Destroyed() bool { return e.Wrapped == nil }

// Transfer is a backend whose whole content can be listed and loaded at once. FileBackend and
// PostgresBackend implement it.
type Transfer interface {
	// List returns every entry, keys and tombstones, ordered by customer number.
	List(ctx context.Context) ([]Entry, error)
	// Import writes entries into the backend, which must hold no entry, not even a tombstone
	// (ErrNotEmpty otherwise). It is all or nothing: on any error nothing is written. Entries
	// that do not hold together (CheckEntries) are refused with ErrInvalidEntries.
	Import(ctx context.Context, entries []Entry) error
}

var (
	_ Transfer = (*FileBackend)(nil)
	_ Transfer = (*PostgresBackend)(nil)
)

var (
	// ErrNotEmpty: an import into a key ring that holds keys or tombstones.
	ErrNotEmpty = errors.New("keyring: the key ring is not empty")
	// ErrInvalidEntries: entries that cannot be a key ring (see CheckEntries).
	ErrInvalidEntries = errors.New("keyring: invalid entries")
	// ErrDamaged: a key ring document that is not one, or not intact.
	ErrDamaged = errors.New("keyring: not an intact key ring export")
	// ErrWrongMasterKey: a wrapped key that does not unwrap with the master key given.
	ErrWrongMasterKey = errors.New("keyring: wrong master key")
)

// wrappedLen is the length of a wrapped key: nonce, 32-byte key, GCM tag.
const wrappedLen = 12 + 32 + 16

// CheckEntries checks that entries can be a key ring: each names a customer number once, and is
// either a wrapped key of the right length or a tombstone with its time.
func CheckEntries(entries []Entry) error {
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		switch {
		case e.CustomerNumber == "" || strings.TrimSpace(e.CustomerNumber) != e.CustomerNumber:
			return fmt.Errorf("%w: customer number %q", ErrInvalidEntries, e.CustomerNumber)
		case seen[e.CustomerNumber]:
			return fmt.Errorf("%w: %s is listed twice", ErrInvalidEntries, e.CustomerNumber)
		case e.Wrapped != nil && !e.DestroyedAt.IsZero():
			return fmt.Errorf("%w: %s has both a key and a tombstone", ErrInvalidEntries, e.CustomerNumber)
		case e.Wrapped == nil && e.DestroyedAt.IsZero():
			return fmt.Errorf("%w: %s has neither a key nor a tombstone time", ErrInvalidEntries, e.CustomerNumber)
		case e.Wrapped != nil && len(e.Wrapped) != wrappedLen:
			return fmt.Errorf("%w: the wrapped key of %s has %d bytes, want %d", ErrInvalidEntries, e.CustomerNumber, len(e.Wrapped), wrappedLen)
		}
		seen[e.CustomerNumber] = true
	}
	return nil
}

// CheckMasterKey checks that every wrapped key of entries unwraps with masterKey (under its own
// customer number), and fails with ErrWrongMasterKey naming the first that does not.
func CheckMasterKey(masterKey []byte, entries []Entry) error {
	master, err := newAEAD(masterKey)
	if err != nil {
		return fmt.Errorf("keyring: master key: %w", err)
	}
	for _, e := range entries {
		if e.Destroyed() {
			continue
		}
		n := master.NonceSize()
		if len(e.Wrapped) < n+master.Overhead() {
			return fmt.Errorf("%w: the key of %s is too short to unwrap", ErrWrongMasterKey, e.CustomerNumber)
		}
		if _, err := master.Open(nil, e.Wrapped[:n], e.Wrapped[n:], wrapAD(e.CustomerNumber)); err != nil {
			return fmt.Errorf("%w: the key of %s does not unwrap with it", ErrWrongMasterKey, e.CustomerNumber)
		}
	}
	return nil
}

func sortEntries(entries []Entry) {
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.CustomerNumber, b.CustomerNumber) })
}

// ---- the export document ----

// Document format and version of a key ring export.
const (
	DocumentFormat  = "yorozu-keyring"
	DocumentVersion = 1
)

// Backends, as a document names where it was exported from.
const (
	BackendFile     = "file"
	BackendPostgres = "postgres"
)

// Document is a key ring export: one JSON object.
//
//	{"format":"yorozu-keyring","version":1,"backend":"file","createdAt":"…",
//	 "keys":[{"customerNumber":"N000000001","wrapped":"<base64>"}],
//	 "destroyed":[{"customerNumber":"N000000002","destroyedAt":"…"}],
//	 "sha256":"<hex>"}
//
// sha256 is the SHA-256 of the JSON encoding of {"keys":…,"destroyed":…} as this package writes
// it, so a changed or cut entry is refused even where the JSON still parses.
type Document struct {
	Format    string      `json:"format"`
	Version   int         `json:"version"`
	Backend   string      `json:"backend"`
	CreatedAt time.Time   `json:"createdAt"`
	Keys      []DocKey    `json:"keys"`
	Destroyed []Tombstone `json:"destroyed"`
	SHA256    string      `json:"sha256"`
}

// DocKey is a live key in a Document: the key wrapped by the master key (base64 in JSON).
type DocKey struct {
	CustomerNumber string `json:"customerNumber"`
	Wrapped        []byte `json:"wrapped"`
}

// Tombstone is a destroyed key in a Document.
type Tombstone struct {
	CustomerNumber string    `json:"customerNumber"`
	DestroyedAt    time.Time `json:"destroyedAt"`
}

func (d *Document) checksum() string {
	body, _ := json.Marshal(struct {
		Keys      []DocKey    `json:"keys"`
		Destroyed []Tombstone `json:"destroyed"`
	}{d.Keys, d.Destroyed})
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// NewDocument makes the export document of entries.
func NewDocument(backend string, createdAt time.Time, entries []Entry) *Document {
	d := &Document{Format: DocumentFormat, Version: DocumentVersion, Backend: backend, CreatedAt: createdAt.UTC(),
		Keys: []DocKey{}, Destroyed: []Tombstone{}}
	sorted := slices.Clone(entries)
	sortEntries(sorted)
	for _, e := range sorted {
		if e.Destroyed() {
			d.Destroyed = append(d.Destroyed, Tombstone{CustomerNumber: e.CustomerNumber, DestroyedAt: e.DestroyedAt.UTC()})
		} else {
			d.Keys = append(d.Keys, DocKey{CustomerNumber: e.CustomerNumber, Wrapped: e.Wrapped})
		}
	}
	d.SHA256 = d.checksum()
	return d
}

// Entries returns the document's entries, ordered by customer number.
func (d *Document) Entries() []Entry {
	out := make([]Entry, 0, len(d.Keys)+len(d.Destroyed))
	for _, k := range d.Keys {
		out = append(out, Entry{CustomerNumber: k.CustomerNumber, Wrapped: k.Wrapped})
	}
	for _, t := range d.Destroyed {
		out = append(out, Entry{CustomerNumber: t.CustomerNumber, DestroyedAt: t.DestroyedAt})
	}
	sortEntries(out)
	return out
}

// WriteTo writes the document as one line of JSON.
func (d *Document) WriteTo(w io.Writer) (int64, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(raw, '\n'))
	return int64(n), err
}

// ReadDocument reads and checks a key ring export: its format and version, its checksum, and
// its entries (CheckEntries). Anything else fails with ErrDamaged.
func ReadDocument(r io.Reader) (*Document, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: something follows the document", ErrDamaged)
	}
	switch {
	case d.Format != DocumentFormat:
		return nil, fmt.Errorf("%w: the format is %q, not %q", ErrDamaged, d.Format, DocumentFormat)
	case d.Version != DocumentVersion:
		return nil, fmt.Errorf("%w: version %d, this yorozu reads version %d", ErrDamaged, d.Version, DocumentVersion)
	case d.Keys == nil || d.Destroyed == nil || d.SHA256 == "":
		return nil, fmt.Errorf("%w: keys, destroyed or sha256 missing", ErrDamaged)
	case d.checksum() != d.SHA256:
		return nil, fmt.Errorf("%w: the checksum does not match the entries", ErrDamaged)
	}
	for _, t := range d.Destroyed {
		if t.DestroyedAt.IsZero() {
			return nil, fmt.Errorf("%w: the tombstone of %s has no time", ErrDamaged, t.CustomerNumber)
		}
	}
	for _, k := range d.Keys {
		if k.Wrapped == nil {
			return nil, fmt.Errorf("%w: the key of %s is missing", ErrDamaged, k.CustomerNumber)
		}
	}
	if err := CheckEntries(d.Entries()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return &d, nil
}
