package api_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/access"
	"yorozu/domain/event"
	"yorozu/domain/event/eventtest"
	"yorozu/domain/schema"
)

// syncBuffer is a log sink safe for the service's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// One event of every registered type, each with every field it declares secret filled, is
// stored in one contract's stream; then every way event data leaves the service is read: the
// audit trail, the contract's history, its as-of state and read models, the order views, the
// readiness report, the integration messages and the logs. No secret value appears in any.
func TestNoSecretLeavesThroughAnyOutlet(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		var logs syncBuffer
		env := apptest.Start(t, engine, apptest.Options{Configure: func(c *app.Config) {
			c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}})
		tok := env.StaffToken("redaction-auditor", "operator")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		messages, err := env.App.InvoiceFinalizedEvents(ctx, "redaction-test")
		if err != nil {
			t.Fatal(err)
		}

		codec := schema.Registry()
		samples, err := eventtest.Samples(codec, map[reflect.Type]any{reflect.TypeFor[access.Role](): access.RoleOperator})
		if err != nil {
			t.Fatal(err)
		}
		const cn = "N900000001"
		stream := "contract-" + cn
		var secrets []string
		drafts := make([]event.Draft, len(samples))
		now := env.Clock.Now()
		for i, s := range samples {
			typ, data, err := codec.Encode(s.Event)
			if err != nil {
				t.Fatal(err)
			}
			drafts[i] = event.Draft{ID: uuid.New(), Type: typ, SchemaVersion: 1, EffectiveAt: now, RecordedAt: now,
				Actor: "redaction-sample", Data: data}
			secrets = append(secrets, s.Secrets...)
		}
		if len(secrets) < 15 {
			t.Fatalf("only %d secret values in %d samples", len(secrets), len(samples))
		}
		res, err := env.App.Events.Append(context.Background(), stream, event.Any(), drafts)
		if err != nil {
			t.Fatal(err)
		}
		waitCtx, stop := context.WithTimeout(context.Background(), 20*time.Second)
		defer stop()
		if err := env.App.Runner.WaitFor(waitCtx, res.LastPosition); err != nil {
			t.Fatalf("projections did not reach the samples: %v", err)
		}

		outlets := map[string]string{}
		get := func(name, path string) *apptest.Response {
			r := env.Do("GET", path, tok, nil)
			outlets[name] = string(r.Body)
			return r
		}
		var trail struct{ Items []map[string]any }
		get("audit trail by customer", "/api/v1/audit/events?limit=1000&customerNumber="+cn).JSON(t, &trail)
		if len(trail.Items) < len(samples) {
			t.Fatalf("the audit trail shows %d of the %d samples", len(trail.Items), len(samples))
		}
		get("audit trail by actor", "/api/v1/audit/events?limit=1000&actor=redaction-sample")
		var hist struct{ Items []map[string]any }
		get("history", "/api/v1/contracts/"+cn+"/history").JSON(t, &hist)
		if len(hist.Items) != len(samples) {
			t.Fatalf("the history shows %d of the %d samples", len(hist.Items), len(samples))
		}
		get("as-of", "/api/v1/contracts/"+cn+"/as-of")
		get("contract", "/api/v1/contracts/"+cn)
		get("contract list", "/api/v1/contracts?q="+cn)
		get("order list", "/api/v1/orders?limit=1000")
		var orders struct{ Items []struct{ OrderID string } }
		if err := jsonUnmarshal([]byte(outlets["order list"]), &orders); err != nil {
			t.Fatal(err)
		}
		for _, o := range orders.Items {
			get("order "+o.OrderID, "/api/v1/orders/"+o.OrderID)
		}
		get("unknown contract (an error body)", "/api/v1/contracts/"+cn+"/as-of?effectiveAt=not-a-time")
		outlets["readiness"] = string(env.Do("GET", "/readyz", "", nil).Body)

		// The samples' final invoice goes out as an integration message.
		select {
		case msg := <-messages:
			outlets["integration message"] = fmt.Sprint(msg.Metadata) + string(msg.Payload)
			msg.Ack()
		case <-time.After(20 * time.Second):
			t.Fatal("no integration message for the sample InvoicesFinalized")
		}
		outlets["logs"] = logs.String()

		for name, out := range outlets {
			for _, secret := range secrets {
				if strings.Contains(out, secret) {
					t.Errorf("%s lets out the secret %q:\n%.2000s", name, secret, out)
				}
			}
		}
		// The outlets are not empty: the audit trail and history show the samples' other values.
		for _, s := range samples {
			if len(s.Visible) > 0 && !strings.Contains(outlets["history"], s.Visible[0]) {
				t.Errorf("the history lacks %s's value %q", s.Type, s.Visible[0])
			}
		}
	})
}
