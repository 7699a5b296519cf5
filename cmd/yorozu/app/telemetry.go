package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"yorozu/adapters/keyring"
	"yorozu/adapters/scheduler"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/event"
	"yorozu/domain/healthcheck"
	"yorozu/domain/telemetry"
	"yorozu/projections"
	"yorozu/projections/agents"
	"yorozu/projections/reports"
	"yorozu/projections/shredding"
	"yorozu/projections/terminals"
)

// telemetryParts are the terminal, telemetry and report pieces wire puts together.
type telemetryParts struct {
	agents      *agents.Directory
	keys        *keyring.Ring
	view        *reports.View
	dictionary  *atomic.Pointer[healthcheck.Dictionary]
	projections []projections.Projection
}

// wireTelemetry opens the key ring (beside the event log: a file in the data directory, or the
// PostgreSQL table) and builds the telemetry projections.
func (a *App) wireTelemetry(masterKey []byte) (telemetryParts, error) {
	var backend keyring.Backend
	if a.pool != nil {
		backend = keyring.NewPostgres(a.pool)
	} else {
		fb, err := keyring.OpenFile(a.cfg.DataDir)
		if err != nil {
			return telemetryParts{}, err
		}
		backend = fb
	}
	keys, err := keyring.New(backend, masterKey, a.cfg.Random)
	if err != nil {
		return telemetryParts{}, err
	}
	dict := &atomic.Pointer[healthcheck.Dictionary]{}
	dict.Store(healthcheck.NewDictionary())
	if a.cfg.URLDictionary != "" {
		d, err := loadDictionary(a.cfg.URLDictionary)
		if err != nil {
			return telemetryParts{}, err
		}
		dict.Store(d)
	}
	dir := agents.New(a.codec, a.Events)
	// Another replica's destruction of a key reaches this one as the termination event.
	dir.OnTerminated = keys.Forget
	p := telemetryParts{agents: dir, keys: keys, view: reports.NewView(a.Models), dictionary: dict}
	p.projections = []projections.Projection{
		dir,
		terminals.NewProjection(a.codec),
		reports.NewProjection(reports.Config{Codec: a.codec, Keys: keys, Calendar: a.calendar, Dictionary: dict,
			Logger: a.cfg.Logger.With("projection", reports.Name)}),
		shredding.New(a.codec, func(ctx context.Context, cn string, pos event.Position) error {
			_, err := a.Application.Commands.ShredTerminated.Handle(ctx, commands.ShredTerminated{
				Meta: commands.Meta{Actor: event.SystemActor}, CustomerNumber: cn, Through: pos})
			return err
		}),
	}
	a.dictionary = dict
	return p, nil
}

func loadDictionary(path string) (*healthcheck.Dictionary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--url-dictionary: %w", err)
	}
	defer f.Close()
	d, err := healthcheck.ParseDictionary(f)
	if err != nil {
		return nil, fmt.Errorf("--url-dictionary %s: %w", path, err)
	}
	return d, nil
}

// ReloadDictionary reads the URL dictionary file again (SIGHUP). A file that does not read keeps
// the dictionary in force. Records projected from then on are classified with the new one.
func (a *App) ReloadDictionary() (int, error) {
	if a.cfg.URLDictionary == "" {
		return 0, fmt.Errorf("no --url-dictionary was given")
	}
	d, err := loadDictionary(a.cfg.URLDictionary)
	if err != nil {
		return 0, err
	}
	a.dictionary.Store(d)
	return d.Len(), nil
}

// reportsView is what sealing decides from: the report view, once the projections reflect the log.
type reportsView struct {
	*reports.View
	log    event.Log
	runner *projections.Runner
}

func (v reportsView) CatchUp(ctx context.Context) (event.Position, error) {
	head, err := v.log.Head(ctx)
	if err != nil {
		return 0, err
	}
	return head, v.runner.WaitFor(ctx, head)
}

func (v reportsView) WaitFor(ctx context.Context, pos event.Position) error {
	return v.runner.WaitForProjection(ctx, reports.Name, pos)
}

// telemetryJobs are the time-driven telemetry use cases: sealing the reports that are due (each
// minute) and dropping raw telemetry past its retention (at start, then daily).
func (a *App) telemetryJobs() []scheduler.Job {
	cmds := a.Application.Commands
	return []scheduler.Job{
		{Name: "report sealing", Every: time.Minute, Run: func(ctx context.Context) (string, error) {
			out, err := cmds.SealDueReports.Handle(ctx, commands.SealDueReports{Meta: commands.Meta{Actor: event.SystemActor}})
			if out.Sealed == 0 {
				return "", err
			}
			return fmt.Sprintf("sealed %d monthly reports", out.Sealed), err
		}},
		{Name: "telemetry retention", Every: 24 * time.Hour, Run: func(ctx context.Context) (string, error) {
			return "", cmds.ExpireTelemetry.Handle(ctx, commands.ExpireTelemetry{})
		}},
	}
}

// SealDueReports seals the reports that are due and waits until the read models show them (tests
// and operators; the scheduler runs the same use case).
func (a *App) SealDueReports(ctx context.Context) (int, error) {
	out, err := a.Application.Commands.SealDueReports.Handle(ctx, commands.SealDueReports{Meta: commands.Meta{Actor: event.SystemActor}})
	a.awaitProjections(ctx, out.Position)
	return out.Sealed, err
}

// ExpireTelemetry runs the retention of raw telemetry once.
func (a *App) ExpireTelemetry(ctx context.Context) error {
	return a.Application.Commands.ExpireTelemetry.Handle(ctx, commands.ExpireTelemetry{})
}

// KeyRing is the telemetry key ring (tests check crypto-shredding through it).
func (a *App) KeyRing() *keyring.Ring { return a.keys }

// terminalContracts authenticates the agents polling their web-filtering policy with the
// terminals' directory: a token the directory does not know is 401, a retired terminal's or a
// terminated contract's is refused as its uploads are.
type terminalContracts struct{ dir *agents.Directory }

func (t terminalContracts) AuthenticateAgent(ctx context.Context, token string) (string, error) {
	term, err := t.dir.Authenticate(ctx, token)
	if errors.Is(err, telemetry.ErrBadAgentToken) {
		return "", access.ErrUnauthenticated
	}
	if err != nil {
		return "", err
	}
	return term.CustomerNumber, nil
}
