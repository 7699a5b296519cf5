package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/calendar"
	"yorozu/domain/order"
	"yorozu/domain/privacy"
	"yorozu/projections/orders"
)

func (s *Server) orderRoutes() []route {
	return []route{
		{"POST", "/api/v1/orders", access.PermCommand, true, s.submitOrder},
		{"GET", "/api/v1/orders", access.PermReadOperations, false, s.listOrders},
		{"GET", "/api/v1/orders/{orderId}", access.PermReadOperations, false, s.getOrder},
		{"PUT", "/api/v1/orders/{orderId}", access.PermCommand, true, s.amendOrder},
		{"POST", "/api/v1/orders/{orderId}/accept", access.PermCommand, true, s.acceptOrder},
		{"POST", "/api/v1/orders/{orderId}/notice", access.PermCommand, true, s.orderNotice},
		{"POST", "/api/v1/orders/{orderId}/complete", access.PermCommand, true, s.completeOrder},
		{"POST", "/api/v1/orders/{orderId}/withdraw", access.PermCommand, true, s.withdrawOrder},
	}
}

// readForm decodes an application form with every rule that needs no contract: 415, 413 and 400
// as for every JSON body (httpx.ReadJSON), then 422 with every field error of the form at once.
func readForm(r *http.Request) (order.Form, error) {
	raw, err := httpx.ReadJSON(r)
	if err != nil {
		return order.Form{}, err
	}
	f, errs := order.DecodeForm(raw)
	if len(errs) > 0 {
		return order.Form{}, errs
	}
	return f, nil
}

type orderCreated struct {
	OrderID uuid.UUID    `json:"orderId"`
	Type    order.Type   `json:"type"`
	Status  order.Status `json:"status"`
}

func (s *Server) submitOrder(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m := meta(r)
	cn := ""
	if f.CustomerNumber != nil {
		cn = *f.CustomerNumber
	}
	id := order.NewID(m.CommandID, f.Type, cn)
	out, err := s.App.Commands.SubmitOrder.Handle(r.Context(), commands.SubmitOrder{Meta: m, OrderID: id, Form: f})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := s.awaitRead(r, out, http.StatusCreated)
	w.Header().Set("Location", "/api/v1/orders/"+id.String())
	w.Header().Set("ETag", `"1"`) // a received order has one event: its If-Match version
	writeCommandResult(w, out, status, orderCreated{OrderID: id, Type: f.Type, Status: order.StatusReceived})
}

func (s *Server) orderID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(mux.Vars(r)["orderId"])
	if err != nil {
		return uuid.Nil, order.ErrNotFound
	}
	return id, nil
}

// ifMatch reads If-Match: the aggregate version, quoted or not; "*" means any.
func ifMatch(r *http.Request) (*uint64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	h = strings.TrimPrefix(h, "W/")
	v, err := strconv.ParseUint(strings.Trim(h, `"`), 10, 64)
	if err != nil {
		return nil, &httpx.ValidationError{Errors: []httpx.FieldError{{Field: "If-Match", Code: "invalidFormat", Message: "must be the version from the ETag"}}}
	}
	return &v, nil
}

// writeOrder answers one order; read, when set, records the read of its personal data first.
func (s *Server) writeOrder(w http.ResponseWriter, r *http.Request, id uuid.UUID, status int, read bool) {
	v, ok, err := s.App.Queries.Orders.Get(r.Context(), id)
	if err == nil && !ok {
		err = order.ErrNotFound
	}
	if err == nil && read {
		err = s.recordRead(r, privacy.PersonalDataRead{What: privacy.ReadOrder, OrderID: id, CustomerNumber: v.CustomerNumber})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Form = v.Form.Redacted() // the form as submitted, without its passwords, whatever the view holds
	w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(v.Version, 10)))
	httpx.WriteJSON(w, status, v)
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	id, err := s.orderID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeOrder(w, r, id, http.StatusOK, true)
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	q := r.URL.Query()
	f := orders.Filter{Status: order.Status(q.Get("status")), Type: order.Type(q.Get("type")), CustomerNumber: q.Get("customerNumber")}
	switch f.Status {
	case "", order.StatusReceived, order.StatusAccepted, order.StatusNoticeSent, order.StatusCompleted, order.StatusWithdrawn:
	default:
		v.Add("status", "invalidChoice", "must be one of received, accepted, noticeSent, completed, withdrawn")
	}
	if f.Type != "" && !f.Type.Valid() {
		v.Add("type", "invalidChoice", "must be one of new, change, cancel, simpleChange")
	}
	f.ScheduledFrom = dateParam(r, "scheduledFrom", &v)
	f.ScheduledTo = dateParam(r, "scheduledTo", &v)
	switch q.Get("sort") {
	case "", "received":
	case "scheduledDate":
		f.ByScheduledDate = true
	default:
		v.Add("sort", "invalidChoice", "must be received or scheduledDate")
	}
	f.Limit, f.After = page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.Orders.List(r.Context(), f)
	if err == nil {
		var shown []string // customer numbers, or the order IDs of orders without one yet
		for i := range list {
			list[i].Form = list[i].Form.Redacted()
			who := list[i].CustomerNumber
			if who == "" {
				who = list[i].ID.String()
			}
			if !slices.Contains(shown, who) {
				shown = append(shown, who)
			}
		}
		err = s.recordRead(r, privacy.PersonalDataRead{What: privacy.ReadOrderList, Query: r.URL.RawQuery, Shown: shown})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, newList(list, next))
}

// dateParam reads a YYYY-MM-DD query parameter in the service's years.
func dateParam(r *http.Request, name string, v *httpx.ValidationError) calendar.Date {
	s := r.URL.Query().Get(name)
	if s == "" {
		return calendar.Date{}
	}
	d, err := calendar.ParseDate(s)
	switch {
	case err != nil:
		v.Add(name, "invalidDate", "must be a date YYYY-MM-DD")
	case !d.InServiceRange():
		v.Add(name, "outOfRange", fmt.Sprintf("must be a date from %d-01-01 to %d-12-31", calendar.FirstYear, calendar.LastYear))
		return calendar.Date{}
	}
	return d
}

// orderCommand runs a command on one order and answers with the order as the read model then
// shows it. Only commands that check the version (amend, accept, withdraw) read If-Match.
func (s *Server) orderCommand(w http.ResponseWriter, r *http.Request, usesIfMatch bool, run func(id uuid.UUID, m commands.Meta, ifMatch *uint64) (commands.Outcome, error)) {
	id, err := s.orderID(r)
	if err == nil {
		var im *uint64
		if usesIfMatch {
			im, err = ifMatch(r)
		}
		if err == nil {
			var out commands.Outcome
			if out, err = run(id, meta(r), im); err == nil {
				setPosition(w, out)
				s.writeOrder(w, r, id, s.awaitRead(r, out, http.StatusOK), false)
				return
			}
		}
	}
	s.fail(w, r, err)
}

func (s *Server) amendOrder(w http.ResponseWriter, r *http.Request) {
	s.orderCommand(w, r, true, func(id uuid.UUID, m commands.Meta, im *uint64) (commands.Outcome, error) {
		f, err := readForm(r)
		if err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.AmendOrder.Handle(r.Context(), commands.AmendOrder{Meta: m, OrderID: id, Form: f, IfMatch: im})
	})
}

type acceptRequest struct {
	AcceptedAt *time.Time `json:"acceptedAt"`
}

func (s *Server) acceptOrder(w http.ResponseWriter, r *http.Request) {
	s.orderCommand(w, r, true, func(id uuid.UUID, m commands.Meta, im *uint64) (commands.Outcome, error) {
		var req acceptRequest
		if err := httpx.DecodeOptionalJSON(r, &req); err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.AcceptOrder.Handle(r.Context(), commands.AcceptOrder{Meta: m, OrderID: id, IfMatch: im, AcceptedAt: req.AcceptedAt})
	})
}

func (s *Server) orderNotice(w http.ResponseWriter, r *http.Request) {
	s.orderCommand(w, r, false, func(id uuid.UUID, m commands.Meta, _ *uint64) (commands.Outcome, error) {
		return s.App.Commands.SendOpeningNotice.Handle(r.Context(), commands.SendOpeningNotice{Meta: m, OrderID: id})
	})
}

func (s *Server) completeOrder(w http.ResponseWriter, r *http.Request) {
	s.orderCommand(w, r, false, func(id uuid.UUID, m commands.Meta, _ *uint64) (commands.Outcome, error) {
		return s.App.Commands.CompleteOrder.Handle(r.Context(), commands.CompleteOrder{Meta: m, OrderID: id})
	})
}

func (s *Server) withdrawOrder(w http.ResponseWriter, r *http.Request) {
	s.orderCommand(w, r, true, func(id uuid.UUID, m commands.Meta, im *uint64) (commands.Outcome, error) {
		return s.App.Commands.WithdrawOrder.Handle(r.Context(), commands.WithdrawOrder{Meta: m, OrderID: id, IfMatch: im})
	})
}
