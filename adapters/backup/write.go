package backup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"yorozu/domain/event"
)

// Write writes one committed state of log to w as a backup file (event.ExportLog), checking every
// hash chain on the way: a broken link fails it with ErrBrokenChain, naming the event. The
// returned summary has no File.
func Write(ctx context.Context, w io.Writer, log event.Log, engine string, now time.Time) (Summary, error) {
	content := sha256.New()
	bw := bufio.NewWriterSize(w, 1<<20)
	sum := Summary{Engine: engine, CreatedAt: now.UTC()}
	if sum.Engine == "" {
		sum.Engine = engineUnspecified
	}
	err := event.ExportLog(ctx, log, func(head event.Position, events iter.Seq2[event.Record, error]) error {
		sum.Head = head
		buf := appendHeader(make([]byte, 0, 64<<10), Header{Format: Format, Version: Version, Engine: sum.Engine, Head: head, CreatedAt: sum.CreatedAt})
		chains := event.NewChainVerifier()
		var last event.Position
		for rec, err := range prefetch(events, prefetchBatch) {
			if err != nil {
				return err
			}
			if !chains.Add(rec) {
				b := chains.Broken()
				return fmt.Errorf("%w: stream %q version %d (event %s): %s", ErrBrokenChain, b.Stream, b.StreamVersion, b.EventID, b.Reason)
			}
			if rec.Position <= last || rec.Position > head {
				return fmt.Errorf("backup: the log returned position %d after %d (head %d)", rec.Position, last, head)
			}
			last = rec.Position
			if buf, err = appendEvent(buf, &rec); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			sum.Events++
			if len(buf) >= 32<<10 {
				if err := emit(bw, content, buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		if err := emit(bw, content, buf); err != nil {
			return err
		}
		end := appendEnd(buf[:0], sum.Events, content.Sum(nil))
		// The whole file's checksum is the content's continued over the end line.
		whole, err := continued(content, end)
		if err != nil {
			return err
		}
		sum.SHA256 = hex.EncodeToString(whole.Sum(nil))
		_, err = bw.Write(end)
		return err
	})
	if err != nil {
		return Summary{}, err
	}
	if err := bw.Flush(); err != nil {
		return Summary{}, err
	}
	return sum, nil
}

func emit(w io.Writer, content io.Writer, b []byte) error {
	content.Write(b)
	_, err := w.Write(b)
	return err
}

// CreateOptions tell Create where and how.
type CreateOptions struct {
	// Dir receives the file; it is created if needed (mode 0700).
	Dir string
	// Engine names the engine in the header.
	Engine string
	// Keep is how many backup files Create leaves in Dir, the new one included (0: all).
	Keep int
	// Now is the time of the backup, which names the file; time.Now by default.
	Now time.Time
}

// fileName matches the backup files Create writes and prune removes, and nothing else.
var fileName = regexp.MustCompile(`^yorozu-backup-[0-9]{8}T[0-9]{6}\.[0-9]{9}Z\.jsonl$`)

// nameLayout makes file names that sort in time order.
const nameLayout = "20060102T150405.000000000Z"

// Create writes a backup of log into a new file of opts.Dir, then removes the oldest backup
// files beyond opts.Keep. The file is written under a temporary name, synced, renamed into
// place and the directory synced, so a crash leaves either no file under a backup's name or a
// complete one; a failure removes the temporary file. Only files named like backups
// (yorozu-backup-<UTC time>.jsonl) are ever removed.
func Create(ctx context.Context, log event.Log, opts CreateOptions) (Summary, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	final := filepath.Join(dir, "yorozu-backup-"+opts.Now.UTC().Format(nameLayout)+".jsonl")
	if _, err := os.Lstat(final); err == nil {
		return Summary{}, fmt.Errorf("backup: %s already exists", final)
	}
	tmp, err := os.CreateTemp(dir, ".yorozu-backup-*.tmp")
	if err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sum, err := Write(ctx, tmp, log, opts.Engine, opts.Now)
	if err != nil {
		return Summary{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	done = true
	if err := syncDir(dir); err != nil {
		return Summary{}, fmt.Errorf("backup: %s written, but syncing its directory failed: %w", final, err)
	}
	sum.File = final
	if opts.Keep > 0 {
		if err := prune(dir, opts.Keep); err != nil {
			return sum, fmt.Errorf("backup: %s written, but removing older backups failed: %w", final, err)
		}
	}
	return sum, nil
}

// prune removes all but the newest keep backup files of dir.
func prune(dir string, keep int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && fileName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	if len(names) <= keep {
		return nil
	}
	slices.Sort(names)
	var errs []error
	for _, n := range names[:len(names)-keep] {
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := syncDir(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
