// Command yorozu is the YOROZU back office: the HTTP service and its operations tools
// (SPEC 11). Every subcommand takes the same store options: --data DIR (embedded store, the
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
	"strings"
	"syscall"
	"time"

	_ "time/tzdata" // business rules run in Asia/Tokyo whatever the host has

	"yorozu/cmd/yorozu/app"
)

const usage = `usage: yorozu <command> [options]

commands:
  serve          run the HTTP service
  staff add      add a staff member (password on standard input); prints the TOTP secret
  apikey create  create an API key for a service account
  migrate        apply PostgreSQL schema migrations
  rebuild        rebuild read models from the event log (--projection NAME for one)
  verify         check every stream's hash chain
  backup         write a backup of the event log (--out DIR; keeps 2)
  restore FILE   load a backup into an empty store
Store options (every command): --data DIR (default ./var), --postgres URL, --eventstore URL
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

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitCode(2)
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "staff" || cmd == "apikey") && len(rest) > 0 {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, stderr)
	case "staff add":
		return staffAdd(ctx, rest, stdin, stdout)
	case "apikey create":
		return apikeyCreate(ctx, rest, stdout)
	case "migrate":
		return migrate(ctx, rest, stdout)
	case "rebuild":
		return rebuild(ctx, rest, stdout)
	case "verify":
		return verify(ctx, rest, stdout)
	case "backup":
		return backupCmd(ctx, rest, stdout)
	case "restore":
		return restoreCmd(ctx, rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
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
	return fs
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
	fs.StringVar(&cfg.Issuer, "issuer", "株式会社YOROZU", "invoice issuer `name`")
	fs.StringVar(&cfg.RegistrationNumber, "registration-number", "T1234567890123", "qualified-invoice registration `number` (T + 13 digits)")
	fs.DurationVar(&cfg.SessionTTL, "session-ttl", 8*time.Hour, "staff session lifetime")
	fs.Float64Var(&cfg.RateLimit, "rate-limit", 1000, "requests per second allowed per client (0: no limit)")
	fs.StringVar(&cfg.IntegrationTransport, "integration-transport", app.IntegrationAuto,
		"where integration events go: auto (sql with --postgres, else channel), channel, sql or nats")
	fs.StringVar(&cfg.NATS.URL, "nats-url", "", "NATS server `URL` for --integration-transport nats (nats://host:4222)")
	fs.StringVar(&cfg.NATS.Stream, "nats-stream", "", "JetStream stream `name` (default YOROZU_INTEGRATION)")
	fs.StringVar(&cfg.NATS.SubjectPrefix, "nats-subject-prefix", "", "subject `prefix` of the topics (default yorozu.integration.)")
	if err := fs.Parse(args); err != nil {
		return exitCode(2)
	}
	cfg.AllowCIDRs = cidrs
	cfg.Logger = logger(stderr)

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx)
}

func openForTool(ctx context.Context, fs *flag.FlagSet, cfg *app.Config, args []string) (*app.App, error) {
	if err := fs.Parse(args); err != nil {
		return nil, exitCode(2)
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
	if err := fs.Parse(args); err != nil {
		return exitCode(2)
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
