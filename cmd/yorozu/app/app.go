// Package app is the composition root: it opens the stores the options name and wires the use
// cases, the projections, the HTTP API, the schedulers and the integration-event relay. It
// decides nothing.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/eventstore/esdb"
	pgevents "yorozu/adapters/eventstore/postgres"
	"yorozu/adapters/keyring"
	"yorozu/adapters/mailer"
	"yorozu/adapters/outbox"
	"yorozu/adapters/postgres/migrate"
	"yorozu/adapters/readmodel/memory"
	pgmodels "yorozu/adapters/readmodel/postgres"
	"yorozu/adapters/scheduler"
	"yorozu/api"
	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/healthcheck"
	"yorozu/domain/insurance"
	"yorozu/domain/schema"
	"yorozu/projections"
	"yorozu/projections/audit"
	"yorozu/projections/consultations"
	"yorozu/projections/contracts"
	"yorozu/projections/diagnoses"
	"yorozu/projections/failures"
	insurancerm "yorozu/projections/insurance"
	"yorozu/projections/invoices"
	"yorozu/projections/orders"
	"yorozu/projections/readmodel"
	"yorozu/projections/staffdir"
	"yorozu/projections/terminals"
)

// Config is everything the service can be told.
type Config struct {
	DataDir       string
	PostgresURL   string
	EventStoreURL string
	Migrate       bool

	Addr            string
	AllowCIDRs      []string
	TLSCert, TLSKey string
	SessionTTL      time.Duration
	// RateLimit is requests per second per client: 0 the default (1,000), negative no limit;
	// RateBurst how many a client may send at once (0: twice the rate).
	RateLimit       float64
	RateBurst       int
	AutoCloseMonths bool
	URLDictionary   string
	// Issuer and RegistrationNumber ("T" + 13 digits) are printed on every final invoice; without
	// them (no default) drafts name no issuer and closing a month is refused.
	Issuer             string
	RegistrationNumber string
	// IntegrationTransport carries the integration events out: auto (sql with PostgreSQL,
	// channel otherwise), channel, sql or nats; NATS configures nats.
	IntegrationTransport string
	NATS                 outbox.NATSConfig
	// Insurance are the insurance's policy periods and limits (--insurance-period-start/-end);
	// what is left zero is insurance.DefaultTerms'.
	Insurance insurance.Terms

	// Mail sends the mail magazine (serve --smtp, --mail-from, --mail-list-to); without
	// Mail.URL issues stay scheduled.
	Mail mailer.Config
	// AgentContracts authenticates agents polling their web-filtering policy: the terminals'
	// directory unless a test sets another.
	AgentContracts api.AgentAuthenticator
	// Deadlines of the HTTP server (zero: the default). ReadTimeout bounds the whole request,
	// headers and body, from its first byte (60 s: an agent's batch of 8 MiB must arrive at
	// 140 KB/s or better); ReadHeaderTimeout the headers alone (60 s); WriteTimeout the time
	// from the end of the headers to the end of the answer, so the body's read included (2 min);
	// IdleTimeout how long a kept-alive connection may wait for its next request (60 s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConnections bounds the connections open at once (default 4,096; negative: no limit);
	// one more is answered 503 and closed.
	MaxConnections int

	// ReadYourWrites bounds how long a command's response waits for the read models (5 s).
	ReadYourWrites time.Duration
	// NoProjections leaves the read models unbuilt (operations tools that only append).
	NoProjections bool
	// SchedulerInterval is how often the process manager looks for due orders (1 minute);
	// negative turns the schedulers off (tests drive them by hand).
	SchedulerInterval time.Duration

	// PasswordHashing bounds the memory logins and password changes take (defaults when zero).
	PasswordHashing commands.HashingConfig

	// Clock and Random are injected for tests; time.Now and crypto/rand by default.
	Clock  func() time.Time
	Random io.Reader
	Logger *slog.Logger
	// Registry receives the metrics; a fresh one by default.
	Registry *prometheus.Registry
}

func (c *Config) setDefaults() {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Random == nil {
		c.Random = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
		c.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if c.ReadYourWrites <= 0 {
		c.ReadYourWrites = 5 * time.Second
	}
	if c.DataDir == "" {
		c.DataDir = "./var"
	}
	if c.SchedulerInterval == 0 {
		c.SchedulerInterval = time.Minute
	}
	for _, d := range []struct {
		field *time.Duration
		def   time.Duration
	}{
		{&c.ReadHeaderTimeout, DefaultReadTimeout},
		{&c.ReadTimeout, DefaultReadTimeout},
		{&c.WriteTimeout, 2 * time.Minute},
		{&c.IdleTimeout, 60 * time.Second},
	} {
		if *d.field <= 0 {
			*d.field = d.def
		}
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
}

// DefaultReadTimeout is how long a request's headers and body may take to arrive.
const DefaultReadTimeout = 60 * time.Second

// DefaultMaxConnections bounds the open connections: far more than agents (each uploads for a
// second every 15 minutes), staff and the billing system keep open, few enough that slow or idle
// clients cannot exhaust memory (some 20 KB each) or file descriptors.
const DefaultMaxConnections = 4096

// Validate reports every inconsistent setting at once.
func (c Config) Validate() error {
	var errs []error
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.Migrate && c.PostgresURL == "" {
		errs = append(errs, errors.New("--migrate needs --postgres"))
	}
	if _, err := configuredIssuer(c); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.integrationTransport(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Insurance.WithDefaults().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("insurance terms: %w", err))
	}
	if _, err := c.mailSender(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// App is the running service.
type App struct {
	cfg Config
	// Events is the event log; Models the read-model store.
	Events event.Store
	Models readmodel.Store
	// Application is every use case; Runner feeds the projections.
	Application commands.Application
	Runner      *projections.Runner
	Directory   *access.Directory
	Handler     http.Handler

	pool        *pgxpool.Pool
	pgEvents    *pgevents.Store // the event store when it is PostgreSQL
	integration *outbox.Endpoint
	closers     []func()
	stop        context.CancelFunc
	running     sync.WaitGroup
	codec       *event.Registry
	calendar    *calendar.BusinessCalendar
	// integrity checks every event before the projections and the relay act on it.
	integrity *projections.Integrity
	// failed receives the fault that must stop the service (a damaged event-store file).
	failed     chan error
	keys       *keyring.Ring
	dictionary *atomic.Pointer[healthcheck.Dictionary]
}

// New opens the stores and wires everything; Start (or Serve) runs it.
func New(ctx context.Context, cfg Config) (a *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	a = &App{cfg: cfg, codec: schema.Registry(), calendar: calendar.New(), failed: make(chan error, 1)}
	defer func(a *App) { // this App: the named result is nil by the time an error returns
		if err != nil {
			a.Close()
		}
	}(a)
	if err := a.openStores(ctx); err != nil {
		return nil, err
	}
	counted, err := newCountingStore(a.Events, cfg.Registry)
	if err != nil {
		return nil, err
	}
	a.Events = counted
	// Every event is checked (hash chain, decoding) before a projection or the relay acts on it.
	a.integrity = projections.NewIntegrity(a.Events, a.codec)
	a.Runner, err = projections.NewRunner(projections.Config{Log: a.Events, Models: a.Models, Logger: cfg.Logger,
		Integrity: a.integrity})
	if err != nil {
		return nil, err
	}
	if err := a.wire(); err != nil {
		return nil, err
	}
	return a, nil
}

// minPoolConns is the smallest PostgreSQL pool the service runs with unless the URL sets
// pool_max_conns.
const minPoolConns = 16

// openStores picks the engines: PostgreSQL for both when --postgres is given, EventStoreDB for
// events when --eventstore is (read models then in PostgreSQL, or in memory without it), and the
// embedded bbolt log with in-memory read models otherwise.
func (a *App) openStores(ctx context.Context) error {
	cfg := a.cfg
	if cfg.PostgresURL != "" {
		pcfg, err := pgxpool.ParseConfig(cfg.PostgresURL)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if !strings.Contains(cfg.PostgresURL, "pool_max_conns") {
			// pgxpool's default (max(4, CPUs)) queues concurrent API queries behind the
			// projections' and the event store's own connections.
			pcfg.MaxConns = max(pcfg.MaxConns, minPoolConns)
		}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		a.pool = pool
		a.closers = append(a.closers, pool.Close)
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if cfg.Migrate {
			if err := migrate.Up(ctx, pool); err != nil {
				return err
			}
		}
		if err := requireMigrated(ctx, pool); err != nil {
			return err
		}
		a.Models = pgmodels.New(pool)
	} else {
		a.Models = memory.New()
	}
	switch {
	case cfg.EventStoreURL != "":
		s, err := esdb.Open(ctx, cfg.EventStoreURL, esdb.Options{})
		if err != nil {
			return err
		}
		a.Events = s
	case a.pool != nil:
		a.pgEvents = pgevents.New(a.pool, pgevents.Options{})
		a.Events = a.pgEvents
	default:
		s, err := bolt.OpenDir(cfg.DataDir, bolt.Options{OnDamage: a.fail})
		if err != nil {
			return err
		}
		a.Events = s
	}
	a.closers = append(a.closers, func() { _ = a.Events.Close() })
	return nil
}

// ErrNotMigrated: the PostgreSQL database lacks migrations this binary needs.
var ErrNotMigrated = errors.New("the PostgreSQL database is not migrated")

// requireMigrated refuses a database that lacks some of this binary's migrations: the service
// would start, say it serves, and fail on every query.
func requireMigrated(ctx context.Context, pool *pgxpool.Pool) error {
	all, err := migrate.All()
	if err != nil {
		return err
	}
	applied, err := migrate.Applied(ctx, pool)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	var missing []int
	for _, m := range all {
		if !slices.Contains(applied, m.Version) {
			missing = append(missing, m.Version)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of its %d migrations are missing (%v); run `yorozu migrate --postgres URL` first, "+
		"or start with `yorozu serve --postgres URL --migrate`", ErrNotMigrated, len(missing), len(all), missing)
}

// fail stops the service with err (the first fault wins).
func (a *App) fail(err error) {
	select {
	case a.failed <- err:
	default:
	}
}

// wire builds the use cases, the projections and the HTTP API.
func (a *App) wire() error {
	cfg := a.cfg
	key, err := masterKey(cfg.DataDir, cfg.Random)
	if err != nil {
		return err
	}
	box, err := access.NewAESGCMBox(key, cfg.Random)
	if err != nil {
		return err
	}
	issuer, err := configuredIssuer(cfg)
	if err != nil {
		return err
	}
	tel, err := a.wireTelemetry(key)
	if err != nil {
		return err
	}
	a.keys = tel.keys

	queue := orders.Queue{Models: a.Models}
	terms := cfg.Insurance.WithDefaults()
	ledger := insurancerm.Ledger{Models: a.Models, Terms: terms}
	view := invoices.NewView(a.Models, issuer)
	// On PostgreSQL the trail is a view over the events table: the projection keeps links only.
	auditMode, trail := audit.Entries, audit.Trail(audit.DocumentTrail{Models: a.Models, Codec: a.codec})
	if a.pgEvents != nil {
		auditMode, trail = audit.LinksOnly, a.pgEvents.AuditTrail(a.codec)
	}
	dir := staffdir.New(a.codec)
	a.Directory = dir.Directory
	services, err := a.wireServices()
	if err != nil {
		return err
	}
	for _, p := range append([]projections.Projection{
		orders.Projection{Codec: a.codec, Calendar: a.calendar},
		contracts.Projection{Codec: a.codec},
		invoices.NewProjection(a.codec),
		audit.New(a.codec, auditMode),
		dir,
		consultations.NewProjection(a.codec),
		failures.NewProjection(a.codec),
		insurancerm.NewProjection(a.codec),
	}, append(tel.projections, services.projections...)...) {
		if err := a.Runner.Add(p); err != nil {
			return err
		}
	}

	policy := access.Policy{Secrets: box, SessionTTL: cfg.SessionTTL, UnknownIDKey: unknownIDKey(key)}
	hashing := commands.NewPasswordHashing(cfg.PasswordHashing, policy.Password)
	if err := registerHashingMetrics(cfg.Registry, hashing); err != nil {
		return err
	}
	cmds, err := commands.NewCommands(commands.Config{
		Events:    a.Events,
		Codec:     a.codec,
		Clock:     cfg.Clock,
		Calendar:  a.calendar,
		Access:    policy,
		Hashing:   hashing,
		Random:    cfg.Random,
		Issuer:    issuer,
		DueOrders: queue,
		Closing:   closingView{View: view, log: a.Events, runner: a.Runner},

		MailDelivery:       services.delivery,
		Insurance:          terms,
		PendingAssessments: ledger,
		Telemetry: commands.TelemetryConfig{Agents: tel.agents, Keys: tel.keys, Log: a.Events, Maintenance: a.Events,
			Reports: reportsView{View: tel.view, log: a.Events, runner: a.Runner}},
	})
	if err != nil {
		return err
	}
	a.Application = commands.Application{
		Commands: cmds,
		Queries: commands.Queries{
			Orders:    queue,
			Contracts: contracts.Directory{Models: a.Models},
			Replay:    contracts.Replay{Events: a.Events, Codec: a.codec},
			Invoices:  view,
			Audit:     trail,

			WebFiltering:         commands.NewLoadWebFiltering(commands.Deps{Events: a.Events, Codec: a.codec, Clock: cfg.Clock}),
			WebFilteringPolicies: services.policies,
			Diagnoses:            diagnoses.Queue{Models: a.Models},
			MailRecipients:       services.recipients,
			MailIssues:           services.issues,
			MailDelivering:       services.delivery.Sender != nil,
			Consultations:        consultations.Desk{Models: a.Models},
			Failures:             failures.Log{Models: a.Models},
			Insurance:            ledger,
			Terminals:            terminals.List{Models: a.Models},
			Reports:              tel.view,
			Agents:               tel.agents,
		},
	}

	agentContracts := cfg.AgentContracts
	if agentContracts == nil {
		agentContracts = terminalContracts{tel.agents}
	}
	a.Handler, err = api.New(api.Deps{
		App:            a.Application,
		Runner:         a.Runner,
		Log:            a.Events,
		Directory:      a.Directory,
		Clock:          cfg.Clock,
		AllowCIDRs:     cfg.AllowCIDRs,
		RateLimit:      cfg.RateLimit,
		RateBurst:      cfg.RateBurst,
		ReadYourWrites: cfg.ReadYourWrites,
		AgentContracts: agentContracts,
		Logger:         cfg.Logger,
		Metrics:        cfg.Registry,

		Codec:             a.codec,
		DirectoryProgress: dir,
		Integrity:         a.integrity,
	})
	return err
}

// configuredIssuer is the issuer printed on invoices. Without one (both settings empty, as in
// tests that do not bill) drafts show none and closing a month is refused; a half or malformed
// setting stops the service.
func configuredIssuer(cfg Config) (billing.Issuer, error) {
	if cfg.Issuer == "" && cfg.RegistrationNumber == "" {
		return billing.Issuer{}, nil
	}
	issuer, err := billing.NewIssuer(cfg.Issuer, cfg.RegistrationNumber)
	if err != nil {
		return billing.Issuer{}, fmt.Errorf("--issuer/--registration-number: %w", err)
	}
	return issuer, nil
}

// closingView is what the month close decides from: the invoice view, once the projections have
// processed the log up to its head.
type closingView struct {
	*invoices.View
	log    event.Log
	runner *projections.Runner
}

func (v closingView) CatchUp(ctx context.Context) (event.Position, error) {
	head, err := v.log.Head(ctx)
	if err != nil {
		return 0, err
	}
	return head, v.runner.WaitFor(ctx, head)
}

// masterKey is the deployment's key for sealing secrets (TOTP secrets now; per-contract data
// keys later): YOROZU_MASTER_KEY (base64 of 32 bytes) if set, else DIR/master.key, created on
// first use with mode 0600. Replicas of one deployment must share it.
func masterKey(dir string, random io.Reader) ([]byte, error) {
	if env := os.Getenv("YOROZU_MASTER_KEY"); env != "" {
		k, err := base64.StdEncoding.DecodeString(env)
		if err != nil || len(k) != 32 {
			return nil, errors.New("YOROZU_MASTER_KEY must be the base64 of 32 bytes")
		}
		return k, nil
	}
	path := filepath.Join(dir, "master.key")
	if k, err := os.ReadFile(path); err == nil {
		if len(k) != 32 {
			return nil, fmt.Errorf("%s: want 32 bytes, found %d", path, len(k))
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := io.ReadFull(random, k); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return masterKey(dir, random) // another process made it first
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(k); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}

// Start runs, unless NoProjections, the projections, the schedulers and the integration-event
// relay in the background. It returns at once: commands can be sent.
func (a *App) Start(ctx context.Context) error {
	ctx, a.stop = context.WithCancel(ctx)
	if a.cfg.NoProjections {
		return nil
	}
	relay, err := a.startIntegration(ctx)
	if err != nil {
		return err
	}
	background := []func(context.Context){
		func(ctx context.Context) {
			if err := a.Runner.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				a.cfg.Logger.Error("projections stopped", "err", err)
			}
		},
		relay,
	}
	if sched := a.schedule(); len(sched.Jobs) > 0 {
		background = append(background, func(ctx context.Context) {
			if err := scheduler.Run(ctx, sched); err != nil && !errors.Is(err, context.Canceled) {
				a.cfg.Logger.Error("schedulers stopped", "err", err)
			}
		})
	}
	for _, run := range background {
		a.running.Go(func() { run(ctx) })
	}
	return nil
}

// schedule lists the time-driven use cases: the order process manager (unless the interval is
// negative) and, with --auto-close-months, the month close. They act on what the read models show, so they wait for
// the projections to catch up first.
func (a *App) schedule() scheduler.Config {
	cmds := a.Application.Commands
	var jobs []scheduler.Job
	if a.cfg.SchedulerInterval > 0 {
		jobs = append(jobs, scheduler.Job{
			Name:  "order process manager",
			Every: a.cfg.SchedulerInterval,
			Run: func(ctx context.Context) (string, error) {
				done, err := cmds.CompleteDueOrders.Handle(ctx, commands.CompleteDueOrders{})
				if done.Sent == 0 {
					return "", err
				}
				return fmt.Sprintf("order process manager sent %d notices and completions", done.Sent), err
			},
		})
	}
	if mail := a.mailJob(); mail != nil {
		jobs = append(jobs, *mail)
	}
	if a.cfg.SchedulerInterval > 0 {
		jobs = append(jobs, scheduler.Job{
			Name:  "insurance assessments",
			Every: a.cfg.SchedulerInterval,
			Run: func(ctx context.Context) (string, error) {
				done, err := cmds.CompletePendingAssessments.Handle(ctx, commands.CompletePendingAssessments{})
				if done.Completed == 0 {
					return "", err
				}
				return fmt.Sprintf("completed %d interrupted insurance assessments", done.Completed), err
			},
		})
	}
	if a.cfg.AutoCloseMonths {
		jobs = append(jobs, scheduler.Job{
			Name:  "month auto-close",
			Every: time.Minute,
			Run: func(ctx context.Context) (string, error) {
				c, err := cmds.CloseDueMonth.Handle(ctx, commands.CloseDueMonth{})
				if err != nil || !c.Due || c.Position == 0 {
					return "", err
				}
				return fmt.Sprintf("month %s closed: %d invoices, total %d yen", c.Month, c.Invoices, int64(c.Total)), nil
			},
		})
	}
	if a.cfg.SchedulerInterval > 0 {
		jobs = append(jobs, a.telemetryJobs()...)
	}
	return scheduler.Config{Jobs: jobs, Ready: a.Runner.Ready, Logger: a.cfg.Logger.With("component", "scheduler")}
}

// RunDue runs the order process manager once and waits until the read models show what it
// did (tests and operators use it; the scheduler runs the same use case).
func (a *App) RunDue(ctx context.Context) (int, error) {
	done, err := a.Application.Commands.CompleteDueOrders.Handle(ctx, commands.CompleteDueOrders{})
	a.awaitProjections(ctx, done.Position)
	return done.Sent, err
}

// Serve binds the listen address, starts everything and serves HTTP until ctx ends (SIGTERM),
// then shuts down gracefully: in-flight requests finish, then the projections stop. A fault that
// makes the store unusable (a damaged file) ends it with that error.
func (a *App) Serve(ctx context.Context) error {
	// Bind first: a busy port fails before anything starts, and the log names the real address
	// (--addr 127.0.0.1:0 picks a free port).
	l, err := a.Listen()
	if err != nil {
		return err
	}
	defer l.Close()
	if err := a.Start(ctx); err != nil {
		return err
	}
	// The operations tools reach a server on the embedded store through its admin socket (admin.go).
	defer a.serveAdmin()()
	srv := a.HTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	a.cfg.Logger.Info("serving", "addr", l.Addr().String(), "tls", a.cfg.TLSCert != "")
	var fault error
	select {
	case err := <-errc:
		return err
	case fault = <-a.failed:
		a.cfg.Logger.Error("stopping: the event store cannot be used", "err", fault)
	case <-ctx.Done():
		a.cfg.Logger.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && fault == nil {
		return err
	}
	return fault
}

// Listen binds the configured address, with the connection limit and, when configured, TLS.
func (a *App) Listen() (net.Listener, error) {
	var tlsConfig *tls.Config
	if a.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	}
	l, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return nil, err
	}
	l = a.LimitConnections(l, tlsConfig == nil)
	if tlsConfig != nil {
		l = tls.NewListener(l, tlsConfig)
	}
	return l, nil
}

// LimitConnections applies the configured connection limit to l (plainHTTP: no TLS above it).
func (a *App) LimitConnections(l net.Listener, plainHTTP bool) net.Listener {
	return httpx.LimitConnections(l, a.cfg.MaxConnections, plainHTTP)
}

// HTTPServer is the server Serve runs: the API with the configured deadlines.
func (a *App) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		ReadTimeout:       a.cfg.ReadTimeout,
		WriteTimeout:      a.cfg.WriteTimeout,
		IdleTimeout:       a.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.cfg.Logger.Handler(), slog.LevelWarn),
	}
}

// Close stops everything and closes the stores.
func (a *App) Close() {
	if a.stop != nil {
		a.stop()
	}
	a.running.Wait()
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// Migrate applies the PostgreSQL migrations and returns the versions this run applied and all
// versions applied so far.
func Migrate(ctx context.Context, url string) (applied, all []int, err error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	defer pool.Close()
	before, err := migrate.Applied(ctx, pool)
	if err != nil {
		return nil, nil, err
	}
	if err := migrate.Up(ctx, pool); err != nil {
		return nil, nil, err
	}
	if all, err = migrate.Applied(ctx, pool); err != nil {
		return nil, nil, err
	}
	for _, v := range all {
		if !slices.Contains(before, v) {
			applied = append(applied, v)
		}
	}
	return applied, all, nil
}

// AddStaff registers a staff member and returns the enrollment (TOTP secret) to print.
func (a *App) AddStaff(ctx context.Context, id, role, password string) (access.Enrollment, error) {
	out, err := a.Application.Commands.AddStaff.Handle(ctx, commands.AddStaff{Meta: commands.Meta{Actor: event.SystemActor}, StaffID: id, Role: role, Password: password})
	if err != nil {
		return access.Enrollment{}, err
	}
	a.awaitProjections(ctx, out.Position)
	return out.Enrollment, nil
}

// APIKey is what `yorozu apikey create` prints.
type APIKey struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Key  string `json:"key"`
}

// CreateAPIKey creates a service account key.
func (a *App) CreateAPIKey(ctx context.Context, name, role string) (APIKey, error) {
	out, err := a.Application.Commands.CreateAPIKey.Handle(ctx, commands.CreateAPIKey{Meta: commands.Meta{Actor: event.SystemActor}, Name: name, Role: role})
	if err != nil {
		return APIKey{}, err
	}
	a.awaitProjections(ctx, out.Position)
	return APIKey{Name: name, Role: role, Key: out.Key}, nil
}

// awaitProjections lets a caller inside the process read its own write, as the API does.
func (a *App) awaitProjections(ctx context.Context, pos event.Position) {
	if a.cfg.NoProjections || pos == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ReadYourWrites)
	defer cancel()
	_ = a.Runner.WaitFor(ctx, pos)
}

// Verify checks every hash chain of the log.
func (a *App) Verify(ctx context.Context) (audit.Report, error) {
	return audit.Verify(ctx, a.Events, a.codec)
}
