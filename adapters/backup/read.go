package backup

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"os"

	"yorozu/domain/event"
)

// prefetchBatch is how many events the reading goroutine hands over at a time.
const prefetchBatch = 1024

// Reader reads a backup file: its header at once, its events as they are ranged over, and its
// end line, whose count and checksum it checks after the last event. Every flaw is an error
// matching ErrDamaged.
type Reader struct {
	br      *bufio.Reader
	header  Header
	content hash.Hash // of every line before the end line
	whole   hash.Hash // of the file's bytes as stored, when it is compressed
	sum     string    // the hex SHA-256 of the whole file, once complete
	line    int
	events  int
	long    []byte
	raw     []byte // the last line read, with its "\n"
	fields  []field
	intern  *interner
	done    bool
	read    bool
}

// NewReader reads the header of the backup file r.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{content: sha256.New(), intern: newInterner()}
	var magic [2]byte
	n, err := io.ReadFull(r, magic[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("backup: %w", err)
	}
	r = io.MultiReader(bytes.NewReader(magic[:n]), r)
	if magic == [2]byte{0x1f, 0x8b} {
		// The checksum printed for a file is of its bytes: hash them as they are read. (For a
		// plain file it is the content's checksum continued over the end line.)
		rd.whole = sha256.New()
		gz, err := gzip.NewReader(bufio.NewReaderSize(io.TeeReader(r, rd.whole), 1<<20))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrDamaged, err)
		}
		r = gz
	}
	rd.br = bufio.NewReaderSize(r, 1<<20)
	line, err := rd.next()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the file is empty", ErrDamaged)
	}
	if err != nil {
		return nil, err
	}
	fields, err := scanObject(line, nil)
	if err == nil {
		rd.header, err = decodeHeader(fields)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: line 1: %v", ErrDamaged, err)
	}
	rd.content.Write(rd.raw)
	return rd, nil
}

// Header is the file's first line.
func (r *Reader) Header() Header { return r.header }

// next returns the next line without its "\n"; io.EOF at the end of the file. A last line
// without "\n" is a truncated file.
func (r *Reader) next() ([]byte, error) {
	r.line++
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	switch {
	case err == nil:
		r.raw = line
		return line[:len(line)-1], nil
	case errors.Is(err, io.EOF) && len(line) == 0:
		return nil, io.EOF
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: line %d is cut off (the file is truncated)", ErrDamaged, r.line)
	}
	return nil, fmt.Errorf("%w: reading line %d: %v", ErrDamaged, r.line, err)
}

// Events yields the events in file order. After the last one it reads the end line and checks
// the count, the checksum and that nothing follows; a flaw is yielded as an error and ends the
// sequence. Events can be ranged over once.
func (r *Reader) Events() iter.Seq2[event.Record, error] {
	return func(yield func(event.Record, error) bool) {
		if r.read {
			yield(event.Record{}, errors.New("backup: the events of a reader are read once"))
			return
		}
		r.read = true
		for {
			line, err := r.next()
			if errors.Is(err, io.EOF) {
				yield(event.Record{}, fmt.Errorf("%w: the file ends after %d events without its end line (it is truncated)", ErrDamaged, r.events))
				return
			}
			if err != nil {
				yield(event.Record{}, err)
				return
			}
			if r.fields, err = scanObject(line, r.fields); err != nil {
				yield(event.Record{}, fmt.Errorf("%w: line %d: %v", ErrDamaged, r.line, err))
				return
			}
			if isEnd(r.fields) {
				if err := r.finish(r.fields, line); err != nil {
					yield(event.Record{}, err)
				}
				return
			}
			var rec event.Record
			if err := decodeEvent(r.fields, &rec, r.intern); err != nil {
				yield(event.Record{}, fmt.Errorf("%w: line %d: %v", ErrDamaged, r.line, err))
				return
			}
			r.content.Write(r.raw)
			r.events++
			if !yield(rec, nil) {
				return
			}
		}
	}
}

func (r *Reader) finish(fields []field, line []byte) error {
	e, err := decodeEnd(fields)
	if err != nil {
		return fmt.Errorf("%w: line %d: %v", ErrDamaged, r.line, err)
	}
	if e.events != r.events {
		return fmt.Errorf("%w: the end line counts %d events, the file holds %d", ErrDamaged, e.events, r.events)
	}
	if !bytes.Equal(e.sum, r.content.Sum(nil)) {
		return fmt.Errorf("%w: the checksum in the end line does not match the content (the file was altered)", ErrDamaged)
	}
	var whole hash.Hash
	if r.whole == nil {
		var err error
		if whole, err = continued(r.content, line, []byte{'\n'}); err != nil {
			return err
		}
	}
	if _, err := r.next(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the end line", ErrDamaged)
	}
	if whole == nil {
		whole = r.whole
	}
	r.sum = hex.EncodeToString(whole.Sum(nil))
	r.done = true
	return nil
}

// Complete reports whether the end line was read and checked.
func (r *Reader) Complete() bool { return r.done }

// Count is the number of events read so far.
func (r *Reader) Count() int { return r.events }

// SHA256 is the hex SHA-256 of the whole file as stored (compressed, if it is), once Complete.
func (r *Reader) SHA256() string { return r.sum }

// continued returns a copy of h that has also hashed parts, leaving h as it was.
func continued(h hash.Hash, parts ...[]byte) (hash.Hash, error) {
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}
	c := sha256.New()
	if err := c.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, err
	}
	for _, p := range parts {
		c.Write(p)
	}
	return c, nil
}

// Verify reads the backup file at path to its end and checks everything a restore checks: the
// format, every event line, the count and checksum of the end line, positions in order up to
// the head, event IDs used once, and every hash chain. It writes nothing.
func Verify(ctx context.Context, path string) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		return Summary{}, err
	}
	check := event.NewImportCheck(r.Header().Head)
	for rec, err := range prefetch(r.Events(), prefetchBatch) {
		if err != nil {
			return Summary{}, err
		}
		if err := check.Check(&rec); err != nil {
			return Summary{}, fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		if check.Count()%4096 == 0 && ctx.Err() != nil {
			return Summary{}, ctx.Err()
		}
	}
	return r.summary(path), nil
}

func (r *Reader) summary(path string) Summary {
	return Summary{File: path, Events: r.events, SHA256: r.SHA256(), Head: r.header.Head, Engine: r.header.Engine, CreatedAt: r.header.CreatedAt}
}

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// VerifyFirst reads the whole file through Verify before importing anything: for targets
	// whose import cannot be undone (EventStoreDB). Without it the file is checked while it is
	// imported, and the target's all-or-nothing import undoes everything on the first flaw.
	VerifyFirst bool
}

// Restore imports the backup file at path into target, which must be empty. A damaged file
// (ErrDamaged, or event.ErrInvalidImport for a broken chain) and a store that is not empty
// (event.ErrNotEmpty) are refused.
func Restore(ctx context.Context, path string, target event.Importer, opts RestoreOptions) (Summary, error) {
	if opts.VerifyFirst {
		if _, err := Verify(ctx, path); err != nil {
			return Summary{}, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		return Summary{}, err
	}
	if err := target.Import(ctx, r.Header().Head, prefetch(r.Events(), prefetchBatch)); err != nil {
		return Summary{}, err
	}
	if !r.Complete() {
		// An importer must range over every event; one that stopped early has not restored it all.
		return Summary{}, errors.New("backup: the import stopped before the end of the file")
	}
	return r.summary(path), nil
}
