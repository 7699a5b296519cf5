package main

// Forwarding to a running server. The embedded store locks its file: while `yorozu serve` runs
// on --data DIR, `staff add`, `apikey create`, `verify`, `rebuild` and `backup` on the same DIR cannot
// open it (bolt.ErrLocked, after about a second). They then send their command to that server
// through its admin socket DIR/yorozu.sock (see app/admin.go for the protocol and its access
// control) and print what it answers, exactly as they would have printed it themselves, with the
// same exit status. Without a server answering on the socket they say the directory is in use.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/cmd/yorozu/app"
	"yorozu/domain/access"
	"yorozu/projections/audit"
)

// storeLocked reports whether opening the store failed because another process holds the
// embedded store's file.
func storeLocked(err error) bool { return errors.Is(err, bolt.ErrLocked) }

// adminDialWait is how long the tools keep trying the socket: a server that has just locked the
// store opens its socket a moment later.
const adminDialWait = 3 * time.Second

// errNoServer: the store is locked but no server answers on its admin socket.
type errNoServer struct {
	dataDir, socket string
	err             error
}

func (e *errNoServer) Error() string {
	return fmt.Sprintf("the data directory %s is in use by another process (its event log is locked), "+
		"and no running `yorozu serve` answers on %s to take the command (%v); "+
		"stop that process and try again, or run this command as the user that runs the server",
		e.dataDir, e.socket, e.err)
}

func (e *errNoServer) Unwrap() error { return e.err }

// adminCall sends one admin request to the server on dataDir and decodes its answer into out.
func adminCall(ctx context.Context, dataDir, path string, in, out any) error {
	socket := app.AdminSocketPath(dataDir)
	var dialErr error
	client := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			deadline := time.Now().Add(adminDialWait)
			var d net.Dialer
			for {
				c, err := d.DialContext(ctx, "unix", socket)
				if err == nil {
					return c, nil
				}
				retry := errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
				if !retry || time.Now().After(deadline) || ctx.Err() != nil {
					dialErr = err
					return nil, err
				}
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
		},
	}}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://yorozu"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if dialErr != nil {
			return &errNoServer{dataDir: dataDir, socket: socket, err: dialErr}
		}
		return fmt.Errorf("admin socket %s: %w", socket, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e app.AdminError
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("admin socket %s: %s", socket, resp.Status)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("admin socket %s: %w", socket, err)
	}
	return nil
}

// forwardStaffAdd is `staff add` through a running server.
func forwardStaffAdd(ctx context.Context, dataDir, id, role string, stdin io.Reader, stdout io.Writer) error {
	password, err := readLine(stdin)
	if err != nil {
		return fmt.Errorf("reading the password from standard input: %w", err)
	}
	var out access.Enrollment
	if err := adminCall(ctx, dataDir, app.AdminPathStaff, app.AdminStaffRequest{ID: id, Role: role, Password: password}, &out); err != nil {
		return err
	}
	return printJSON(stdout, out)
}

// forwardAPIKeyCreate is `apikey create` through a running server.
func forwardAPIKeyCreate(ctx context.Context, dataDir, name, role string, stdout io.Writer) error {
	var out app.APIKey
	if err := adminCall(ctx, dataDir, app.AdminPathAPIKeys, app.AdminAPIKeyRequest{Name: name, Role: role}, &out); err != nil {
		return err
	}
	return printJSON(stdout, out)
}

// forwardVerify is `verify` through a running server.
func forwardVerify(ctx context.Context, dataDir string, stdout io.Writer) error {
	var report audit.Report
	if err := adminCall(ctx, dataDir, app.AdminPathVerify, struct{}{}, &report); err != nil {
		return err
	}
	if err := printJSON(stdout, report); err != nil {
		return err
	}
	if !report.OK {
		return exitCode(1)
	}
	return nil
}

// forwardRebuild is `rebuild` on a running embedded server: its read models are rebuilt at
// every start, so it reports what its projections have applied (app/admin.go).
func forwardRebuild(ctx context.Context, dataDir string, names []string, stdout io.Writer) error {
	var out app.AdminRebuildResult
	if err := adminCall(ctx, dataDir, app.AdminPathRebuild, app.AdminRebuildRequest{Projections: names}, &out); err != nil {
		return err
	}
	return printJSON(stdout, out)
}
