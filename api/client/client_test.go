package client_test

// The generated client is what consumers of docs/openapi.yaml build on. This test drives the
// walkthrough of docs/api.md through it against the real service (in-process, with a fake clock
// so that the order can be completed and months closed), on the embedded store and PostgreSQL,
// and checks that every answer decodes into the generated types with the values the service
// computed: order dates, the contract, draft and final invoices and the billing feed.

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"yorozu/adapters/postgres/pgtest"
	"yorozu/api/client"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	issuer       = "株式会社YOROZU"
	registration = "T1234567890123"
)

func TestGeneratedClientDrivesTheWalkthrough(t *testing.T) {
	for _, engine := range []apptest.Engine{apptest.Embedded, apptest.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			walkthrough(t, engine)
		})
	}
}

// jst is a wall-clock time in Japan.
func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, time.FixedZone("JST", 9*3600))
	if err != nil {
		panic(err)
	}
	return t
}

func date(s string) openapi_types.Date {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return openapi_types.Date{Time: t}
}

func bearer(token string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// status fails the test unless the call succeeded with want.
func status(t *testing.T, what string, err error, got int, body []byte, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got != want {
		t.Fatalf("%s: HTTP %d, want %d: %s", what, got, want, body)
	}
}

func walkthrough(t *testing.T, engine apptest.Engine) {
	ctx := t.Context()
	// The example form was applied for on 2026-11-02 (a Monday) and asks for 2026-12-01.
	env := apptest.Start(t, engine, apptest.Options{
		Now: jst("2026-11-02 10:00"),
		Configure: func(c *app.Config) {
			c.Issuer, c.RegistrationNumber = issuer, registration
		},
	})
	c, err := client.NewClientWithResponses(env.Server.URL, client.WithHTTPClient(env.Server.Client()))
	if err != nil {
		t.Fatal(err)
	}

	// Log in with ID, password and the current TOTP code.
	staff := env.AddStaff("ito", "operator")
	login, err := c.LoginWithResponse(ctx, client.LoginJSONRequestBody{StaffId: staff.ID, Password: staff.Password, Otp: env.Code(staff, 0)})
	status(t, "login", err, login.StatusCode(), login.Body, http.StatusOK)
	if login.JSON200.Token == "" || !login.JSON200.ExpiresAt.After(env.Clock.Now()) {
		t.Fatalf("login: %+v", login.JSON200)
	}
	auth := bearer(login.JSON200.Token)

	// The form, typed: the example file decodes into the generated NewOrderForm and back.
	raw, err := os.ReadFile("../../docs/examples/new-order.json")
	if err != nil {
		t.Fatal(err)
	}
	var form client.OrderForm
	if err := form.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	newForm, err := form.AsNewOrderForm()
	if err != nil {
		t.Fatalf("docs/examples/new-order.json as a NewOrderForm: %v", err)
	}

	// An invalid form: every field error in one 422.
	bad := newForm
	bad.Contractor.NameKana = "やまと"
	bad.BillingAddress.PostalCode = "100-0005"
	var badBody client.OrderForm
	if err := badBody.FromNewOrderForm(bad); err != nil {
		t.Fatal(err)
	}
	refused, err := c.SubmitOrderWithResponse(ctx, nil, badBody, auth)
	status(t, "invalid form", err, refused.StatusCode(), refused.Body, http.StatusUnprocessableEntity)
	var fields []string
	for _, fe := range *refused.ApplicationproblemJSON422.Errors {
		fields = append(fields, fe.Field+" "+fe.Code)
	}
	if want := []string{"contractor.nameKana notKana", "billingAddress.postalCode notDigits"}; !slices.Equal(fields, want) ||
		refused.ApplicationproblemJSON422.Type != "/problems/validation" {
		t.Fatalf("invalid form: %s %v, want %v", refused.ApplicationproblemJSON422.Type, fields, want)
	}

	// Submit, read, amend.
	var body client.OrderForm
	if err := body.FromNewOrderForm(newForm); err != nil {
		t.Fatal(err)
	}
	key := "walkthrough-order-1"
	created, err := c.SubmitOrderWithResponse(ctx, &client.SubmitOrderParams{IdempotencyKey: &key}, body, auth)
	status(t, "submit", err, created.StatusCode(), created.Body, http.StatusCreated)
	id := created.JSON201.OrderId
	if created.JSON201.Status != "received" || created.JSON201.Type != client.OrderTypeNew ||
		created.Headers201 == nil || created.Headers201.Location == nil || *created.Headers201.Location != "/api/v1/orders/"+id.String() {
		t.Fatalf("submit: %s %+v", created.Body, created.Headers201)
	}
	got, err := c.GetOrderWithResponse(ctx, id, auth)
	status(t, "get order", err, got.StatusCode(), got.Body, http.StatusOK)
	if o := got.JSON200; o.Status != client.OrderStatusReceived || o.Version != 1 || o.AcceptanceDay != nil || o.ScheduledDate != nil ||
		o.Form.Contractor == nil || o.Form.Contractor.Name == nil || *o.Form.Contractor.Name != "株式会社大和商事" {
		t.Fatalf("received order: %s", got.Body)
	}
	remarks := "開通案内はメールでお願いします。"
	amended := newForm
	amended.CustomerRemarks = &remarks
	if err := body.FromNewOrderForm(amended); err != nil {
		t.Fatal(err)
	}
	v1 := `"1"`
	am, err := c.AmendOrderWithResponse(ctx, id, &client.AmendOrderParams{IfMatch: &v1}, body, auth)
	status(t, "amend", err, am.StatusCode(), am.Body, http.StatusOK)
	if am.JSON200.Version != 2 || am.JSON200.Form.CustomerRemarks == nil || *am.JSON200.Form.CustomerRemarks != remarks {
		t.Fatalf("amended order: %s", am.Body)
	}

	// Accept at 10:00 on the day of the form: 8 business days later is 2026-11-13 (11-03 is
	// Culture Day); the desired 2026-12-01 is later, so it is scheduled then, the notice due the
	// business day before.
	v2 := `"2"`
	acceptedAt := jst("2026-11-02 10:00")
	acc, err := c.AcceptOrderWithResponse(ctx, id, &client.AcceptOrderParams{IfMatch: &v2}, client.AcceptRequest{AcceptedAt: &acceptedAt}, auth)
	status(t, "accept", err, acc.StatusCode(), acc.Body, http.StatusOK)
	o := acc.JSON200
	if o.Status != client.OrderStatusAccepted || o.CustomerNumber == nil || *o.CustomerNumber != "N000000001" ||
		!o.AcceptedAt.Equal(acceptedAt) || *o.AcceptanceDay != date("2026-11-02") || *o.EarliestDate != date("2026-11-13") ||
		*o.ScheduledDate != date("2026-12-01") || *o.NoticeDue != date("2026-11-30") || o.CompletedOn != nil {
		t.Fatalf("accepted order: %s", acc.Body)
	}
	cn := *o.CustomerNumber

	notice, err := c.RecordOpeningNoticeWithResponse(ctx, id, nil, auth)
	status(t, "notice", err, notice.StatusCode(), notice.Body, http.StatusOK)
	if notice.JSON200.Status != client.OrderStatusNoticeSent || notice.JSON200.NoticeSentAt == nil {
		t.Fatalf("notice: %s", notice.Body)
	}
	early, err := c.CompleteOrderWithResponse(ctx, id, nil, auth)
	status(t, "complete early", err, early.StatusCode(), early.Body, http.StatusConflict)
	if early.ApplicationproblemJSON409.Type != "/problems/before-scheduled-date" {
		t.Fatalf("completing before the scheduled date: %s", early.Body)
	}
	env.Clock.Set(jst("2026-12-01 09:00"))
	done, err := c.CompleteOrderWithResponse(ctx, id, nil, auth)
	status(t, "complete", err, done.StatusCode(), done.Body, http.StatusOK)
	if done.JSON200.Status != client.OrderStatusCompleted || *done.JSON200.CompletedOn != date("2026-12-01") {
		t.Fatalf("completed order: %s", done.Body)
	}

	// The contract, the search, the history.
	ct, err := c.GetContractWithResponse(ctx, cn, auth)
	status(t, "contract", err, ct.StatusCode(), ct.Body, http.StatusOK)
	if k := ct.JSON200; k.Status != client.Active || *k.OpenedOn != date("2026-12-01") || k.TerminatedOn != nil ||
		k.AdditionalIds != 15 || k.TotalIds != 20 || !k.WebFiltering || k.TicketsPurchased != 2 || k.CommonCustomerId != "C1234567890" ||
		k.Contractor.Name == nil || *k.Contractor.Name != "株式会社大和商事" || k.BillingAddress.RecipientDept == nil || *k.BillingAddress.RecipientDept != "経理部" {
		t.Fatalf("contract: %s", ct.Body)
	}
	q, active := "大和", client.Active
	list, err := c.ListContractsWithResponse(ctx, &client.ListContractsParams{Q: &q, Status: &active}, auth)
	status(t, "contracts", err, list.StatusCode(), list.Body, http.StatusOK)
	if len(list.JSON200.Items) != 1 || list.JSON200.Items[0].CustomerNumber != cn || list.JSON200.Next != nil {
		t.Fatalf("contract search: %s", list.Body)
	}
	hist, err := c.ContractHistoryWithResponse(ctx, cn, auth)
	status(t, "history", err, hist.StatusCode(), hist.Body, http.StatusOK)
	var types []string
	for _, it := range hist.JSON200.Items {
		types = append(types, it.Type)
		if it.Actor != "ito" && it.Actor != "system" {
			t.Errorf("history item %s by %q", it.Type, it.Actor)
		}
	}
	if want := []string{"OrderReceived", "OrderAmended", "OrderAccepted", "OpeningNoticeSent", "ContractOpened", "OrderCompleted"}; !slices.Equal(types, want) {
		t.Fatalf("history: %v, want %v", types, want)
	}

	// Billing: a price list; December has the 2 tickets (bought in the month the order
	// completed), January is the first month of the monthly charges.
	taxRate := "0.10"
	pkey := "walkthrough-prices-1"
	pl, err := c.PublishPriceListWithResponse(ctx, &client.PublishPriceListParams{IdempotencyKey: &pkey}, client.PriceListInput{
		EffectiveFrom: "2026-11", BaseMenu: 3000, HealthCheckIdAddition: 200, WebFiltering: 100, SecurityTicket: 5000, TaxRate: &taxRate,
	}, auth)
	status(t, "price list", err, pl.StatusCode(), pl.Body, http.StatusCreated)

	december := client.Invoice{
		CustomerNumber: cn, Month: "2026-12", Status: client.Draft,
		Issuer:    client.Issuer{Name: issuer, RegistrationNumber: registration},
		Recipient: recipient(),
		Lines: &[]client.InvoiceLine{
			{Name: "セキュリティチケット利用料", Kind: client.OneTime, Quantity: 2, UnitPrice: 5000, Amount: 10000, Note: "12月ご利用分です。購入数は2です"},
		},
		Subtotal: 10000, Tax: 1000, Total: 11000,
		TaxByRate: &[]client.TaxByRate{{Rate: "0.1", TaxableAmount: 10000, Tax: 1000}},
	}
	december.UsagePeriod.From, december.UsagePeriod.To = date("2026-12-01"), date("2026-12-31")
	january := client.Invoice{
		CustomerNumber: cn, Month: "2027-01", Status: client.Draft,
		Issuer:    client.Issuer{Name: issuer, RegistrationNumber: registration},
		Recipient: recipient(),
		Lines: &[]client.InvoiceLine{
			{Name: "基本メニュー利用料", Kind: client.Monthly, Quantity: 1, UnitPrice: 3000, Amount: 3000, Note: ""},
			{Name: "ヘルスチェックレポート（ＩＤ追加）利用料", Kind: client.Monthly, Quantity: 15, UnitPrice: 200, Amount: 3000, Note: "1月ご利用分です。利用IDは15です"},
			{Name: "Ｗｅｂフィルタリング利用料", Kind: client.Monthly, Quantity: 20, UnitPrice: 100, Amount: 2000, Note: "1月ご利用分です。利用IDは20です"},
		},
		Subtotal: 8000, Tax: 800, Total: 8800,
		TaxByRate: &[]client.TaxByRate{{Rate: "0.1", TaxableAmount: 8000, Tax: 800}},
	}
	january.UsagePeriod.From, january.UsagePeriod.To = date("2027-01-01"), date("2027-01-31")

	draft, err := c.GetInvoiceWithResponse(ctx, cn, "2026-12", auth)
	status(t, "draft invoice", err, draft.StatusCode(), draft.Body, http.StatusOK)
	if diff := cmp.Diff(december, *draft.JSON200); diff != "" {
		t.Fatalf("December draft (-want +got):\n%s", diff)
	}

	// February: close December and January; their invoices become final, numbered, and reach
	// the billing feed in the order they were closed.
	env.Clock.Set(jst("2027-02-02 10:00"))
	for i, month := range []string{"2026-12", "2027-01"} {
		closed, err := c.CloseMonthWithResponse(ctx, month, nil, auth)
		status(t, "close "+month, err, closed.StatusCode(), closed.Body, http.StatusOK)
		want := "INV-" + month + "-000001"
		if m := closed.JSON200; m.Month != month || m.InvoiceCount != 1 || m.FirstInvoiceNumber == nil || *m.FirstInvoiceNumber != want ||
			m.Issuer.RegistrationNumber != registration || m.Total != []int64{11000, 8800}[i] {
			t.Fatalf("close %s: %s", month, closed.Body)
		}
	}
	final := func(inv client.Invoice) client.Invoice {
		number := "INV-" + inv.Month + "-000001"
		inv.Status, inv.InvoiceNumber = client.Final, &number
		return inv
	}
	december, january = final(december), final(january)

	billingKey := bearer(env.APIKey("billing-system", "billing"))
	limit := 100
	feed, err := c.BillingFeedWithResponse(ctx, &client.BillingFeedParams{Limit: &limit}, billingKey)
	status(t, "feed", err, feed.StatusCode(), feed.Body, http.StatusOK)
	if diff := cmp.Diff([]client.Invoice{december, january}, feed.JSON200.Items); diff != "" {
		t.Fatalf("billing feed (-want +got):\n%s", diff)
	}
	if feed.JSON200.Next == nil {
		t.Fatalf("billing feed: no cursor to poll with: %s", feed.Body)
	}
	again, err := c.BillingFeedWithResponse(ctx, &client.BillingFeedParams{After: feed.JSON200.Next}, billingKey)
	status(t, "feed again", err, again.StatusCode(), again.Body, http.StatusOK)
	if len(again.JSON200.Items) != 0 {
		t.Fatalf("billing feed after the last cursor: %s", again.Body)
	}
	jan, err := c.GetInvoiceWithResponse(ctx, cn, "2027-01", billingKey)
	status(t, "final invoice", err, jan.StatusCode(), jan.Body, http.StatusOK)
	if diff := cmp.Diff(january, *jan.JSON200); diff != "" {
		t.Fatalf("January final (-want +got):\n%s", diff)
	}
	csv, err := c.ExportInvoicesCSVWithResponse(ctx, &client.ExportInvoicesCSVParams{Month: "2027-01"}, billingKey)
	status(t, "CSV", err, csv.StatusCode(), csv.Body, http.StatusOK)
	if !strings.Contains(string(csv.Body), "INV-2027-01-000001") {
		t.Fatalf("CSV export of January: %s", csv.Body)
	}
	// The billing key reads billing only.
	denied, err := c.GetContractWithResponse(ctx, cn, billingKey)
	status(t, "contract with the billing key", err, denied.StatusCode(), denied.Body, http.StatusForbidden)

	verify, err := c.AuditVerifyWithResponse(ctx, auth)
	status(t, "verify", err, verify.StatusCode(), verify.Body, http.StatusOK)
	if !verify.JSON200.Ok || verify.JSON200.CheckedEvents == 0 || verify.JSON200.FirstBroken != nil {
		t.Fatalf("audit verify: %s", verify.Body)
	}
}

func recipient() client.Recipient {
	s := func(v string) *string { return &v }
	return client.Recipient{
		Name: "株式会社大和商事", NameKana: s("カブシキガイシャ　ヤマトショウジ"), Department: s("経理部"), PostalCode: s("1000005"),
		Address: s("東京都千代田区丸の内一丁目１番１号　丸の内パークビルディング１２階"),
	}
}
