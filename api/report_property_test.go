package api_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/cmd/yorozu/agentsim"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/report"
	"yorozu/domain/telemetry"
)

// The report does not depend on the order batches arrive in, nor on how often each is sent:
// three contracts receive the same batches of the same three terminals, in order, shuffled with
// re-sends, and reversed with re-sends; their reports are the same (up to identifiers).
func TestReportIsTheSameWhateverOrderAndDuplication(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startTelemetry(t, engine, apptest.Options{Now: jstTime("2025-07-31 23:58")})
		staff := env.StaffToken("sato", "operator")
		rng := rand.New(rand.NewPCG(7, 11))

		// 24 batches: 8 per terminal, spread over the last 12 days, some straddling into August
		// (a month boundary) and carrying inventories.
		type wireBatch struct {
			host string
			body map[string]any
		}
		var batches []wireBatch
		now := env.Clock.Now()
		for h := range 3 {
			for i := range 8 {
				to := now.Add(-time.Duration(12*24-i*36) * time.Hour).Add(time.Duration(h) * time.Minute)
				if i == 7 {
					to = now.Add(4 * time.Minute) // into August (JST) by the end of the window
				}
				from := to.Add(-15 * time.Minute)
				recs := agentsim.Records(rng, from, to, 40)
				b := map[string]any{"batchId": uuid.NewString(), "sequence": i + 1, "collectedFrom": from.Format(time.RFC3339),
					"collectedTo": to.Format(time.RFC3339), "records": recs}
				if i == 0 || i == 5 {
					b["inventory"] = inventoryOf(fmt.Sprintf("22631.%d", 4000+i*100+h), sw("7-Zip", fmt.Sprintf("23.0%d", i)))
				}
				// Make every batch touch the report's lists.
				three, four := int64(3), int64(4)
				recs = append(recs,
					telemetry.Record{Type: "web", At: from.Add(time.Minute), URL: "https://casino-lucky-star.example.com/" + fmt.Sprint(i), Seconds: &three},
					telemetry.Record{Type: "web", At: from.Add(2 * time.Minute), URL: "https://sub.evil.example/", Seconds: &four})
				b["records"] = recs
				batches = append(batches, wireBatch{host: fmt.Sprintf("PC-%d", h), body: b})
			}
		}
		orders := [][]int{}
		inOrder := make([]int, len(batches))
		for i := range inOrder {
			inOrder[i] = i
		}
		orders = append(orders, inOrder)
		shuffled := append([]int{}, inOrder...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		shuffled = append(shuffled, shuffled[3], shuffled[10], shuffled[3], shuffled[20])
		orders = append(orders, shuffled)
		reversed := make([]int, 0, len(batches)*2)
		for i := len(batches) - 1; i >= 0; i-- {
			reversed = append(reversed, i)
			if i%3 == 0 {
				reversed = append(reversed, i)
			}
		}
		orders = append(orders, reversed)

		var want string
		for k, order := range orders {
			cn := fmt.Sprintf("N00000001%d", k)
			seedContract(t, env, cn, 0)
			tok := enrollmentToken(t, env, staff, cn)
			agents := map[string]enrolled{}
			ids := map[string]string{}
			for h := range 3 {
				host := fmt.Sprintf("PC-%d", h)
				agents[host] = enroll(t, env, tok, host, "HW-"+host)
				ids[agents[host].TerminalID] = host
			}
			for _, i := range order {
				uploadOK(t, env, agents[batches[i].host].AgentToken, batches[i].body)
			}
			env.Clock.Set(jstTime("2025-08-01 00:10")) // August has begun: its report exists
			for _, month := range []string{"2025-07", "2025-08"} {
				rep := getReport(t, env, staff, cn, month)
				if len(rep.Sections.WebTop30) == 0 || rep.Terminals != 3 {
					t.Fatalf("the %s report of %s is empty: %+v", month, cn, rep)
				}
				got := normalize(t, rep, cn, ids)
				if k == 0 {
					want += got
					continue
				}
				if !strings.Contains(want, got) {
					t.Fatalf("order %d gives another %s report:\n%s\nwant\n%s", k, month, got, want)
				}
			}
			env.Clock.Set(now)
			if k == 0 && !strings.Contains(want, "gambling") {
				t.Fatalf("the reports hold no harmful access: %s", want)
			}
		}
	})
}

// normalize renders a report without what differs between contracts: its customer number,
// terminal IDs and generation time.
func normalize(t *testing.T, r report.Report, cn string, ids map[string]string) string {
	t.Helper()
	r.GeneratedAt = time.Time{}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(raw), cn, "CUSTOMER")
	for id, host := range ids {
		s = strings.ReplaceAll(s, id, "ID-"+host)
	}
	return s + "\n"
}
