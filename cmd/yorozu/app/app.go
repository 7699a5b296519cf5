// Package app is the composition root: it opens the stores the options name, wires watermill,
// the command handlers, the projections and the HTTP API, and runs them. It decides nothing.
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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/eventstore/esdb"
	pgevents "yorozu/adapters/eventstore/postgres"
	"yorozu/adapters/postgres/migrate"
	pgmodels "yorozu/adapters/postgres/readmodel"
	"yorozu/api"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
	"yorozu/projections"
	"yorozu/projections/audit"
	"yorozu/projections/contracts"
	"yorozu/projections/invoices"
	"yorozu/projections/orders"
	"yorozu/projections/readmodel"
	"yorozu/projections/readmodel/memory"
	"yorozu/projections/staffdir"
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
	RateLimit       float64
	AutoCloseMonths bool
	URLDictionary   string
	// Issuer and RegistrationNumber ("T" + 13 digits) are printed on every invoice (SPEC 3).
	Issuer             string
	RegistrationNumber string

	// ReadYourWrites bounds how long a command's response waits for the read models (5 s).
	ReadYourWrites time.Duration
	// NoProjections leaves the read models unbuilt (operations tools that only append).
	NoProjections bool
	// SchedulerInterval is how often the process manager looks for due orders (1 minute);
	// negative turns the scheduler off (tests drive it by hand).
	SchedulerInterval time.Duration

	// Clock and Random are injected for tests; time.Now and crypto/rand by default.
	Clock  func() time.Time
	Random io.Reader
	Logger *slog.Logger
	// Registry receives the metrics; a fresh one by default.
	Registry *prometheus.Registry
}

// App is the running service.
type App struct {
	cfg       Config
	Events    event.Store
	Models    readmodel.Store
	Router    *message.Router
	Bus       *commands.Bus
	Runner    *projections.Runner
	Directory *access.Directory
	Handler   http.Handler
	// ProcessManager sends due opening notices and completes due orders; Start runs it every
	// SchedulerInterval, tests call its Tick.
	ProcessManager commands.OrderProcessManager
	pool           *pgxpool.Pool
	invoices       *invoices.View
	billing        *billingRuntime
	closers        []func()
	stop           context.CancelFunc
	done           chan struct{}
}

// New opens the stores and wires everything; Start (or Serve) runs it.
func New(ctx context.Context, cfg Config) (a *App, err error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if cfg.ReadYourWrites <= 0 {
		cfg.ReadYourWrites = 5 * time.Second
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "./var"
	}
	a = &App{cfg: cfg, done: make(chan struct{})}
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

	wlog := quietLogger{watermill.NewSlogLogger(cfg.Logger.With("component", "watermill"))}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, wlog)
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(middleware.Recoverer)
	a.Router = router
	commandsPubSub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, wlog)
	a.closers = append(a.closers, func() { _ = commandsPubSub.Close() })

	a.Bus, err = commands.NewBus(commands.BusConfig{Router: router, Publisher: commandsPubSub, Subscriber: commandsPubSub, Logger: wlog})
	if err != nil {
		return nil, err
	}
	a.Runner, err = projections.NewRunner(projections.Config{Events: a.Events, Models: a.Models, Router: router, Logger: cfg.Logger})
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

// quietLogger drops watermill's per-message trace and debug lines before they are built: the
// projections pass every event through watermill, and formatting those lines cost more than
// handling the events.
type quietLogger struct{ watermill.LoggerAdapter }

func (quietLogger) Debug(string, watermill.LogFields) {}
func (quietLogger) Trace(string, watermill.LogFields) {}

func (q quietLogger) With(f watermill.LogFields) watermill.LoggerAdapter {
	return quietLogger{q.LoggerAdapter.With(f)}
}

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
		a.Events = pgevents.New(a.pool, pgevents.Options{})
	default:
		s, err := bolt.OpenDir(cfg.DataDir, bolt.Options{})
		if err != nil {
			return err
		}
		a.Events = s
	}
	a.closers = append(a.closers, func() { _ = a.Events.Close() })
	return nil
}

// wire registers the use cases, the projections and the HTTP API.
func (a *App) wire() error {
	cfg := a.cfg
	registry := event.NewRegistry(order.Events()...)
	registry.Register(contract.Events()...)
	deps := commands.Deps{Events: a.Events, Registry: registry, Clock: cfg.Clock}
	cal := calendar.New()

	key, err := masterKey(cfg.DataDir, cfg.Random)
	if err != nil {
		return err
	}
	box, err := access.NewAESGCMBox(key, cfg.Random)
	if err != nil {
		return err
	}
	accessDeps := commands.AccessDeps{Deps: deps, Policy: access.Policy{Secrets: box, SessionTTL: cfg.SessionTTL}, Random: cfg.Random}
	if err := errors.Join(
		commands.Register(a.Bus, commands.NewAddStaffHandler(accessDeps).Handle),
		commands.Register(a.Bus, commands.NewLogInHandler(accessDeps).Handle),
		commands.Register(a.Bus, commands.NewCreateAPIKeyHandler(accessDeps).Handle),
	); err != nil {
		return err
	}

	queue := orders.Queue{Models: a.Models}
	od := commands.NewOrderDeps(deps, cal, box, cfg.Random, queue)
	if err := errors.Join(
		commands.Register(a.Bus, commands.NewSubmitOrderHandler(od).Handle),
		commands.Register(a.Bus, commands.NewAmendOrderHandler(od).Handle),
		commands.Register(a.Bus, commands.NewAcceptOrderHandler(od).Handle),
		commands.Register(a.Bus, commands.NewSendOpeningNoticeHandler(od).Handle),
		commands.Register(a.Bus, commands.NewCompleteOrderHandler(od).Handle),
		commands.Register(a.Bus, commands.NewWithdrawOrderHandler(od).Handle),
		commands.Register(a.Bus, commands.NewRecordContractViewHandler(deps).Handle),
		a.Runner.Add(orders.Projection{Registry: registry, Calendar: cal}),
		a.Runner.Add(contracts.Projection{Registry: registry}),
	); err != nil {
		return err
	}
	a.ProcessManager = commands.OrderProcessManager{Bus: a.Bus, Due: queue, Calendar: cal, Clock: cfg.Clock}

	if err := a.wireBilling(deps); err != nil {
		return err
	}

	dir := staffdir.New()
	a.Directory = dir.Directory
	if err := errors.Join(
		a.Runner.Add(audit.New()),
		a.Runner.Add(dir),
	); err != nil {
		return err
	}

	h, err := api.New(api.Deps{
		Bus:            a.Bus,
		Runner:         a.Runner,
		Events:         a.Events,
		Models:         a.Models,
		Directory:      a.Directory,
		Clock:          cfg.Clock,
		AllowCIDRs:     cfg.AllowCIDRs,
		RateLimit:      cfg.RateLimit,
		ReadYourWrites: cfg.ReadYourWrites,
		Logger:         cfg.Logger,
		Metrics:        cfg.Registry,
		Types:          registry,
		Invoices:       a.invoices,
	})
	if err != nil {
		return err
	}
	a.Handler = h
	return nil
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

// Start runs the watermill router and, unless NoProjections, the projections. It returns once
// commands can be sent.
func (a *App) Start(ctx context.Context) error {
	ctx, a.stop = context.WithCancel(ctx)
	routerErr := make(chan error, 1)
	go func() { routerErr <- a.Router.Run(ctx) }()
	select {
	case <-a.Router.Running():
	case err := <-routerErr:
		return fmt.Errorf("message router: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
	if a.cfg.NoProjections {
		close(a.done)
		return nil
	}
	go func() {
		defer close(a.done)
		if a.cfg.SchedulerInterval >= 0 {
			go a.schedule(ctx)
		}
		if err := a.Runner.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.cfg.Logger.Error("projections stopped", "err", err)
		}
	}()
	return nil
}

// schedule runs the time-driven use cases: the order process manager now, and then every
// SchedulerInterval, once the read models have caught up (it acts on what they show).
func (a *App) schedule(ctx context.Context) {
	every := a.cfg.SchedulerInterval
	if every == 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if a.ready() {
			if n, err := a.ProcessManager.Tick(ctx); err != nil {
				a.cfg.Logger.Warn("order process manager", "sent", n, "err", err)
			} else if n > 0 {
				a.cfg.Logger.Info("order process manager", "sent", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunDue runs the order process manager once and waits until the read models show what it
// did (tests and operators use it; the scheduler runs the same Tick).
func (a *App) RunDue(ctx context.Context) (int, error) {
	n, err := a.ProcessManager.Tick(ctx)
	if h, herr := a.Events.Head(ctx); herr == nil {
		a.awaitProjections(ctx, commands.Outcome{Position: h})
	}
	return n, err
}

// ready reports whether every projection has caught up with the log once.
func (a *App) ready() bool {
	for _, st := range a.Runner.Statuses() {
		if !st.CaughtUp {
			return false
		}
	}
	return true
}

// Serve starts everything and serves HTTP until ctx ends (SIGTERM), then shuts down gracefully:
// in-flight requests finish, then the projections and the router stop.
func (a *App) Serve(ctx context.Context) error {
	if err := a.Start(ctx); err != nil {
		return err
	}
	// The operations tools reach a server on the embedded store through its admin socket (admin.go).
	defer a.serveAdmin()()
	srv := &http.Server{
		Addr:              a.cfg.Addr,
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.cfg.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		a.cfg.Logger.Info("serving", "addr", a.cfg.Addr, "tls", a.cfg.TLSCert != "")
		if a.cfg.TLSCert != "" {
			srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			errc <- srv.ListenAndServeTLS(a.cfg.TLSCert, a.cfg.TLSKey)
		} else {
			errc <- srv.ListenAndServe()
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.cfg.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// Close stops everything and closes the stores.
func (a *App) Close() {
	if a.stop != nil {
		a.stop()
		<-a.done
	}
	if a.Router != nil {
		_ = a.Router.Close()
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// Migrate applies the PostgreSQL migrations and lists the applied versions.
func Migrate(ctx context.Context, url string) ([]int, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if err := migrate.Up(ctx, pool); err != nil {
		return nil, err
	}
	return migrate.Applied(ctx, pool)
}

// AddStaff registers a staff member and returns the enrollment (TOTP secret) to print.
func (a *App) AddStaff(ctx context.Context, id, role, password string) (access.Enrollment, error) {
	out, err := a.Bus.Send(ctx, commands.AddStaff{Meta: commands.Meta{Actor: event.SystemActor}, StaffID: id, Role: role, Password: password})
	if err != nil {
		return access.Enrollment{}, err
	}
	a.awaitProjections(ctx, out)
	return out.Result.(access.Enrollment), nil
}

// APIKey is what `yorozu apikey create` prints.
type APIKey struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Key  string `json:"key"`
}

// CreateAPIKey creates a service account key.
func (a *App) CreateAPIKey(ctx context.Context, name, role string) (APIKey, error) {
	out, err := a.Bus.Send(ctx, commands.CreateAPIKey{Meta: commands.Meta{Actor: event.SystemActor}, Name: name, Role: role})
	if err != nil {
		return APIKey{}, err
	}
	a.awaitProjections(ctx, out)
	return APIKey{Name: name, Role: role, Key: out.Result.(string)}, nil
}

// awaitProjections lets a caller inside the process read its own write, as the API does.
func (a *App) awaitProjections(ctx context.Context, out commands.Outcome) {
	if a.cfg.NoProjections || out.Position == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ReadYourWrites)
	defer cancel()
	_ = a.Runner.WaitFor(ctx, out.Position)
}

// Verify checks every hash chain of the log.
func (a *App) Verify(ctx context.Context) (audit.Report, error) { return audit.Verify(ctx, a.Events) }
