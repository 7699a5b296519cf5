package app

// The admin channel: the embedded store (bbolt) locks its file, so while `yorozu serve` runs on
// a data directory no other process can open it. The operations tools (`staff add`, `apikey
// create`, `verify`, `rebuild`, `backup`, and the credential life cycle: `staff disable|enable|
// unlock|set-password|reset-totp`, `apikey list|revoke`) then forward their command to the
// running server through a unix socket in the data directory, DIR/yorozu.sock, which Serve opens
// on the embedded store only. `keyring export` needs no forwarding (it reads DIR/keyring.json,
// which the server only ever replaces whole) and `keyring import` is refused while a server
// holds the directory (keyring.go).
//
// The protocol is JSON over HTTP/1.1 on that socket:
//
//	POST /v1/staff    {"id", "role", "password"} → the enrollment {"staffId", "role", "totpSecret", "otpauthUrl"}
//	POST /v1/staff/disable, /v1/staff/enable, /v1/staff/unlock  {"id"} → the member {"staffId", "role", "disabled", "locked", ...}
//	POST /v1/staff/set-password {"id", "password"} → the member
//	POST /v1/staff/reset-totp   {"id"}             → the new enrollment
//	POST /v1/apikeys  {"name", "role"}            → {"name", "role", "key"}
//	POST /v1/apikeys/list   {}                    → {"items": [{"name", "role", "createdAt", "revoked", "revokedAt"}]}
//	POST /v1/apikeys/revoke {"name"}              → the key as listed
//	POST /v1/verify   {}                          → the audit report {"ok", "checkedEvents", "firstBroken"}
//	POST /v1/rebuild  {"projections": [...]}      → {"rebuilt": {name: events}, "seconds", "note"}
//	POST /v1/backup   {"out": "/abs/dir"}         → {"file", "events", "sha256"}
//
// A refused command answers a non-2xx status with {"error": "..."}, the message the direct path
// would print.
//
// Access control is the socket's file mode, 0600: whoever may connect is the account that runs
// the server (and root), the same trust as the data directory itself, whose files (the event log,
// master.key) that account can read and write anyway. The socket is created in a private (0700)
// temporary directory, made 0600 and then renamed into place, so it is never reachable with a
// wider mode; the rename also replaces a stale socket left by a crash. Serve removes it on
// shutdown.
//
// Rebuild: the embedded read models live in the server's memory and are rebuilt from the event
// log at every start; replaying them again under the running projections is not safe (the runner
// must not feed a projection while it is rebuilt). A forwarded `rebuild` therefore waits until
// every asked projection has caught up with the log and reports how many events each has applied
// since the start, with a note saying so.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"yorozu/domain/access"
	"yorozu/domain/event"
	"yorozu/projections"
)

// AdminSocket is the file name of the admin channel's socket inside the data directory.
const AdminSocket = "yorozu.sock"

// AdminSocketPath is where the server on dataDir listens for the operations tools.
func AdminSocketPath(dataDir string) string { return filepath.Join(dataDir, AdminSocket) }

// Paths of the admin protocol.
const (
	AdminPathStaff   = "/v1/staff"
	AdminPathAPIKeys = "/v1/apikeys"
	AdminPathVerify  = "/v1/verify"
	AdminPathRebuild = "/v1/rebuild"
	AdminPathBackup  = "/v1/backup"
)

// Paths of the credential life cycle in the admin protocol.
const (
	AdminPathStaffDisable     = "/v1/staff/disable"
	AdminPathStaffEnable      = "/v1/staff/enable"
	AdminPathStaffUnlock      = "/v1/staff/unlock"
	AdminPathStaffSetPassword = "/v1/staff/set-password"
	AdminPathStaffResetTOTP   = "/v1/staff/reset-totp"
	AdminPathAPIKeysList      = "/v1/apikeys/list"
	AdminPathAPIKeysRevoke    = "/v1/apikeys/revoke"
)

// AdminStaffRequest is the body of POST /v1/staff and /v1/staff/... (each takes what it needs).
type AdminStaffRequest struct {
	ID       string `json:"id"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// AdminAPIKeyRequest is the body of POST /v1/apikeys and /v1/apikeys/revoke.
type AdminAPIKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// AdminRebuildRequest is the body of POST /v1/rebuild; no projections means all.
type AdminRebuildRequest struct {
	Projections []string `json:"projections"`
}

// AdminRebuildResult answers POST /v1/rebuild; Rebuilt and Seconds have the meaning (and the
// JSON names) of the direct `yorozu rebuild` output.
type AdminRebuildResult struct {
	Rebuilt map[string]uint64 `json:"rebuilt"`
	Seconds float64           `json:"seconds"`
	Note    string            `json:"note"`
}

// AdminBackupRequest is the body of POST /v1/backup: the directory to write into, absolute
// (the tool resolves it from its own working directory, which the server does not share).
type AdminBackupRequest struct {
	Out string `json:"out"`
}

// AdminError is the body of a refused admin request.
type AdminError struct {
	Error string `json:"error"`
}

// LiveRebuildNote explains a forwarded rebuild.
const LiveRebuildNote = "answered by the running server: its in-memory read models were rebuilt from the event log " +
	"when it started and follow the log since; the counts are the events each projection has applied"

// serveAdmin opens the admin channel when the event log is the embedded store and returns the
// function that closes it and removes the socket. It never fails the service: without the
// channel the tools say the data directory is in use.
func (a *App) serveAdmin() (stop func()) {
	if a.cfg.PostgresURL != "" || a.cfg.EventStoreURL != "" {
		return func() {} // not the embedded store (openStores): other processes can open the store
	}
	log := a.cfg.Logger.With("component", "admin")
	path := AdminSocketPath(a.cfg.DataDir)
	l, err := listenAdmin(path)
	if err != nil {
		log.Warn("admin socket not available; operations tools cannot reach this server", "socket", path, "err", err)
		return func() {}
	}
	mine, _ := os.Lstat(path)
	srv := &http.Server{
		Handler:           a.AdminHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       DefaultReadTimeout,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin socket", "err", err)
		}
	}()
	log.Info("admin socket listening", "socket", path)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
		// Remove the socket only if it is still ours.
		if now, err := os.Lstat(path); err == nil && mine != nil && os.SameFile(mine, now) {
			_ = os.Remove(path)
		}
	}
}

// listenAdmin binds the socket in a private directory, restricts it to 0600 and renames it to
// path (replacing a stale socket from a crash; anything else at path is left alone).
func listenAdmin(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() != os.ModeSocket {
		return nil, fmt.Errorf("%s exists and is not a socket", path)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".s")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bound := filepath.Join(tmp, "s")
	l, err := net.Listen("unix", bound)
	if err != nil {
		return nil, err
	}
	// The listener must not unlink its bind path on Close: the socket has moved; the stop
	// function removes it.
	if ul, ok := l.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	if err := os.Chmod(bound, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	if err := os.Rename(bound, path); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// AdminHandler serves the admin protocol (see the file comment).
func (a *App) AdminHandler() http.Handler {
	log := a.cfg.Logger.With("component", "admin")
	mux := http.NewServeMux()
	mux.Handle("POST "+AdminPathStaff, adminOp(log, func(ctx context.Context, in AdminStaffRequest) (any, error) {
		return a.AddStaff(ctx, in.ID, in.Role, in.Password)
	}))
	mux.Handle("POST "+AdminPathAPIKeys, adminOp(log, func(ctx context.Context, in AdminAPIKeyRequest) (any, error) {
		return a.CreateAPIKey(ctx, in.Name, in.Role)
	}))
	for path, op := range map[string]func(context.Context, string) (access.StaffInfo, error){
		AdminPathStaffDisable: a.DisableStaff, AdminPathStaffEnable: a.EnableStaff, AdminPathStaffUnlock: a.UnlockStaff,
	} {
		mux.Handle("POST "+path, adminOp(log, func(ctx context.Context, in AdminStaffRequest) (any, error) { return op(ctx, in.ID) }))
	}
	mux.Handle("POST "+AdminPathStaffSetPassword, adminOp(log, func(ctx context.Context, in AdminStaffRequest) (any, error) {
		return a.SetStaffPassword(ctx, in.ID, in.Password)
	}))
	mux.Handle("POST "+AdminPathStaffResetTOTP, adminOp(log, func(ctx context.Context, in AdminStaffRequest) (any, error) {
		return a.ResetTOTP(ctx, in.ID)
	}))
	mux.Handle("POST "+AdminPathAPIKeysList, adminOp(log, func(ctx context.Context, _ struct{}) (any, error) {
		return a.APIKeys(ctx)
	}))
	mux.Handle("POST "+AdminPathAPIKeysRevoke, adminOp(log, func(ctx context.Context, in AdminAPIKeyRequest) (any, error) {
		return a.RevokeAPIKey(ctx, in.Name)
	}))
	mux.Handle("POST "+AdminPathVerify, adminOp(log, func(ctx context.Context, _ struct{}) (any, error) {
		return a.Verify(ctx)
	}))
	mux.Handle("POST "+AdminPathRebuild, adminOp(log, func(ctx context.Context, in AdminRebuildRequest) (any, error) {
		return a.liveRebuild(ctx, in.Projections)
	}))
	mux.Handle("POST "+AdminPathBackup, adminOp(log, func(ctx context.Context, in AdminBackupRequest) (any, error) {
		if !filepath.IsAbs(in.Out) {
			return nil, fmt.Errorf("backup: the output directory %q is not absolute", in.Out)
		}
		return a.Backup(ctx, in.Out)
	}))
	return mux
}

// adminOp decodes the request, runs do and answers its result or its error.
func adminOp[Req any](log *slog.Logger, do func(context.Context, Req) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in Req
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
			writeAdmin(w, http.StatusBadRequest, AdminError{Error: "admin request: " + err.Error()})
			return
		}
		out, err := do(r.Context(), in)
		if err != nil {
			log.Info("admin command refused", "path", r.URL.Path, "err", err)
			writeAdmin(w, http.StatusUnprocessableEntity, AdminError{Error: err.Error()})
			return
		}
		log.Info("admin command", "path", r.URL.Path)
		writeAdmin(w, http.StatusOK, out)
	})
}

func writeAdmin(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// liveRebuild answers a forwarded `rebuild`: the running projections are not replayed again
// (see the file comment); it waits until the asked ones have caught up with the log and counts
// the events each has applied.
func (a *App) liveRebuild(ctx context.Context, names []string) (AdminRebuildResult, error) {
	start := time.Now()
	known := a.Runner.Names()
	for _, n := range names {
		if !slices.Contains(known, n) {
			return AdminRebuildResult{}, fmt.Errorf("%w: have %v", projections.ErrUnknownProjection, known)
		}
	}
	if len(names) == 0 {
		names = known
	}
	head, err := a.Events.Head(ctx)
	if err != nil {
		return AdminRebuildResult{}, err
	}
	// Wait for the asked projections to reach the head as it was when asked.
	for {
		caughtUp := true
		for _, st := range a.Runner.Statuses() {
			if !slices.Contains(names, st.Name) || st.Checkpoint >= head {
				continue
			}
			if st.Err != nil {
				return AdminRebuildResult{}, fmt.Errorf("rebuild %s: %w", st.Name, st.Err)
			}
			caughtUp = false
		}
		if caughtUp {
			break
		}
		select {
		case <-ctx.Done():
			return AdminRebuildResult{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	checkpoints := map[string]event.Position{}
	var upTo event.Position
	for _, st := range a.Runner.Statuses() {
		if slices.Contains(names, st.Name) {
			checkpoints[st.Name] = st.Checkpoint
			upTo = max(upTo, st.Checkpoint)
		}
	}
	// Every projection is handed every record of the log (it skips the types it does not
	// handle), as a rebuild would: count the records up to each checkpoint.
	counts := make(map[string]uint64, len(checkpoints))
	for n := range checkpoints {
		counts[n] = 0
	}
	var after event.Position
	for after < upTo {
		recs, err := a.Events.ReadAll(ctx, after, 1000)
		if err != nil {
			return AdminRebuildResult{}, err
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			for n, cp := range checkpoints {
				if r.Position <= cp {
					counts[n]++
				}
			}
		}
		after = recs[len(recs)-1].Position
	}
	return AdminRebuildResult{Rebuilt: counts, Seconds: time.Since(start).Seconds(), Note: LiveRebuildNote}, nil
}
