package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/encoding/japanese"

	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
)

// The billing tests drive contracts through real orders (POST /api/v1/orders, accept, complete)
// and check the invoices against amounts computed by hand from docs/billing.md and the price lists below.

const (
	testIssuer       = "株式会社YOROZU"
	testRegistration = "T1234567890123"
)

func startBilling(t *testing.T, engine apptest.Engine, opts apptest.Options) *apptest.Env {
	t.Helper()
	configure := opts.Configure
	opts.Configure = func(c *app.Config) {
		c.Issuer, c.RegistrationNumber = testIssuer, testRegistration
		if configure != nil {
			configure(c)
		}
	}
	return apptest.Start(t, engine, opts)
}

type invoiceLine struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unitPrice"`
	Amount    int64  `json:"amount"`
	Note      string `json:"note"`
	ForMonth  string `json:"forMonth,omitempty"`
}

type invoiceBody struct {
	CustomerNumber string        `json:"customerNumber"`
	Month          string        `json:"month"`
	Status         string        `json:"status"`
	InvoiceNumber  string        `json:"invoiceNumber"`
	Lines          []invoiceLine `json:"lines"`
	Subtotal       int64         `json:"subtotal"`
	Tax            int64         `json:"tax"`
	Total          int64         `json:"total"`
	Issuer         struct{ Name, RegistrationNumber string }
	Recipient      struct{ Name, NameKana, Department, PostalCode, Address string }
	UsagePeriod    struct{ From, To string }
	TaxByRate      []struct {
		Rate          string `json:"rate"`
		TaxableAmount int64  `json:"taxableAmount"`
		Tax           int64  `json:"tax"`
	} `json:"taxByRate"`
}

type invoiceList struct {
	Items []invoiceBody `json:"items"`
	Next  *string       `json:"next"`
}

func publishPrices(t *testing.T, env *apptest.Env, tok, from string, base int) {
	t.Helper()
	must(t, env.Do("POST", "/api/v1/billing/price-lists", tok, map[string]any{
		"effectiveFrom": from, "baseMenu": base, "healthCheckIdAddition": 198, "webFiltering": 165,
		"securityTicket": 11000, "taxRate": "0.10",
	}), 201)
}

func getInvoice(t *testing.T, env *apptest.Env, tok, cn, month string) (invoiceBody, int) {
	t.Helper()
	r := env.Do("GET", "/api/v1/billing/invoices/"+cn+"/"+month, tok, nil)
	var inv invoiceBody
	if r.Status == http.StatusOK {
		r.JSON(t, &inv)
	} else if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("invoice %s %s: %d without a problem: %s", cn, month, r.Status, r.Body)
	}
	return inv, r.Status
}

// monthly and oneTime build the lines docs/billing.md names.
func base(price int64) invoiceLine {
	return invoiceLine{Name: "基本メニュー利用料", Kind: "monthly", Quantity: 1, UnitPrice: price, Amount: price}
}

func ids(month, n int) invoiceLine {
	return invoiceLine{Name: "ヘルスチェックレポート（ＩＤ追加）利用料", Kind: "monthly", Quantity: n, UnitPrice: 198,
		Amount: int64(n) * 198, Note: fmt.Sprintf("%d月ご利用分です。利用IDは%dです", month, n)}
}

func webFiltering(month, n int) invoiceLine {
	return invoiceLine{Name: "Ｗｅｂフィルタリング利用料", Kind: "monthly", Quantity: n, UnitPrice: 165,
		Amount: int64(n) * 165, Note: fmt.Sprintf("%d月ご利用分です。利用IDは%dです", month, n)}
}

func tickets(month, n int) invoiceLine {
	return invoiceLine{Name: "セキュリティチケット利用料", Kind: "oneTime", Quantity: n, UnitPrice: 11000,
		Amount: int64(n) * 11000, Note: fmt.Sprintf("%d月ご利用分です。購入数は%dです", month, n)}
}

func adjustment(year, month int, amount int64) invoiceLine {
	return invoiceLine{Name: fmt.Sprintf("調整（%d年%d月分）", year, month), Kind: "adjustment", Quantity: 1,
		UnitPrice: amount, Amount: amount, ForMonth: fmt.Sprintf("%d-%02d", year, month)}
}

// wantInvoice checks an invoice's lines and totals against the hand-computed ones.
func wantInvoice(t *testing.T, inv invoiceBody, status string, lines []invoiceLine, subtotal, tax int64) {
	t.Helper()
	if inv.Status != status || !reflect.DeepEqual(inv.Lines, lines) || inv.Subtotal != subtotal || inv.Tax != tax || inv.Total != subtotal+tax {
		t.Fatalf("invoice %s %s:\n got %s %+v subtotal %d tax %d total %d\nwant %s %+v subtotal %d tax %d total %d",
			inv.CustomerNumber, inv.Month, inv.Status, inv.Lines, inv.Subtotal, inv.Tax, inv.Total,
			status, lines, subtotal, tax, subtotal+tax)
	}
	if len(inv.TaxByRate) != 1 || inv.TaxByRate[0].Rate != "0.1" || inv.TaxByRate[0].TaxableAmount != subtotal || inv.TaxByRate[0].Tax != tax {
		t.Fatalf("tax by rate: %+v", inv.TaxByRate)
	}
}

// changeOrder takes a change order through acceptance (at acceptedAt) and completion (at
// completeAt) and returns the date it took effect.
func changeOrder(t *testing.T, env *apptest.Env, tok string, set map[string]any, acceptedAt, completeAt string) string {
	t.Helper()
	id := submit(t, env, tok, form(t, "change", set))
	must(t, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": acceptedAt}), 200)
	env.Clock.Set(at(completeAt))
	var done orderBody
	must(t, env.Do("POST", "/api/v1/orders/"+id+"/complete", tok, nil), 200).JSON(t, &done)
	if done.Status != "completed" {
		t.Fatalf("order not completed: %+v", done)
	}
	return date(done.CompletedOn)
}

// noChanges is the part of a change form that changes nothing; a test sets what it changes.
func noChanges(cn string) map[string]any {
	return map[string]any{
		"customerNumber": cn, "securityContact": nil, "securityReportPassword": nil,
		"healthCheckIdChange": nil, "idsAfterChange": nil, "webFiltering": nil, "securityTicketCount": nil,
	}
}

func TestInvoicesFollowTheContractMonthByMonth(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		tok := env.StaffToken("yoshida", "operator")
		publishPrices(t, env, tok, "2025-04", 2980)
		publishPrices(t, env, tok, "2025-10", 3280)

		// Opened 2025-07-14 with the basic menu only.
		cn, _ := openContract(t, env, tok, map[string]any{"healthCheckIdAddition": "notUse", "additionalIds": nil,
			"webFiltering": "notUse", "securityTicketApplication": "no", "securityTicketCount": nil})

		// From 2025-08-14: 10 additional IDs, web filtering on all 15 IDs, and 3 tickets.
		env.Clock.Set(at("2025-08-01 10:00"))
		gain := noChanges(cn)
		for k, v := range map[string]any{"appliedOn": "2025/8/1", "desiredDate": "2025/8/1",
			"changes":             map[string]any{"healthCheckIds": true, "webFiltering": true, "securityTickets": true, "securityContact": false},
			"healthCheckIdChange": "add", "idsAfterChange": 10, "webFiltering": "use", "securityTicketCount": 3} {
			gain[k] = v
		}
		if on := changeOrder(t, env, tok, gain, "2025-08-01T10:00:00+09:00", "2025-08-14 09:00"); on != "2025-08-14" {
			t.Fatalf("change took effect on %s", on)
		}

		// Cancelled on 2025-10-20.
		env.Clock.Set(at("2025-10-01 10:00"))
		cancelID := submit(t, env, tok, form(t, "cancel", map[string]any{"customerNumber": cn, "appliedOn": "2025/10/1", "desiredDate": "2025/10/20"}))
		must(t, env.Do("POST", "/api/v1/orders/"+cancelID+"/accept", tok, map[string]string{"acceptedAt": "2025-10-01T10:00:00+09:00"}), 200)
		env.Clock.Set(at("2025-10-20 09:00"))
		runDue(t, env)

		// July, the opening month: nothing charged (no tickets), so no invoice.
		if _, status := getInvoice(t, env, tok, cn, "2025-07"); status != http.StatusNotFound {
			t.Fatalf("July: status %d, want 404", status)
		}
		// August: the basic menu (first month after the opening) and the 3 tickets bought in it;
		// the options began in August and are first charged in September.
		aug, _ := getInvoice(t, env, tok, cn, "2025-08")
		wantInvoice(t, aug, "draft", []invoiceLine{base(2980), tickets(8, 3)}, 2980+33000, 298+3300)
		// September: everything, web filtering on all 15 IDs.
		sep, _ := getInvoice(t, env, tok, cn, "2025-09")
		wantInvoice(t, sep, "draft", []invoiceLine{base(2980), ids(9, 10), webFiltering(9, 15)}, 7435, 743)
		// October, the termination month, is charged in full, at the October prices.
		oct, _ := getInvoice(t, env, tok, cn, "2025-10")
		wantInvoice(t, oct, "draft", []invoiceLine{base(3280), ids(10, 10), webFiltering(10, 15)}, 7735, 773)
		// November: terminated, nothing.
		if _, status := getInvoice(t, env, tok, cn, "2025-11"); status != http.StatusNotFound {
			t.Fatalf("November: status %d, want 404", status)
		}

		// The invoice names the issuer, the recipient and the usage period (docs/billing.md).
		if sep.Issuer.Name != testIssuer || sep.Issuer.RegistrationNumber != testRegistration || sep.InvoiceNumber != "" ||
			sep.Recipient.Name != "株式会社大和商事" || sep.Recipient.Department != "経理部" || sep.Recipient.PostalCode != "1000005" ||
			sep.Recipient.Address != "東京都千代田区丸の内一丁目１番１号　丸の内パークビルディング１２階" ||
			sep.UsagePeriod.From != "2025-09-01" || sep.UsagePeriod.To != "2025-09-30" {
			t.Fatalf("September invoice header: %+v", sep)
		}
		// The month listing holds the same draft.
		var list invoiceList
		must(t, env.Do("GET", "/api/v1/billing/invoices?month=2025-09", tok, nil), 200).JSON(t, &list)
		if len(list.Items) != 1 || !reflect.DeepEqual(list.Items[0], sep) || list.Next != nil {
			t.Fatalf("September listing: %+v", list)
		}
	})
}

func TestCloseThenBackDatedChangeAdjustsTheNextInvoice(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		tok := env.StaffToken("hayashi", "operator")
		feedKey := env.APIKey("billing-system", "billing")
		publishPrices(t, env, tok, "2025-04", 2980)
		events, err := env.App.InvoiceFinalizedEvents(t.Context(), "billing-test")
		if err != nil {
			t.Fatal(err)
		}
		// Opened 2025-07-14 with 15 additional IDs, web filtering on 20 IDs and 2 tickets.
		cn, _ := openContract(t, env, tok, nil)

		// July is closed in August; August itself has not ended.
		env.Clock.Set(at("2025-08-05 10:00"))
		r := must(t, env.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil), 200)
		var closure struct {
			Month, Status, FirstInvoiceNumber, LastInvoiceNumber string
			InvoiceCount                                         int
			Total                                                int64
		}
		r.JSON(t, &closure)
		if closure.Status != "closed" || closure.InvoiceCount != 1 || closure.FirstInvoiceNumber != "INV-2025-07-000001" || closure.Total != 24200 {
			t.Fatalf("July close: %s", r.Body)
		}
		before := head(t, env)
		again := must(t, env.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil), 200)
		if !bytes.Equal(again.Body, r.Body) || head(t, env) != before {
			t.Fatalf("closing July again: %s (first %s), head %d → %d", again.Body, r.Body, before, head(t, env))
		}
		jul, _ := getInvoice(t, env, tok, cn, "2025-07")
		wantInvoice(t, jul, "final", []invoiceLine{tickets(7, 2)}, 22000, 2200)
		if jul.InvoiceNumber != "INV-2025-07-000001" || jul.Issuer.RegistrationNumber != testRegistration {
			t.Fatalf("July final: %+v", jul)
		}
		refusedClose := env.Do("POST", "/api/v1/billing/months/2025-08/close", tok, nil)
		if refusedClose.Status != http.StatusConflict || !strings.Contains(string(refusedClose.Body), "month-not-ended") {
			t.Fatalf("closing the running month: %d %s", refusedClose.Status, refusedClose.Body)
		}

		env.Clock.Set(at("2025-09-02 10:00"))
		must(t, env.Do("POST", "/api/v1/billing/months/2025-08/close", tok, nil), 200)
		augRaw := must(t, env.Do("GET", "/api/v1/billing/invoices/"+cn+"/2025-08", tok, nil), 200).Body
		var aug invoiceBody
		if err := json.Unmarshal(augRaw, &aug); err != nil {
			t.Fatal(err)
		}
		wantInvoice(t, aug, "final", []invoiceLine{base(2980), ids(8, 15), webFiltering(8, 20)}, 9250, 925)

		// On 09-02 staff record a change agreed in August: 30 IDs from 08-19, in the closed month.
		raise := noChanges(cn)
		for k, v := range map[string]any{"appliedOn": "2025/8/6", "desiredDate": "2025/8/6",
			"changes":             map[string]any{"healthCheckIds": true, "webFiltering": false, "securityTickets": false, "securityContact": false},
			"healthCheckIdChange": "add", "idsAfterChange": 30} {
			raise[k] = v
		}
		if on := changeOrder(t, env, tok, raise, "2025-08-06T10:00:00+09:00", "2025-09-02 11:00"); on != "2025-08-19" {
			t.Fatalf("back-dated change took effect on %s", on)
		}

		// The final August invoice is untouched...
		if after := must(t, env.Do("GET", "/api/v1/billing/invoices/"+cn+"/2025-08", tok, nil), 200).Body; !bytes.Equal(after, augRaw) {
			t.Fatalf("the final August invoice changed:\n%s\n%s", augRaw, after)
		}
		// ...and September, the earliest open month, carries the difference: August recomputed
		// is 2980 + 30×198 + 35×165 = 14695, billed 9250, so 5445, taxed with the monthly lines.
		sep, _ := getInvoice(t, env, tok, cn, "2025-09")
		wantInvoice(t, sep, "draft", []invoiceLine{base(2980), ids(9, 30), webFiltering(9, 35), adjustment(2025, 8, 5445)},
			2980+5940+5775+5445, 2014)

		// Closing September finalizes the adjustment; October owes none.
		env.Clock.Set(at("2025-10-02 10:00"))
		must(t, env.Do("POST", "/api/v1/billing/months/2025-09/close", tok, nil), 200)
		sepFinal, _ := getInvoice(t, env, tok, cn, "2025-09")
		wantInvoice(t, sepFinal, "final", sep.Lines, sep.Subtotal, sep.Tax)
		oct, _ := getInvoice(t, env, tok, cn, "2025-10")
		wantInvoice(t, oct, "draft", []invoiceLine{base(2980), ids(10, 30), webFiltering(10, 35)}, 14695, 1469)

		// The feed gives the final invoices in finalization order; a cursor read twice gives the
		// same invoices; at the end the cursor stays put until more are finalized.
		var first, second, again2, end invoiceList
		must(t, env.Do("GET", "/api/v1/billing/feed?limit=2", feedKey, nil), 200).JSON(t, &first)
		if len(first.Items) != 2 || first.Items[0].InvoiceNumber != "INV-2025-07-000001" || first.Items[1].InvoiceNumber != "INV-2025-08-000001" || first.Next == nil {
			t.Fatalf("feed page 1: %+v", first)
		}
		page2 := env.Do("GET", "/api/v1/billing/feed?limit=2&after="+*first.Next, feedKey, nil)
		must(t, page2, 200).JSON(t, &second)
		if len(second.Items) != 1 || second.Items[0].InvoiceNumber != "INV-2025-09-000001" || second.Next == nil {
			t.Fatalf("feed page 2: %+v", second)
		}
		must(t, env.Do("GET", "/api/v1/billing/feed?limit=2&after="+*first.Next, feedKey, nil), 200).JSON(t, &again2)
		if !reflect.DeepEqual(again2, second) {
			t.Fatalf("the same cursor gave other invoices:\n%+v\n%+v", second, again2)
		}
		must(t, env.Do("GET", "/api/v1/billing/feed?after="+*second.Next, feedKey, nil), 200).JSON(t, &end)
		if len(end.Items) != 0 || end.Next == nil || *end.Next != *second.Next {
			t.Fatalf("feed at its end: %+v", end)
		}

		// Each final invoice was published once, in order, as an InvoiceFinalized integration event.
		for _, want := range []string{"INV-2025-07-000001", "INV-2025-08-000001", "INV-2025-09-000001"} {
			select {
			case msg := <-events:
				var inv invoiceBody
				if err := json.Unmarshal(msg.Payload, &inv); err != nil {
					t.Fatal(err)
				}
				msg.Ack()
				if msg.Metadata.Get("name") != "InvoiceFinalized" || inv.InvoiceNumber != want || msg.Metadata.Get("invoiceNumber") != want || inv.Status != "final" {
					t.Fatalf("integration event %s: %+v %s", want, msg.Metadata, msg.Payload)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no InvoiceFinalized for %s", want)
			}
		}
		select {
		case msg := <-events:
			t.Fatalf("an extra integration event: %s", msg.Payload)
		case <-time.After(300 * time.Millisecond):
		}
	})
}

func TestBillingRoles(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		operator := env.StaffToken("kimura", "operator")
		auditor := env.StaffToken("shimizu", "auditor")
		billingKey := env.APIKey("billing-system", "billing")
		publishPrices(t, env, operator, "2025-04", 2980)
		cn, _ := openContract(t, env, operator, nil)
		env.Clock.Set(at("2025-08-05 10:00"))

		for _, tok := range []string{operator, auditor, billingKey} {
			for _, path := range []string{
				"/api/v1/billing/invoices?month=2025-08", "/api/v1/billing/invoices/" + cn + "/2025-08",
				"/api/v1/billing/invoices.csv?month=2025-08", "/api/v1/billing/feed", "/api/v1/billing/price-lists",
			} {
				if r := env.Do("GET", path, tok, nil); r.Status != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
				}
			}
		}
		for name, tok := range map[string]string{"billing key": billingKey, "auditor": auditor} {
			t.Run(name+" cannot close a month or publish prices", func(t *testing.T) {
				refused(t, env, head(t, env), env.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil), http.StatusForbidden)
				refused(t, env, head(t, env), env.Do("POST", "/api/v1/billing/price-lists", tok, map[string]any{"effectiveFrom": "2025-04"}), http.StatusForbidden)
			})
		}
		t.Run("billing key cannot read the audit trail", func(t *testing.T) {
			refused(t, env, head(t, env), env.Do("GET", "/api/v1/audit/events", billingKey, nil), http.StatusForbidden)
		})
		t.Run("no token", func(t *testing.T) {
			refused(t, env, head(t, env), env.Do("GET", "/api/v1/billing/feed", "", nil), http.StatusUnauthorized)
		})
		must(t, env.Do("POST", "/api/v1/billing/months/2025-07/close", operator, nil), 200)
	})
}

func TestCloseRefusals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		tok := env.StaffToken("sakai", "operator")
		openContract(t, env, tok, nil)

		problem := func(r *apptest.Response, status int, slug string) {
			t.Helper()
			if r.Status != status || !strings.Contains(r.Map(t)["type"].(string), slug) {
				t.Fatalf("status %d, want %d %s: %s", r.Status, status, slug, r.Body)
			}
		}
		// A running month (JST: 2025-07-31 23:59 is still July).
		env.Clock.Set(time.Date(2025, 7, 31, 23, 59, 0, 0, jst))
		publishPrices(t, env, tok, "2025-09", 2980)
		before := head(t, env)
		problem(env.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil), http.StatusConflict, "month-not-ended")
		// A month no price list covers (the only list starts in September).
		env.Clock.Set(at("2025-08-01 00:00"))
		problem(env.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil), http.StatusConflict, "no-price-list")
		// Drafts of such a month say so too.
		problem(env.Do("GET", "/api/v1/billing/invoices/N000000001/2025-07", tok, nil), http.StatusConflict, "no-price-list")
		problem(env.Do("POST", "/api/v1/billing/months/2025-13/close", tok, nil), http.StatusUnprocessableEntity, "validation")
		if head(t, env) != before {
			t.Fatal("a refused close appended events")
		}
		// Months may be closed in any order: September before August.
		env.Clock.Set(at("2025-10-01 00:00"))
		must(t, env.Do("POST", "/api/v1/billing/months/2025-09/close", tok, nil), 200)
		publishPrices(t, env, tok, "2025-07", 2980)
		must(t, env.Do("POST", "/api/v1/billing/months/2025-08/close", tok, nil), 200)
	})
}

func TestPriceListsAreValidatedAndListed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		tok := env.StaffToken("okada", "operator")
		before := head(t, env)
		r := must(t, env.Do("POST", "/api/v1/billing/price-lists", tok, map[string]any{
			"effectiveFrom": "2025-13", "baseMenu": -1, "healthCheckIdAddition": "198", "webFiltering": 100000001, "taxRate": "1.5",
		}), 422)
		var p struct {
			Errors []struct{ Field, Code string }
		}
		r.JSON(t, &p)
		got := map[string]string{}
		for _, e := range p.Errors {
			got[e.Field] = e.Code
		}
		want := map[string]string{"effectiveFrom": "invalidFormat", "baseMenu": "outOfRange", "healthCheckIdAddition": "invalidFormat",
			"webFiltering": "outOfRange", "securityTicket": "required", "taxRate": "outOfRange"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("field errors %v, want %v", got, want)
		}
		if head(t, env) != before {
			t.Fatal("an invalid price list was stored")
		}

		publishPrices(t, env, tok, "2025-04", 2980)
		// Without taxRate the list gets the default 10%.
		must(t, env.Do("POST", "/api/v1/billing/price-lists", tok, map[string]any{
			"effectiveFrom": "2025-10", "baseMenu": 3280, "healthCheckIdAddition": 198, "webFiltering": 165, "securityTicket": 11000,
		}), 201)
		var lists struct {
			Items []struct {
				EffectiveFrom string `json:"effectiveFrom"`
				BaseMenu      int    `json:"baseMenu"`
				TaxRate       string `json:"taxRate"`
				Number        int    `json:"number"`
			}
		}
		must(t, env.Do("GET", "/api/v1/billing/price-lists", tok, nil), 200).JSON(t, &lists)
		if len(lists.Items) != 2 || lists.Items[0].EffectiveFrom != "2025-04" || lists.Items[1].BaseMenu != 3280 ||
			lists.Items[1].TaxRate != "0.10" || lists.Items[1].Number != 2 {
			t.Fatalf("price lists: %+v", lists.Items)
		}
	})
}

func TestInvoiceListingPagesAndCSV(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		tok := env.StaffToken("ishii", "operator")
		publishPrices(t, env, tok, "2025-04", 2980)
		var cns []string
		for range 3 {
			cn, _ := openContract(t, env, tok, nil)
			cns = append(cns, cn)
		}
		env.Clock.Set(at("2025-09-02 10:00"))

		pages := func(month string) []string {
			var got []string
			for after := ""; ; {
				var l invoiceList
				must(t, env.Do("GET", "/api/v1/billing/invoices?month="+month+"&limit=2&after="+after, tok, nil), 200).JSON(t, &l)
				for _, inv := range l.Items {
					got = append(got, inv.CustomerNumber+" "+inv.Status+" "+inv.InvoiceNumber)
				}
				if l.Next == nil {
					return got
				}
				after = *l.Next
			}
		}
		if got := pages("2025-08"); len(got) != 3 || !strings.HasSuffix(got[2], " draft ") {
			t.Fatalf("draft pages: %v", got)
		}
		must(t, env.Do("POST", "/api/v1/billing/months/2025-08/close", tok, nil), 200)
		want := []string{cns[0] + " final INV-2025-08-000001", cns[1] + " final INV-2025-08-000002", cns[2] + " final INV-2025-08-000003"}
		if got := pages("2025-08"); !reflect.DeepEqual(got, want) {
			t.Fatalf("final pages: %v, want %v", got, want)
		}
		must(t, env.Do("GET", "/api/v1/billing/invoices?month=2025-8", tok, nil), 422)
		must(t, env.Do("GET", "/api/v1/billing/invoices", tok, nil), 422)

		utf8 := must(t, env.Do("GET", "/api/v1/billing/invoices.csv?month=2025-08", tok, nil), 200)
		if ct := utf8.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("content type %q", ct)
		}
		if !bytes.HasPrefix(utf8.Body, []byte("\xEF\xBB\xBF")) {
			t.Fatal("UTF-8 CSV without a byte order mark")
		}
		text := string(utf8.Body[3:])
		rows := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
		if rows[0] != "invoiceNumber,customerNumber,month,status,lineNumber,name,kind,quantity,unitPrice,amount,note,subtotal,tax,total" ||
			len(rows) != 1+3*3 || !strings.HasPrefix(rows[1], "INV-2025-08-000001,"+cns[0]+",2025-08,final,1,基本メニュー利用料,monthly,1,2980,2980,,") {
			t.Fatalf("CSV:\n%s", text)
		}
		sjis := must(t, env.Do("GET", "/api/v1/billing/invoices.csv?month=2025-08&encoding=sjis", tok, nil), 200)
		if ct := sjis.Header.Get("Content-Type"); ct != "text/csv; charset=Shift_JIS" {
			t.Fatalf("content type %q", ct)
		}
		decoded, err := japanese.ShiftJIS.NewDecoder().Bytes(sjis.Body)
		if err != nil || string(decoded) != text {
			t.Fatalf("Shift_JIS CSV does not decode to the UTF-8 one (%v):\n%s", err, decoded)
		}
		must(t, env.Do("GET", "/api/v1/billing/invoices.csv?month=2025-08&encoding=latin1", tok, nil), 422)
	})
}

func TestSchedulerClosesThePreviousMonth(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		first := startBilling(t, engine, apptest.Options{})
		tok := first.StaffToken("matsumoto", "operator")
		publishPrices(t, first, tok, "2025-04", 2980)
		cn, _ := openContract(t, first, tok, nil)
		first.Stop()

		// 2025-08-01 (Fri) is August's first business day: once it is over, July is due.
		env := startBilling(t, engine, apptest.Options{
			DataDir: first.Config.DataDir, PostgresURL: first.Config.PostgresURL, Now: at("2025-08-02 09:00"),
			Configure: func(c *app.Config) { c.AutoCloseMonths = true },
		})
		key := env.APIKey("billing-system", "billing")
		deadline := time.Now().Add(20 * time.Second)
		for {
			inv, status := getInvoice(t, env, key, cn, "2025-07")
			if status == http.StatusOK && inv.Status == "final" {
				if inv.InvoiceNumber != "INV-2025-07-000001" {
					t.Fatalf("scheduled close: %+v", inv)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("July not closed by the scheduler: %d %+v", status, inv)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func TestConcurrentClosesCloseTheMonthOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		tok := env.StaffToken("nishimura", "operator")
		publishPrices(t, env, tok, "2025-04", 2980)
		openContract(t, env, tok, nil)
		openContract(t, env, tok, nil)
		env.Clock.Set(at("2025-08-05 10:00"))

		const n = 6
		bodies := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := env.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil)
				if r.Status != http.StatusOK {
					t.Errorf("close %d: %d %s", i, r.Status, r.Body)
				}
				bodies[i] = r.Body
			}()
		}
		wg.Wait()
		for i := 1; i < n; i++ {
			if !bytes.Equal(bodies[i], bodies[0]) {
				t.Fatalf("closes answered differently:\n%s\n%s", bodies[0], bodies[i])
			}
		}
		var feed invoiceList
		must(t, env.Do("GET", "/api/v1/billing/feed", tok, nil), 200).JSON(t, &feed)
		if len(feed.Items) != 2 || feed.Items[1].InvoiceNumber != "INV-2025-07-000002" {
			t.Fatalf("feed after concurrent closes: %+v", feed.Items)
		}
	})
}

// BenchmarkInvoiceQueriesHTTP asks the API for invoices from 50 concurrent clients, over
// loopback HTTP with a billing API key, on 100,000 contracts (2,000 with -short): one customer's
// draft (computed on read) and the first page of 100 drafts of a month. The contracts are
// appended to the log directly (ContractOpened), not through orders, to keep the set-up short.
//
//	go test ./api/ -run '^$' -bench InvoiceQueriesHTTP -benchtime 20000x -timeout 30m
func BenchmarkInvoiceQueriesHTTP(b *testing.B) {
	const clients = 50
	n := 100_000
	if testing.Short() {
		n = 2_000
	}
	for _, engine := range engines {
		b.Run(string(engine), func(b *testing.B) {
			env := startBillingBench(b, engine)
			tok := env.StaffToken("bench", "operator")
			key := env.APIKey("billing-system", "billing")
			if r := env.Do("POST", "/api/v1/billing/price-lists", tok, map[string]any{
				"effectiveFrom": "2025-01", "baseMenu": 2980, "healthCheckIdAddition": 198, "webFiltering": 165, "securityTicket": 11000,
			}); r.Status != http.StatusCreated {
				b.Fatalf("price list: %d %s", r.Status, r.Body)
			}
			seedContracts(b, env, n)
			for _, q := range []struct{ name, path string }{
				{"draft", "/api/v1/billing/invoices/N%09d/2025-07"},
				{"draftPage100", "/api/v1/billing/invoices?month=2025-07&limit=100"},
			} {
				b.Run(q.name, func(b *testing.B) {
					latencies := make([]time.Duration, b.N)
					var mu sync.Mutex
					next := 0
					var wg sync.WaitGroup
					client := env.Server.Client()
					b.ResetTimer()
					for c := range clients {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for {
								mu.Lock()
								k := next
								next++
								mu.Unlock()
								if k >= b.N {
									return
								}
								path := q.path
								if strings.Contains(path, "%") {
									path = fmt.Sprintf(path, 1+(k*7919+c)%n)
								}
								req, _ := http.NewRequest("GET", env.Server.URL+path, nil)
								req.Header.Set("Authorization", "Bearer "+key)
								start := time.Now()
								resp, err := client.Do(req)
								if err != nil {
									b.Error(err)
									return
								}
								_, _ = io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
								latencies[k] = time.Since(start)
								if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
									b.Errorf("%s: %d", path, resp.StatusCode)
									return
								}
							}
						}()
					}
					wg.Wait()
					b.StopTimer()
					slices.Sort(latencies)
					at := func(p float64) float64 {
						return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
					}
					b.ReportMetric(at(0.50), "p50-ms")
					b.ReportMetric(at(0.99), "p99-ms")
					b.ReportMetric(at(1), "max-ms")
				})
			}
		})
	}
}

func startBillingBench(b *testing.B, engine apptest.Engine) *apptest.Env {
	return apptest.Start(b, engine, apptest.Options{Now: at("2025-08-05 10:00"), Configure: func(c *app.Config) {
		c.Issuer, c.RegistrationNumber = testIssuer, testRegistration
		c.RateLimit = 1e9
	}})
}

// seedContracts appends n opened contracts (half with additional IDs, a third with web
// filtering, a tenth with tickets) and waits for the read models.
func seedContracts(b *testing.B, env *apptest.Env, n int) {
	b.Helper()
	start := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				cn := fmt.Sprintf("N%09d", i+1)
				e := contract.ContractOpened{CustomerNumber: cn, OpenedOn: calendar.MustDate(2025, time.Month(1+i%6), 1+i%28),
					Contractor:     contract.Contractor{Name: "株式会社ベンチ"},
					BillingAddress: contract.BillingAddress{PostalCode: "1000005", Address: "東京都千代田区丸の内一丁目", AddressNumber: "１番１号"}}
				if i%2 == 0 {
					e.AdditionalIDs = 10 + i%50
				}
				if i%3 == 0 {
					e.AdditionalIDs, e.WebFiltering = max(e.AdditionalIDs, 10), true
				}
				if i%10 == 0 {
					e.TicketsBought = 1 + i%3
				}
				data, _ := json.Marshal(e)
				_, err := env.App.Events.Append(context.Background(), contract.Stream(cn), event.Exactly(0), []event.Draft{{
					ID: uuid.Must(uuid.NewV7()), Type: "ContractOpened", SchemaVersion: 1, EffectiveAt: e.EffectiveTime(),
					RecordedAt: time.Now(), Actor: "bench", Data: data}})
				if err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	h, err := env.App.Events.Head(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := env.App.Runner.WaitFor(ctx, h); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d contracts in %s", n, time.Since(start).Round(time.Millisecond))
}
