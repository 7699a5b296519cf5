package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/event"
)

type readRecord struct {
	Stream string
	Actor  string
	Data   struct {
		Reader, What, CustomerNumber, OrderID, Query string
		Shown                                        []string
	}
}

// readsSince decodes the PersonalDataRead events appended after pos.
func readsSince(t *testing.T, env *apptest.Env, pos event.Position) []readRecord {
	t.Helper()
	var out []readRecord
	for _, rec := range readAll(t, env, pos) {
		if rec.Type != "PersonalDataRead" {
			t.Fatalf("a read appended %s to %s", rec.Type, rec.Stream)
		}
		r := readRecord{Stream: rec.Stream, Actor: rec.Actor}
		if err := jsonUnmarshal(rec.Data, &r.Data); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// Reads of personal data are recorded, each request once, with the reader as actor: one order,
// the order queue, a contract search, one contract, its history and as-of state.
func TestPersonalDataReadsAreRecorded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		op := env.StaffToken("reader-op", "operator")
		auditor := env.StaffToken("reader-au", "auditor")
		cn, opened := openContract(t, env, op, nil)
		pending := submit(t, env, op, form(t, "new", map[string]any{"appliedOn": "2025/7/14", "desiredDate": "2025/7/31"}))

		cases := []struct {
			name, token, path string
			want              func(r readRecord) bool
			stream            string
		}{
			{"an order without a customer number", auditor, "/api/v1/orders/" + pending,
				func(r readRecord) bool {
					return r.Data.What == "order" && r.Data.OrderID == pending && r.Data.CustomerNumber == ""
				},
				"personaldatareads-reader-au"},
			{"an order of a customer", op, "/api/v1/orders/" + opened,
				func(r readRecord) bool { return r.Data.What == "order" && r.Data.CustomerNumber == cn },
				"personaldata-" + cn},
			{"the order queue", auditor, "/api/v1/orders?type=new",
				func(r readRecord) bool {
					return r.Data.What == "orderList" && r.Data.Query == "type=new" && slices.Contains(r.Data.Shown, cn) && slices.Contains(r.Data.Shown, pending)
				},
				"personaldatareads-reader-au"},
			{"a contract search", op, "/api/v1/contracts?q=" + url.QueryEscape("大和"),
				func(r readRecord) bool {
					return r.Data.What == "contractList" && strings.Contains(r.Data.Query, "q=") && slices.Equal(r.Data.Shown, []string{cn})
				},
				"personaldatareads-reader-op"},
			{"one contract", auditor, "/api/v1/contracts/" + cn,
				func(r readRecord) bool { return r.Data.What == "contract" && r.Data.CustomerNumber == cn }, "personaldata-" + cn},
			{"its history", auditor, "/api/v1/contracts/" + cn + "/history",
				func(r readRecord) bool { return r.Data.What == "history" }, "personaldata-" + cn},
			{"its as-of state", auditor, "/api/v1/contracts/" + cn + "/as-of?effectiveAt=2025-08-01",
				func(r readRecord) bool { return r.Data.What == "asOf" && r.Data.Query == "effectiveAt=2025-08-01" }, "personaldata-" + cn},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := head(t, env)
				must(t, env.Do("GET", tc.path, tc.token, nil), 200)
				reads := readsSince(t, env, before)
				reader := map[string]string{op: "reader-op", auditor: "reader-au"}[tc.token]
				if len(reads) != 1 || reads[0].Actor != reader || reads[0].Data.Reader != reader || reads[0].Stream != tc.stream || !tc.want(reads[0]) {
					t.Fatalf("recorded %+v, want one read by %s in %s", reads, reader, tc.stream)
				}
			})
		}
		// The reads of one customer's data are filed under it in the audit trail.
		var trail struct {
			Items []struct{ Type, Actor string }
		}
		must(t, env.Do("GET", "/api/v1/audit/events?customerNumber="+cn+"&type=PersonalDataRead", auditor, nil), 200).JSON(t, &trail)
		if len(trail.Items) < 4 {
			t.Fatalf("reads of %s in the audit trail: %+v", cn, trail.Items)
		}
		// Lists read at once by several staff all succeed, each recorded once.
		before := head(t, env)
		var wg sync.WaitGroup
		statuses := make([]int, 12)
		for i := range statuses {
			tok := []string{op, auditor}[i%2]
			path := []string{"/api/v1/orders", "/api/v1/contracts?q=N"}[i%2]
			wg.Go(func() { statuses[i] = env.Do("GET", path, tok, nil).Status })
		}
		wg.Wait()
		for i, st := range statuses {
			if st != http.StatusOK {
				t.Fatalf("concurrent list read %d: %d", i, st)
			}
		}
		if n := len(readsSince(t, env, before)); n != len(statuses) {
			t.Fatalf("%d concurrent list reads recorded %d times", len(statuses), n)
		}
	})
}

// A read that cannot be recorded fails, and sends none of the data: here the database refuses
// every append of a read.
func TestReadFailsWhenItCannotBeRecorded(t *testing.T) {
	env := apptest.Start(t, apptest.Postgres, apptest.Options{})
	op := env.StaffToken("unrecorded", "operator")
	cn, id := openContract(t, env, op, nil)
	conn, err := pgx.Connect(context.Background(), env.Config.PostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `
		CREATE FUNCTION refuse_reads() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.stream LIKE 'personaldata%' THEN RAISE EXCEPTION 'reads may not be recorded'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_reads BEFORE INSERT ON events_plain FOR EACH ROW EXECUTE FUNCTION refuse_reads();`); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/contracts/" + cn, "/api/v1/contracts/" + cn + "/history", "/api/v1/orders/" + id,
		"/api/v1/orders", "/api/v1/contracts?q=" + url.QueryEscape("大和")} {
		r := env.Do("GET", path, op, nil)
		if r.Status < 500 || strings.Contains(string(r.Body), "大和") || strings.Contains(string(r.Body), "reads may not") {
			t.Fatalf("%s while reads cannot be recorded: %d %s", path, r.Status, r.Body)
		}
	}
	// Other work goes on.
	must(t, env.Do("GET", "/api/v1/audit/verify", op, nil), 200)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
