// Command yorozu is the YOROZU back office: the HTTP service and its operations tools
// (docs/operations.md). Every subcommand takes the same store options: --data DIR (embedded store, the
// default ./var), --postgres URL, --eventstore URL.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	_ "time/tzdata" // business rules run in Asia/Tokyo whatever the host has

	"yorozu/cmd/yorozu/agentsim"
	"yorozu/cmd/yorozu/app"
	"yorozu/domain/insurance"
)

const usage = `usage: yorozu <command> [options]

commands:
  serve          run the HTTP service
  staff add      add a staff member (password on standard input); prints the TOTP secret
  staff disable|enable|unlock|reset-totp|set-password --id ID
                 the staff life cycle (set-password reads the password on standard input;
                 reset-totp prints the new TOTP secret)
  apikey create  create an API key for a service account
  apikey list    list the API keys (never the keys themselves)
  apikey revoke --name NAME
                 revoke an API key
  migrate        apply PostgreSQL schema migrations
  rebuild        rebuild read models from the event log (--projection NAME for one)
  verify         check every stream's hash chain and that every event decodes
  version        print the version, VCS revision and Go version
  agentsim       play simulated terminals against a server (--url, --enrollment-token, --terminals)
  backup         write a backup of the event log (--out DIR; keeps 2)
  restore FILE   load a backup into an empty store
  keyring export write the telemetry key ring (wrapped keys, tombstones) as JSON (--out FILE)
  keyring import FILE
                 load a key ring export into an empty key ring (same master key)
Store options (every command): --data DIR (default ./var), --postgres URL, --eventstore URL
(--data names the embedded store: not with --postgres or --eventstore)
"yorozu <command> --help" lists a command's options.
Exit status: 0 done, 1 failed (or verify found a broken event), 2 bad command line.
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		fmt.Fprintln(os.Stderr, "yorozu:", err)
		os.Exit(1)
	}
}

// exitCode ends the program with a status and nothing more to say.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	defer func() { err = reportUsage(err, stdout, stderr) }()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitCode(2)
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "staff" || cmd == "apikey" || cmd == "keyring") && len(rest) > 0 {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, stderr)
	case "staff add":
		return staffAdd(ctx, rest, stdin, stdout)
	case "apikey create":
		return apikeyCreate(ctx, rest, stdout)
	case "apikey list":
		return apikeyList(ctx, rest, stdout)
	case "apikey revoke":
		return apikeyRevoke(ctx, rest, stdout)
	case "staff disable", "staff enable", "staff unlock", "staff reset-totp", "staff set-password":
		return runStaffOp(ctx, staffOps[cmd], rest, stdin, stdout)
	case "migrate":
		return migrate(ctx, rest, stdout)
	case "rebuild":
		return rebuild(ctx, rest, stdout)
	case "verify":
		return verify(ctx, rest, stdout)
	case "agentsim":
		return runAgentsim(ctx, rest, stdout, stderr)
	case "backup":
		return backupCmd(ctx, rest, stdout)
	case "restore":
		return restoreCmd(ctx, rest, stdout)
	case "keyring export":
		return keyringExport(ctx, rest, stdout)
	case "keyring import":
		return keyringImport(ctx, rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version", "--version":
		return version(rest, stdout)
	}
	fmt.Fprintf(stderr, "yorozu: unknown command %q\n\n%s", strings.Join(args[:1], " "), usage)
	return exitCode(2)
}

// storeFlags are the options every subcommand shares.
func storeFlags(fs *flag.FlagSet, cfg *app.Config) {
	fs.StringVar(&cfg.DataDir, "data", "./var", "embedded store `directory`")
	fs.StringVar(&cfg.PostgresURL, "postgres", "", "PostgreSQL connection `URL` (event store and read models)")
	fs.StringVar(&cfg.EventStoreURL, "eventstore", "", "EventStoreDB/KurrentDB connection `URL` (event store; read models in --postgres)")
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("yorozu "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: yorozu %s [options]\n\noptions:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

// usageError is a command line a command cannot take. run prints it with the command's options
// on standard error and exits 2; -h/--help prints the options on standard output and exits 0.
type usageError struct {
	fs  *flag.FlagSet
	err error
}

func (e *usageError) Error() string { return e.err.Error() }

// parse reads a command's arguments: options only (no positional argument), and one store.
func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard) // reportUsage prints, to the right stream
	if err := fs.Parse(args); err != nil {
		return &usageError{fs: fs, err: err}
	}
	if fs.NArg() > 0 {
		return &usageError{fs: fs, err: fmt.Errorf("unexpected argument %q (every option starts with --)", fs.Arg(0))}
	}
	return oneStore(fs)
}

// parseFile reads the arguments of a command that takes one file: before the options or after
// them, and one store.
func parseFile(fs *flag.FlagSet, args []string, operand string) (string, error) {
	fs.SetOutput(io.Discard)
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", &usageError{fs: fs, err: err}
	}
	rest := fs.Args()
	if file == "" && len(rest) > 0 {
		file, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return "", &usageError{fs: fs, err: fmt.Errorf("unexpected argument %q (one %s only)", rest[0], operand)}
	}
	if file == "" {
		return "", &usageError{fs: fs, err: fmt.Errorf("no %s given", operand)}
	}
	return file, oneStore(fs)
}

// oneStore refuses store options that name two stores.
func oneStore(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["data"] && (given["postgres"] || given["eventstore"]) {
		// --data would be ignored (the events are elsewhere) or, worse, taken for where they
		// are: refuse rather than guess. The master key of a server store is YOROZU_MASTER_KEY
		// (or ./var/master.key).
		return &usageError{fs: fs, err: errors.New("--data names the embedded event store; it cannot be given with " +
			"--postgres or --eventstore, which keep the events elsewhere (their master key: YOROZU_MASTER_KEY, else ./var/master.key)")}
	}
	return nil
}

// reportUsage prints a usage error and turns it into its exit status.
func reportUsage(err error, stdout, stderr io.Writer) error {
	var u *usageError
	if !errors.As(err, &u) {
		return err
	}
	if errors.Is(u.err, flag.ErrHelp) {
		u.fs.SetOutput(stdout)
		u.fs.Usage()
		return nil
	}
	fmt.Fprintf(stderr, "%s: %v\n\n", u.fs.Name(), u.err)
	u.fs.SetOutput(stderr)
	u.fs.Usage()
	return exitCode(2)
}

// version prints what the binary was built from: the module version, the VCS revision and time
// (with "modified" when the working tree had changes) and the Go version.
func version(args []string, stdout io.Writer) error {
	if err := parse(newFlags("version"), args); err != nil {
		return err
	}
	out := struct {
		Version  string `json:"version"`
		Revision string `json:"revision"`
		Time     string `json:"time"`
		Modified bool   `json:"modified"`
		Go       string `json:"go"`
	}{Version: "unknown", Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		out.Version = info.Main.Version
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				out.Revision = s.Value
			case "vcs.time":
				out.Time = s.Value
			case "vcs.modified":
				out.Modified = s.Value == "true"
			}
		}
	}
	return printJSON(stdout, out)
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	var cfg app.Config
	var cidrs stringList
	fs := newFlags("serve")
	storeFlags(fs, &cfg)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen `address`")
	fs.Var(&cidrs, "allow-cidr", "client network allowed to log in as staff (repeatable; default loopback)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate `file` (with --tls-key)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS key `file`")
	fs.BoolVar(&cfg.Migrate, "migrate", false, "apply PostgreSQL migrations at start")
	fs.BoolVar(&cfg.AutoCloseMonths, "auto-close-months", false, "close each billing month after the first business day of the next")
	fs.StringVar(&cfg.URLDictionary, "url-dictionary", "", "URL category dictionary `file` (domain<TAB>item per line)")
	fs.StringVar(&cfg.Issuer, "issuer", "", "invoice issuer `name` (with --registration-number; needed to close a month)")
	fs.StringVar(&cfg.RegistrationNumber, "registration-number", "", "qualified-invoice registration `number` (T + 13 digits)")
	fs.DurationVar(&cfg.SessionTTL, "session-ttl", 8*time.Hour, "staff session lifetime")
	fs.Float64Var(&cfg.RateLimit, "rate-limit", 1000, "requests per second allowed per client (0: no limit)")
	fs.IntVar(&cfg.RateBurst, "rate-burst", 0, "requests a client may send at once (default twice --rate-limit)")
	fs.IntVar(&cfg.MaxConnections, "max-connections", app.DefaultMaxConnections, "connections open at once; more are answered 503 (0: no limit)")
	fs.StringVar(&cfg.IntegrationTransport, "integration-transport", app.IntegrationAuto,
		"where integration events go: auto (sql with --postgres, else channel), channel, sql or nats")
	fs.StringVar(&cfg.NATS.URL, "nats-url", "", "NATS server `URL` for --integration-transport nats (nats://host:4222)")
	fs.StringVar(&cfg.NATS.Stream, "nats-stream", "", "JetStream stream `name` (default YOROZU_INTEGRATION)")
	fs.StringVar(&cfg.NATS.SubjectPrefix, "nats-subject-prefix", "", "subject `prefix` of the topics (default yorozu.integration.)")
	fs.StringVar(&cfg.Mail.URL, "smtp", "", "send the mail magazine through this SMTP server: smtp://[user:pass@]host[:port] (STARTTLS when offered) or smtps://...")
	fs.StringVar(&cfg.Mail.From, "mail-from", "member@yorozu-sodan.com", "sender `address` of the mail magazine")
	fs.StringVar(&cfg.Mail.ListTo, "mail-list-to", "", "the mail magazine's list `address`, To: of every message (default: the --mail-from address)")
	cfg.Insurance = insurance.DefaultTerms
	fs.Func("insurance-period-start", "first day `MM-DD` of every insurance policy period (default 04-14)", func(v string) (err error) {
		cfg.Insurance.Year.First, err = insurance.ParseMonthDay(v)
		return err
	})
	fs.Func("insurance-period-end", "last day `MM-DD` of every insurance policy period, in the next year if before the start (default 03-13)", func(v string) (err error) {
		cfg.Insurance.Year.Last, err = insurance.ParseMonthDay(v)
		return err
	})
	if err := parse(fs, args); err != nil {
		return err
	}
	// The flags say 0 for "none"; the configuration, whose zero value means the default, says -1.
	if cfg.RateLimit < 0 || cfg.RateBurst < 0 || cfg.MaxConnections < 0 {
		return &usageError{fs: fs, err: errors.New("--rate-limit, --rate-burst and --max-connections cannot be negative")}
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = -1
	}
	cfg.AllowCIDRs = cidrs
	if err := cfg.Validate(); err != nil {
		return &usageError{fs: fs, err: err}
	}
	cfg.Logger = logger(stderr)

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	reloadOnHangup(ctx, a, cfg.Logger)
	return a.Serve(ctx)
}

// reloadOnHangup reloads the URL dictionary on SIGHUP (the file keeps the dictionary in force if
// it does not read).
func reloadOnHangup(ctx context.Context, a *app.App, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if n, err := a.ReloadDictionary(); err != nil {
					log.Error("URL dictionary not reloaded; the previous one stays in force", "err", err)
				} else {
					log.Info("URL dictionary reloaded", "domains", n)
				}
			}
		}
	}()
}

func openForTool(ctx context.Context, fs *flag.FlagSet, cfg *app.Config, args []string) (*app.App, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	cfg.Logger = logger(io.Discard)
	cfg.NoProjections = true
	a, err := app.New(ctx, *cfg)
	if err != nil {
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func staffAdd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	var cfg app.Config
	var id, role string
	fs := newFlags("staff add")
	storeFlags(fs, &cfg)
	fs.StringVar(&id, "id", "", "staff `ID`")
	fs.StringVar(&role, "role", "", "`role`: operator, auditor or billing")
	a, err := openForTool(ctx, fs, &cfg, args)
	if storeLocked(err) {
		return forwardStaffAdd(ctx, cfg.DataDir, id, role, stdin, stdout)
	}
	if err != nil {
		return err
	}
	defer a.Close()
	password, err := readLine(stdin)
	if err != nil {
		return fmt.Errorf("reading the password from standard input: %w", err)
	}
	out, err := a.AddStaff(ctx, id, role, password)
	if err != nil {
		return err
	}
	return printJSON(stdout, out)
}

// readLine reads one line, without its line ending.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimSuffix(b.String(), "\r"), nil
}

func apikeyCreate(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	var name, role string
	fs := newFlags("apikey create")
	storeFlags(fs, &cfg)
	fs.StringVar(&name, "name", "", "key `name` (the actor of its requests)")
	fs.StringVar(&role, "role", "billing", "`role` of the key")
	a, err := openForTool(ctx, fs, &cfg, args)
	if storeLocked(err) {
		return forwardAPIKeyCreate(ctx, cfg.DataDir, name, role, stdout)
	}
	if err != nil {
		return err
	}
	defer a.Close()
	out, err := a.CreateAPIKey(ctx, name, role)
	if err != nil {
		return err
	}
	return printJSON(stdout, out)
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	fs := newFlags("migrate")
	storeFlags(fs, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.PostgresURL == "" {
		fmt.Fprintln(stdout, `{"migrated":false,"reason":"the embedded store needs no migrations; give --postgres URL"}`)
		return nil
	}
	applied, all, err := app.Migrate(ctx, cfg.PostgresURL)
	if err != nil {
		return err
	}
	if applied == nil {
		applied = []int{}
	}
	return printJSON(stdout, map[string]any{"migrated": len(applied) > 0, "applied": applied, "current": all})
}

func rebuild(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	var names stringList
	fs := newFlags("rebuild")
	storeFlags(fs, &cfg)
	fs.Var(&names, "projection", "projection `NAME` to rebuild (repeatable; default all)")
	a, err := openForTool(ctx, fs, &cfg, args)
	if storeLocked(err) {
		return forwardRebuild(ctx, cfg.DataDir, names, stdout)
	}
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	counts, err := a.Runner.Rebuild(ctx, names...)
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"rebuilt": counts, "seconds": time.Since(start).Seconds()})
}

func verify(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg app.Config
	fs := newFlags("verify")
	storeFlags(fs, &cfg)
	a, err := openForTool(ctx, fs, &cfg, args)
	if storeLocked(err) {
		return forwardVerify(ctx, cfg.DataDir, stdout)
	}
	if err != nil {
		return err
	}
	defer a.Close()
	report, err := a.Verify(ctx)
	if err != nil {
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

// runAgentsim plays simulated terminals against a server and prints one line of JSON.
func runAgentsim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg agentsim.Config
	fs := newFlags("agentsim")
	fs.StringVar(&cfg.URL, "url", "", "server `URL` (http://127.0.0.1:8080)")
	fs.StringVar(&cfg.EnrollmentToken, "enrollment-token", "", "enrollment `token` of the contract the terminals join")
	fs.IntVar(&cfg.Terminals, "terminals", 0, "`number` of simulated terminals")
	fs.DurationVar(&cfg.Duration, "duration", time.Minute, "wall-clock time to upload for")
	fs.DurationVar(&cfg.Interval, "interval", 15*time.Minute, "upload interval of a terminal")
	fs.Float64Var(&cfg.Speedup, "speedup", 1, "divide the interval by this in wall-clock time")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "requests in flight at most")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed (the same seed makes the same terminals and records)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.URL == "" || cfg.EnrollmentToken == "" || cfg.Terminals <= 0 {
		return &usageError{fs: fs, err: errors.New("--url, --enrollment-token and --terminals are required")}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	res, err := agentsim.Run(ctx, cfg)
	if res.Terminals > 0 || err == nil {
		if perr := printJSON(stdout, res); perr != nil {
			return perr
		}
	}
	return err
}
