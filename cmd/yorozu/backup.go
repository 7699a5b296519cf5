package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"yorozu/cmd/yorozu/app"
)

// backupCmd is `yorozu backup [--out DIR]`: a backup file of the whole event log, the newest 2
// kept. While `serve` holds the embedded store, the server writes it (admin socket).
func backupCmd(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	var out string
	fs := newFlags("backup")
	storeFlags(fs, &cfg)
	fs.StringVar(&out, "out", "", "backup `directory` (default DATA/backups, or ./backups with --postgres or --eventstore)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		out = app.DefaultBackupDir(cfg)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	sum, err := app.Backup(ctx, cfg, abs)
	if storeLocked(err) {
		if err := adminCall(ctx, cfg.DataDir, app.AdminPathBackup, app.AdminBackupRequest{Out: abs}, &sum); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return printJSON(stdout, sum)
}

// restoreCmd is `yorozu restore FILE`: the backup into an empty store of any engine.
func restoreCmd(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	fs := newFlags("restore")
	storeFlags(fs, &cfg)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: yorozu restore FILE [options]\n\noptions:\n")
		fs.PrintDefaults()
	}
	file, err := parseFile(fs, args, "backup file")
	if err != nil {
		return err
	}
	sum, err := app.Restore(ctx, cfg, file)
	if storeLocked(err) {
		return fmt.Errorf("restore refused: the data directory %s is in use by a running server; "+
			"a restore needs an empty store of its own: stop the server or restore into another --data directory", cfg.DataDir)
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, sum)
}
