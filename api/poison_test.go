package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/event"
)

// TestAnEventAProjectionCannotApplyStopsItAlone puts into the log, past every check of the API, an
// event a projection cannot apply, and shows what the service does with it end to end: the
// projections that cannot apply it stop there, /readyz says so and names the event, the other
// projections keep working, and commands answer as usual (201, not 202 after the read-your-writes
// wait) because that wait does not wait for a stopped projection.
func TestAnEventAProjectionCannotApplyStopsItAlone(t *testing.T) {
	cases := []struct {
		name string
		// poison returns the stream and data of the OrderAccepted to append, given an order
		// received before.
		poison func(orderID string) (stream, data string)
		// stopped are the projections that cannot apply it.
		stopped []string
	}{
		{
			// The attacker's event: an acceptance day in the year 10000 no Date can be read from.
			// The audit trail decodes order events too (for their customer number), and so do the
			// consultations (which link ticket quotes to the orders buying them): they stop as well.
			name: "undecodable data",
			poison: func(orderID string) (string, string) {
				return "order-" + orderID, fmt.Sprintf(`{"orderId":%q,"customerNumber":"N000000099","acceptedAt":"9999-12-28T07:00:00Z",`+
					`"acceptanceDay":"10000-01-03","earliestDate":"10000-01-13","scheduledDate":"10000-01-13"}`, orderID)
			},
			stopped: []string{"audit", "orders", "consultations"},
		},
		{
			// Data every decoder reads, naming an order whose events live in another stream: the
			// order queue, which folds each order's stream in sequence, cannot apply it; nobody else
			// minds.
			name: "data naming an order of another stream",
			poison: func(orderID string) (string, string) {
				return "order-" + uuid.NewString(), fmt.Sprintf(`{"orderId":%q,"customerNumber":"N000000099","acceptedAt":"2025-07-01T01:00:00Z",`+
					`"acceptanceDay":"2025-07-01","earliestDate":"2025-07-11","scheduledDate":"2025-07-11"}`, orderID)
			},
			stopped: []string{"orders"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
				env := apptest.Start(t, engine, apptest.Options{})
				tok := env.StaffToken("poison", "operator")
				cn, _ := openContract(t, env, tok, nil)
				victim := submit(t, env, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/14", "desiredDate": "2025/8/1"}))

				stream, data := c.poison(victim)
				now := env.Clock.Now()
				res, err := env.App.Events.Append(context.Background(), stream, event.Any(), []event.Draft{{
					ID: uuid.New(), Type: "OrderAccepted", SchemaVersion: 1, EffectiveAt: now, RecordedAt: now,
					Actor: "attacker", Data: json.RawMessage(data),
				}})
				if err != nil {
					t.Fatalf("append the poison: %v", err)
				}

				// /readyz: 503, naming the event each projection that cannot apply it stopped on.
				rd := stoppedOn(t, env, c.stopped)
				for _, p := range rd.Projections {
					wantStopped := slices.Contains(c.stopped, p.Name)
					switch {
					case wantStopped && (p.StoppedOn == nil || p.StoppedOn.Type != "OrderAccepted" || p.StoppedOn.Stream != stream ||
						p.StoppedOn.StreamVersion != res.LastVersion):
						t.Fatalf("projection %s does not name %s@%d: %+v", p.Name, stream, res.LastVersion, p.StoppedOn)
					case !wantStopped && p.StoppedOn != nil:
						t.Fatalf("projection %s stopped too: %+v", p.Name, p.StoppedOn)
					}
				}

				// The next commands answer 201/200 (the wait skips the stopped projections), and
				// what the running projections show reflects them.
				before := getContract(t, env, tok, cn)
				env.Clock.Set(at("2025-08-01 10:00"))
				change := form(t, "change", map[string]any{"customerNumber": cn, "appliedOn": "2025/8/1", "desiredDate": "2025/8/1"})
				r := env.Do("POST", "/api/v1/orders", tok, change)
				if r.Status != http.StatusCreated {
					t.Fatalf("an order after the poison: status %d, want 201: %s", r.Status, r.Body)
				}
				var created orderBody
				r.JSON(t, &created)
				if after := getContract(t, env, tok, cn); after.Version != before.Version+1 {
					t.Fatalf("the contracts view did not reflect the order: version %d → %d", before.Version, after.Version)
				}
				var history struct {
					Items []struct {
						Type string
						Data map[string]any
					}
				}
				must(t, env.Do("GET", "/api/v1/contracts/"+cn+"/history", tok, nil), 200).JSON(t, &history)
				if !slices.ContainsFunc(history.Items, func(it struct {
					Type string
					Data map[string]any
				}) bool {
					return it.Type == "OrderReceived" && it.Data["orderId"] == created.OrderID
				}) {
					t.Fatalf("the order after the poison is not in the contract's history")
				}
				if !slices.Contains(c.stopped, "audit") {
					var trail struct {
						Items []struct{ Data map[string]any }
					}
					must(t, env.Do("GET", "/api/v1/audit/events?type=OrderReceived&customerNumber="+cn, tok, nil), 200).JSON(t, &trail)
					if !slices.ContainsFunc(trail.Items, func(it struct{ Data map[string]any }) bool { return it.Data["orderId"] == created.OrderID }) {
						t.Fatalf("the order after the poison is not in the audit trail: %+v", trail.Items)
					}
				}
				// Staff can still log in: the staff directory projection keeps working.
				env.StaffToken("after-poison", "auditor")
				// And the service still says it is not ready, naming the same event.
				stoppedOn(t, env, c.stopped)
			})
		})
	}
}

// stoppedOn waits until /readyz shows every projection of names stopped on an event, and returns
// its answer, which must be 503.
func stoppedOn(t *testing.T, env *apptest.Env, names []string) readiness {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := env.Do("GET", "/readyz", "", nil)
		var rd readiness
		r.JSON(t, &rd)
		n := 0
		for _, p := range rd.Projections {
			if p.StoppedOn != nil && slices.Contains(names, p.Name) {
				n++
			}
		}
		if n == len(names) {
			if r.Status != http.StatusServiceUnavailable || rd.Status != "notReady" {
				t.Fatalf("/readyz with stopped projections: %d %s", r.Status, r.Body)
			}
			return rd
		}
		if time.Now().After(deadline) {
			t.Fatalf("projections %v not shown stopped within 30 s: %s", names, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
