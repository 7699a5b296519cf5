package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/shopspring/decimal"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/projections/invoices"
)

// billingRoutes are the billing endpoints of SPEC 12.
func (s *Server) billingRoutes() []route {
	return []route{
		{"POST", "/api/v1/billing/price-lists", access.PermCommand, true, s.publishPriceList},
		{"GET", "/api/v1/billing/price-lists", access.PermReadBilling, false, s.priceLists},
		{"GET", "/api/v1/billing/invoices", access.PermReadBilling, false, s.invoices},
		{"GET", "/api/v1/billing/invoices.csv", access.PermReadBilling, false, s.invoicesCSV},
		{"GET", "/api/v1/billing/invoices/{customerNumber}/{month}", access.PermReadBilling, false, s.invoice},
		{"POST", "/api/v1/billing/months/{month}/close", access.PermCloseMonth, true, s.closeMonth},
		{"GET", "/api/v1/billing/feed", access.PermBillingFeed, false, s.billingFeed},
	}
}

// registerBillingErrors maps the billing errors to problems (called from newErrorMapper).
func registerBillingErrors(m *httpx.ErrorMapper) {
	m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
		var v *billing.ValidationError
		if !errors.As(err, &v) || !errors.Is(err, billing.ErrInvalidPriceList) {
			return nil, false
		}
		p := httpx.NewProblem(http.StatusUnprocessableEntity, "validation-failed", "The request is not valid", "The price list breaks a rule.")
		for _, f := range v.Errors {
			p.Errors = append(p.Errors, httpx.FieldError{Field: f.Field, Code: f.Code, Message: f.Message})
		}
		return p, true
	})
	m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
		var u *billing.UnencodableError
		if !errors.As(err, &u) {
			return nil, false
		}
		return httpx.NewProblem(http.StatusUnprocessableEntity, "unencodable-character", "Character not in Shift_JIS",
			u.Error()+"; ask for encoding=utf8, which has every character"), true
	})
	m.Register(invoices.ErrNoInvoice, http.StatusNotFound, "no-invoice", "No invoice")
	m.Register(billing.ErrNoPriceList, http.StatusConflict, "no-price-list", "No price list for the month")
	m.Register(billing.ErrInvalidMonth, http.StatusUnprocessableEntity, "invalid-month", "Not a month the service takes")
	m.Register(commands.ErrMonthNotEnded, http.StatusConflict, "month-not-ended", "The month has not ended")
	m.Register(commands.ErrNoIssuer, http.StatusConflict, "no-issuer", "No invoice issuer configured")
}

func (s *Server) billingView() *invoices.View { return s.App.Queries.Invoices }

// pricesJSON is a price list as the API shows it (SPEC 3), taxRate a decimal string.
type pricesJSON struct {
	EffectiveFrom         billing.Month `json:"effectiveFrom"`
	BaseMenu              billing.Yen   `json:"baseMenu"`
	HealthCheckIDAddition billing.Yen   `json:"healthCheckIdAddition"`
	WebFiltering          billing.Yen   `json:"webFiltering"`
	SecurityTicket        billing.Yen   `json:"securityTicket"`
	TaxRate               taxRate       `json:"taxRate"`
}

// taxRate shows a rate as the decimal string price lists are written with: "0.10", not "0.1".
type taxRate decimal.Decimal

func (r taxRate) MarshalJSON() ([]byte, error) {
	d := decimal.Decimal(r)
	places := max(2, -d.Exponent())
	return json.Marshal(d.StringFixed(places))
}

func pricesOf(l billing.PriceList) pricesJSON {
	return pricesJSON{EffectiveFrom: l.EffectiveFrom, BaseMenu: l.BaseMenu, HealthCheckIDAddition: l.HealthCheckIDAddition,
		WebFiltering: l.WebFiltering, SecurityTicket: l.SecurityTicket, TaxRate: taxRate(l.TaxRate)}
}

// priceListJSON is a published price list: the prices, its publication number and time.
type priceListJSON struct {
	pricesJSON
	Number      uint64    `json:"number"`
	PublishedAt time.Time `json:"publishedAt"`
}

func priceListOf(p billing.PublishedPriceList) priceListJSON {
	return priceListJSON{pricesJSON: pricesOf(p.PriceList), Number: p.Number, PublishedAt: p.PublishedAt}
}

// priceListBody is the body of POST /billing/price-lists. Every field is taken raw, so that a
// wrong type is reported with the other field errors (422) instead of failing the decoding.
type priceListBody struct {
	EffectiveFrom         json.RawMessage `json:"effectiveFrom"`
	BaseMenu              json.RawMessage `json:"baseMenu"`
	HealthCheckIDAddition json.RawMessage `json:"healthCheckIdAddition"`
	WebFiltering          json.RawMessage `json:"webFiltering"`
	SecurityTicket        json.RawMessage `json:"securityTicket"`
	TaxRate               json.RawMessage `json:"taxRate"`
}

// priceList reads the body into a price list, with every field error at once: the form of each
// field here, then the rules of billing.PriceList.Validate on the fields that had a good form.
func (b priceListBody) priceList() (billing.PriceList, error) {
	var v httpx.ValidationError
	bad := map[string]bool{}
	fail := func(field, code, msg string) {
		v.Add(field, code, msg)
		bad[field] = true
	}
	var p billing.PriceList
	if absentJSON(b.EffectiveFrom) {
		fail("effectiveFrom", billing.CodeRequired, "effectiveFrom is required (YYYY-MM)")
	} else if err := json.Unmarshal(b.EffectiveFrom, &p.EffectiveFrom); err != nil {
		fail("effectiveFrom", billing.CodeInvalidFormat, "effectiveFrom must be a month written YYYY-MM")
	} else if !p.EffectiveFrom.InServiceRange() {
		fail("effectiveFrom", billing.CodeOutOfRange, fmt.Sprintf("effectiveFrom must be a month from %d-01 to %d-12", calendar.FirstYear, calendar.LastYear))
	}
	for _, price := range []struct {
		field string
		raw   json.RawMessage
		into  *billing.Yen
	}{
		{"baseMenu", b.BaseMenu, &p.BaseMenu},
		{"healthCheckIdAddition", b.HealthCheckIDAddition, &p.HealthCheckIDAddition},
		{"webFiltering", b.WebFiltering, &p.WebFiltering},
		{"securityTicket", b.SecurityTicket, &p.SecurityTicket},
	} {
		if absentJSON(price.raw) {
			fail(price.field, billing.CodeRequired, price.field+" is required (whole yen)")
			continue
		}
		n, err := strconv.ParseInt(string(price.raw), 10, 64)
		if err != nil {
			fail(price.field, billing.CodeInvalidFormat, price.field+" must be a whole number of yen")
			continue
		}
		*price.into = billing.Yen(n)
	}
	p.TaxRate = billing.DefaultTaxRate
	if !absentJSON(b.TaxRate) {
		var rate decimal.Decimal
		if err := json.Unmarshal(b.TaxRate, &rate); err != nil || !plainRate(rate) {
			fail("taxRate", billing.CodeInvalidFormat, `taxRate must be a decimal such as "0.10", with at most 4 decimal places`)
		} else {
			p.TaxRate = rate
		}
	}
	var rules *billing.ValidationError
	if errors.As(p.Validate(), &rules) {
		for _, f := range rules.Errors {
			if !bad[f.Field] {
				v.Add(f.Field, f.Code, f.Message)
			}
		}
	}
	return p, v.Err()
}

// plainRate: a rate written with at most maxRatePlaces decimal places and a few digits. An
// exponent such as 1e-999999999 is a valid decimal whose text is a billion digits long: writing
// it into an error message, an event or an invoice would stall the service.
func plainRate(d decimal.Decimal) bool {
	const maxRatePlaces, maxRateDigits = 4, 8
	return d.Exponent() >= -maxRatePlaces && d.Exponent() <= maxRateDigits && d.NumDigits() <= maxRateDigits
}

func absentJSON(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func (s *Server) publishPriceList(w http.ResponseWriter, r *http.Request) {
	var body priceListBody
	// A body with field errors (unknown fields, control characters) still has its prices
	// checked, so that the answer lists every field error at once.
	var bodyErrs *httpx.ValidationError
	if err := httpx.DecodeJSON(r, &body); err != nil && !errors.As(err, &bodyErrs) {
		s.fail(w, r, err)
		return
	}
	p, err := body.priceList()
	if bodyErrs != nil {
		var rules *httpx.ValidationError
		if errors.As(err, &rules) {
			for _, fe := range rules.Errors {
				if !slices.ContainsFunc(bodyErrs.Errors, func(b httpx.FieldError) bool { return b.Field == fe.Field }) {
					bodyErrs.Errors = append(bodyErrs.Errors, fe)
				}
			}
		}
		err = bodyErrs
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.App.Commands.PublishPriceList.Handle(r.Context(), commands.PublishPriceList{Meta: meta(r), PriceList: p})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusCreated), priceListOf(out.PublishedPriceList))
}

func (s *Server) priceLists(w http.ResponseWriter, r *http.Request) {
	lists, err := s.billingView().PriceLists(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]priceListJSON, len(lists))
	for i, p := range lists {
		items[i] = priceListOf(p)
	}
	// Price lists are few (one or two a year): one page holds them all.
	httpx.WriteJSON(w, http.StatusOK, newList(items, ""))
}

// billingMonth reads a YYYY-MM month (required) in the service's years, collecting a field error
// into v.
func billingMonth(s, field string, v *httpx.ValidationError) billing.Month {
	if s == "" {
		v.Add(field, billing.CodeRequired, field+" is required (YYYY-MM)")
		return billing.Month{}
	}
	m, err := billing.ParseMonth(s)
	switch {
	case err != nil:
		v.Add(field, billing.CodeInvalidFormat, field+" must be a month written YYYY-MM")
	case !m.InServiceRange():
		v.Add(field, billing.CodeOutOfRange, fmt.Sprintf("%s must be a month from %d-01 to %d-12", field, calendar.FirstYear, calendar.LastYear))
		return billing.Month{}
	}
	return m
}

func (s *Server) invoices(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	m := billingMonth(r.URL.Query().Get("month"), "month", &v)
	limit, after := page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.billingView().Invoices(r.Context(), m, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, newList(p.Invoices, p.Next))
}

func (s *Server) invoice(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	vars := mux.Vars(r)
	m := billingMonth(vars["month"], "month", &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	inv, err := s.billingView().Invoice(r.Context(), vars["customerNumber"], m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, inv)
}

func (s *Server) invoicesCSV(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	q := r.URL.Query()
	m := billingMonth(q.Get("month"), "month", &v)
	enc, err := billing.ParseCSVEncoding(q.Get("encoding"))
	if err != nil {
		v.Add("encoding", billing.CodeInvalidFormat, "encoding must be utf8 or sjis")
	}
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	view := s.billingView()
	var all []billing.Invoice
	for after := ""; ; {
		p, err := view.Invoices(r.Context(), m, after, maxLimit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		all = append(all, p.Invoices...)
		if after = p.Next; after == "" {
			break
		}
	}
	// Final invoices come in invoice-number order already; drafts in the order contracts opened.
	slices.SortStableFunc(all, func(a, b billing.Invoice) int { return cmp.Compare(a.CustomerNumber, b.CustomerNumber) })
	// WriteCSV writes nothing when it fails, so the answer can still be a problem.
	var buf bytes.Buffer
	if err := billing.WriteCSV(&buf, all, enc); err != nil {
		s.fail(w, r, err)
		return
	}
	charset := "utf-8"
	if enc == billing.CSVShiftJIS {
		charset = "Shift_JIS"
	}
	w.Header().Set("Content-Type", "text/csv; charset="+charset)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="invoices-%s.csv"`, m))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// closureJSON is the answer to closing a month, the same every time the month is closed.
type closureJSON struct {
	Month              billing.Month  `json:"month"`
	Status             string         `json:"status"`
	ClosedAt           time.Time      `json:"closedAt"`
	InvoiceCount       int            `json:"invoiceCount"`
	FirstInvoiceNumber string         `json:"firstInvoiceNumber,omitempty"`
	LastInvoiceNumber  string         `json:"lastInvoiceNumber,omitempty"`
	Subtotal           billing.Yen    `json:"subtotal"`
	Tax                billing.Yen    `json:"tax"`
	Total              billing.Yen    `json:"total"`
	PriceList          pricesJSON     `json:"priceList"`
	Issuer             billing.Issuer `json:"issuer"`
}

func (s *Server) closeMonth(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	m := billingMonth(mux.Vars(r)["month"], "month", &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.App.Commands.CloseMonth.Handle(r.Context(), commands.CloseMonth{Meta: meta(r), Month: m})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, c.Outcome, s.awaitRead(r, c.Outcome, http.StatusOK), closureJSON{
		Month: c.Month, Status: "closed", ClosedAt: c.ClosedAt, InvoiceCount: c.Invoices,
		FirstInvoiceNumber: c.FirstInvoiceNumber, LastInvoiceNumber: c.LastInvoiceNumber,
		Subtotal: c.Subtotal, Tax: c.Tax, Total: c.Total, PriceList: pricesOf(c.PriceList), Issuer: c.Issuer,
	})
}

func (s *Server) billingFeed(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	limit, after := page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.billingView().Feed(r.Context(), after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, newList(p.Invoices, p.Next))
}
