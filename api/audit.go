package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"yorozu/api/httpx"
	"yorozu/domain/calendar"
	"yorozu/projections/audit"
)

// maxLimit is the largest page; larger limits are clamped (SPEC 12).
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// page reads limit and after, collecting field errors into v. A limit above maxLimit is clamped to
// it, however many digits it has; a limit that is not a positive integer is refused.
func page(r *http.Request, v *httpx.ValidationError) (limit int, after string) {
	q := r.URL.Query()
	limit = defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		var num *strconv.NumError
		switch {
		case err == nil && n >= 1:
			limit = min(n, maxLimit)
		case errors.As(err, &num) && errors.Is(num.Err, strconv.ErrRange) && s[0] != '-':
			limit = maxLimit // a positive integer too large for an int
		default:
			v.Add("limit", "invalidNumber", "must be a positive integer")
		}
	}
	return limit, q.Get("after")
}

// instant parses an RFC 3339 instant or a YYYY-MM-DD date (00:00 JST) query parameter, in the
// service's years.
func instant(r *http.Request, name string, v *httpx.ValidationError) time.Time {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02", s, jst)
	}
	switch {
	case err != nil:
		v.Add(name, "invalidInstant", "must be an RFC 3339 instant or a YYYY-MM-DD date")
	case !calendar.InstantInServiceRange(t):
		v.Add(name, "outOfRange", fmt.Sprintf("must fall in the years %d to %d (JST)", calendar.FirstYear, calendar.LastYear))
	default:
		return t
	}
	return time.Time{}
}

var jst = mustJST()

func mustJST() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return l
}

type list[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

func newList[T any](items []T, next string) list[T] {
	if items == nil {
		items = []T{}
	}
	l := list[T]{Items: items}
	if next != "" {
		l.Next = &next
	}
	return l
}

func (s *Server) auditEvents(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	q := r.URL.Query()
	f := audit.Filter{
		CustomerNumber: q.Get("customerNumber"),
		Stream:         q.Get("stream"),
		Actor:          q.Get("actor"),
		Type:           q.Get("type"),
		From:           instant(r, "from", &v),
		To:             instant(r, "to", &v),
	}
	f.Limit, f.After = page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	entries, next, err := s.App.Queries.Audit.Query(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, newList(entries, next))
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := audit.Verify(r.Context(), s.Log, s.Codec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rep)
}
