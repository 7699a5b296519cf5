package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"yorozu/cmd/yorozu/app"
)

// keyringExport is `yorozu keyring export [--out FILE]`: the telemetry key ring as one JSON
// document, on standard output or into a new file (then the summary on standard output). It
// reads the key ring directly, also while `serve` runs (app/keyring.go says why that is safe).
func keyringExport(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	var out string
	fs := newFlags("keyring export")
	storeFlags(fs, &cfg)
	fs.StringVar(&out, "out", "", "write the export into this new `file` (mode 0600) and print a summary; default standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		_, err := app.ExportKeyRing(ctx, cfg, stdout)
		return err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	sum, err := app.ExportKeyRingFile(ctx, cfg, abs)
	if err != nil {
		return err
	}
	return printJSON(stdout, sum)
}

// keyringImport is `yorozu keyring import FILE`: an export into the empty key ring of any
// engine, checked against this deployment's master key.
func keyringImport(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	fs := newFlags("keyring import")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: yorozu keyring import FILE [options]\n\noptions:\n")
		fs.PrintDefaults()
	}
	storeFlags(fs, &cfg)
	file, err := parseFile(fs, args, "key ring export file")
	if err != nil {
		return err
	}
	sum, err := app.ImportKeyRing(ctx, cfg, file)
	if storeLocked(err) {
		return fmt.Errorf("keyring import refused: the data directory %s is in use by a running server; "+
			"stop it first (a server keeps its key ring in memory and would write over an imported one); nothing was written", cfg.DataDir)
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, sum)
}
