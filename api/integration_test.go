package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"yorozu/adapters/outbox/natstest"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
)

// With `serve --integration-transport nats`, the final invoices of a closed month reach a real
// NATS JetStream server through the service's relay, and a consumer group reads each once, also
// after the service restarts on the same data.
func TestFinalInvoicesReachNATS(t *testing.T) {
	nats := natstest.Start(t)
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		viaNATS := func(c *app.Config) {
			c.IntegrationTransport = "nats"
			c.NATS.URL = nats.URL
			c.NATS.Stream = "YOROZU_" + string(engine) // one stream per engine: each test its own log
			c.NATS.SubjectPrefix = "yorozu." + string(engine) + "."
		}
		first := startBilling(t, engine, apptest.Options{Configure: viaNATS})
		tok := first.StaffToken("ishikawa", "operator")
		publishPrices(t, first, tok, "2025-04", 2980)
		openContract(t, first, tok, nil)
		openContract(t, first, tok, nil)
		first.Clock.Set(at("2025-09-02 10:00"))
		must(t, first.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil), 200)
		consumer, stopConsumer := context.WithCancel(t.Context())
		events, err := first.App.InvoiceFinalizedEvents(consumer, "accounting")
		if err != nil {
			t.Fatal(err)
		}
		receive := func(want ...string) {
			t.Helper()
			for _, number := range want {
				select {
				case msg := <-events:
					var inv invoiceBody
					if err := json.Unmarshal(msg.Payload, &inv); err != nil {
						t.Fatal(err)
					}
					msg.Ack()
					if inv.InvoiceNumber != number || msg.Metadata.Get("invoiceNumber") != number {
						t.Fatalf("received %s (%v), want %s", inv.InvoiceNumber, msg.Metadata, number)
					}
				case <-time.After(15 * time.Second):
					t.Fatalf("%s never reached NATS", number)
				}
			}
		}
		receive("INV-2025-07-000001", "INV-2025-07-000002")
		stopConsumer() // the consumer goes away with the service; its group's position stays in NATS
		first.Stop()

		second := startBilling(t, engine, apptest.Options{DataDir: first.Config.DataDir, PostgresURL: first.Config.PostgresURL,
			Now: at("2025-09-02 10:00"), Configure: viaNATS})
		tok = second.StaffToken("ishikawa2", "operator")
		must(t, second.Do("POST", "/api/v1/billing/months/2025-08/close", tok, nil), 200)
		events, err = second.App.InvoiceFinalizedEvents(t.Context(), "accounting")
		if err != nil {
			t.Fatal(err)
		}
		receive("INV-2025-08-000001", "INV-2025-08-000002")
		select {
		case msg := <-events:
			t.Fatalf("a message again after the restart: %s", msg.Metadata.Get("invoiceNumber"))
		case <-time.After(500 * time.Millisecond):
		}
	})
}
