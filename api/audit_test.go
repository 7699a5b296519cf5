package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"yorozu/cmd/yorozu/app/apptest"
)

type trailEntry struct {
	EventID        string `json:"eventId"`
	Type           string `json:"type"`
	Stream         string `json:"stream"`
	StreamVersion  int    `json:"streamVersion"`
	Position       int    `json:"position"`
	Actor          string `json:"actor"`
	CustomerNumber string `json:"customerNumber"`
}

// trail reads every page of an audit query, limit entries at a time.
func trail(t *testing.T, env *apptest.Env, tok string, q url.Values, limit int) []trailEntry {
	t.Helper()
	q.Set("limit", itoa(limit))
	var all []trailEntry
	for pages := 0; ; pages++ {
		var page struct {
			Items []trailEntry `json:"items"`
			Next  *string      `json:"next"`
		}
		must(t, env.Do("GET", "/api/v1/audit/events?"+q.Encode(), tok, nil), http.StatusOK).JSON(t, &page)
		if len(page.Items) > limit {
			t.Fatalf("page of %d entries with limit %d", len(page.Items), limit)
		}
		all = append(all, page.Items...)
		if page.Next == nil {
			return all
		}
		if pages > 1000 {
			t.Fatal("the trail does not end")
		}
		q.Set("after", *page.Next)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// The trail files an event under the customer it names, or its stream's: a new order's events
// before its acceptance (which gives it the customer number) belong to the customer too, and the
// customer-number register's event names its own customer; the engine's view of the trail pages
// in log order without gaps or repeats.
func TestAuditTrailFilesEventsUnderTheirCustomer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		op := env.StaffToken("suzuki", "operator")
		auditor := env.StaffToken("kato", "auditor")
		first, firstOrder := openContract(t, env, op, nil)
		second, _ := openContract(t, env, op, nil)
		must(t, env.Do("GET", "/api/v1/contracts/"+first, op, nil), http.StatusOK)

		got := trail(t, env, auditor, url.Values{"customerNumber": {first}}, 2)
		var types []string
		for i, e := range got {
			if e.CustomerNumber != first {
				t.Fatalf("entry %d of %s's trail is %s's: %+v", i, first, e.CustomerNumber, e)
			}
			if i > 0 && e.Position <= got[i-1].Position {
				t.Fatalf("trail not in log order at %d: %+v after %+v", i, e, got[i-1])
			}
			types = append(types, e.Type)
		}
		for _, want := range []string{"OrderReceived", "CustomerNumberIssued", "OrderAccepted", "OpeningNoticeSent",
			"ContractOpened", "OrderCompleted", "PersonalDataRead"} {
			if !slices.Contains(types, want) {
				t.Errorf("%s's trail lacks %s: %v", first, want, types)
			}
		}
		if got[0].Type != "OrderReceived" || got[0].Stream != "order-"+firstOrder {
			t.Errorf("the trail starts with %+v, want the order received before it had a customer number", got[0])
		}

		// Every event of the log is in the unfiltered trail exactly once, whatever the page size.
		everything := trail(t, env, auditor, url.Values{}, 7)
		seen := map[string]bool{}
		perCustomer := map[string]int{}
		for _, e := range everything {
			if seen[e.EventID] {
				t.Fatalf("event %s listed twice", e.EventID)
			}
			seen[e.EventID] = true
			perCustomer[e.CustomerNumber]++
		}
		if perCustomer[first] != len(got) {
			t.Errorf("%d entries of %s in the whole trail, %d in its filtered trail", perCustomer[first], first, len(got))
		}
		if perCustomer[second] == 0 || perCustomer[""] == 0 {
			t.Errorf("entries per customer: %v", perCustomer)
		}

		// The other filters combine with the customer's.
		views := trail(t, env, auditor, url.Values{"customerNumber": {first}, "type": {"PersonalDataRead"}, "actor": {"suzuki"}}, 100)
		// suzuki read the order (while opening the contract) and the contract itself.
		if len(views) != 2 {
			t.Errorf("views of %s by suzuki: %+v", first, views)
		}
		for _, v := range views {
			if v.Stream != "personaldata-"+first || v.Actor != "suzuki" {
				t.Errorf("a view of %s by suzuki: %+v", first, v)
			}
		}
		stream := trail(t, env, auditor, url.Values{"stream": {"contract-" + second}}, 100)
		if len(stream) == 0 || stream[0].StreamVersion != 1 || stream[0].CustomerNumber != second {
			t.Errorf("stream filter: %+v", stream)
		}
		if r := env.Do("GET", "/api/v1/audit/events?after=bogus", auditor, nil); r.Status != http.StatusBadRequest {
			t.Errorf("a made-up cursor: %d %s", r.Status, r.Body)
		}
	})
}
