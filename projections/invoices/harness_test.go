package invoices_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/bolt"
	pgevents "yorozu/adapters/eventstore/postgres"
	"yorozu/adapters/postgres/migrate"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/adapters/readmodel/memory"
	pgmodels "yorozu/adapters/readmodel/postgres"
	"yorozu/commands"
	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/schema"
	"yorozu/projections"
	"yorozu/projections/invoices"
	"yorozu/projections/readmodel"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// billingEnv is the billing of one engine, without the HTTP API: an event store, read models,
// the invoice projection running on them, and the billing commands' dependencies.
type billingEnv struct {
	events event.Store
	models readmodel.Store
	runner *projections.Runner
	view   *invoices.View
	deps   commands.Deps
	codec  *event.Registry
	issuer billing.Issuer

	mu  sync.Mutex
	now time.Time
}

// setNow moves the clock of the commands.
func (env *billingEnv) setNow(t time.Time) {
	env.mu.Lock()
	env.now = t
	env.mu.Unlock()
}

var testIssuer = billing.Issuer{Name: "株式会社YOROZU", RegistrationNumber: "T1234567890123"}

// startEnv opens the engine's stores and runs the invoice projection on them.
func startEnv(b testing.TB, engine string) *billingEnv {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	env := &billingEnv{issuer: testIssuer}
	switch engine {
	case "embedded":
		s, err := bolt.OpenDir(b.TempDir(), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		env.events, env.models = s, memory.New()
	case "postgres":
		pool := pgtest.NewPool(b)
		if err := migrate.Up(ctx, pool); err != nil {
			b.Fatal(err)
		}
		env.events, env.models = pgevents.New(pool, pgevents.Options{}), pgmodels.New(pool)
	}
	codec := schema.Registry()
	env.codec = codec
	var err error
	env.runner, err = projections.NewRunner(projections.Config{Log: env.events, Models: env.models,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if err := env.runner.Add(invoices.NewProjection(codec)); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = env.runner.Run(ctx) })
	b.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = env.events.Close()
	})
	env.now = time.Date(2025, 8, 5, 10, 0, 0, 0, calendar.JST())
	env.deps = commands.Deps{Events: env.events, Codec: codec, Clock: func() time.Time {
		env.mu.Lock()
		defer env.mu.Unlock()
		return env.now
	}}
	env.view = invoices.NewView(env.models, testIssuer)
	return env
}

func (env *billingEnv) append(b testing.TB, stream string, events ...any) {
	drafts := make([]event.Draft, len(events))
	for i, e := range events {
		typ, data, err := env.codec.Encode(e)
		if err != nil {
			b.Error(err)
			return
		}
		drafts[i] = event.Draft{ID: uuid.Must(uuid.NewV7()), Type: typ, SchemaVersion: 1,
			EffectiveAt: time.Now(), RecordedAt: time.Now(), Actor: "bench", Data: data}
	}
	if _, err := env.events.Append(context.Background(), stream, event.Any(), drafts); err != nil {
		b.Error(err)
	}
}

func (env *billingEnv) catchUp(b testing.TB) {
	b.Helper()
	head, err := env.events.Head(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := env.runner.WaitFor(ctx, head); err != nil {
		b.Fatal(err)
	}
}

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

func month(s string) billing.Month {
	m, err := billing.ParseMonth(s)
	if err != nil {
		panic(err)
	}
	return m
}
