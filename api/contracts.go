package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/contract"
	"yorozu/domain/privacy"
	"yorozu/projections/contracts"
)

func (s *Server) contractRoutes() []route {
	return []route{
		{"GET", "/api/v1/contracts", access.PermReadOperations, false, s.listContracts},
		{"GET", "/api/v1/contracts/{customerNumber}", access.PermReadOperations, false, s.getContract},
		{"GET", "/api/v1/contracts/{customerNumber}/history", access.PermReadAudit, false, s.contractHistory},
		{"GET", "/api/v1/contracts/{customerNumber}/as-of", access.PermReadAudit, false, s.contractAsOf},
	}
}

func (s *Server) listContracts(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	q := r.URL.Query()
	f := contracts.Filter{Status: contract.Status(q.Get("status")), Q: q.Get("q")}
	switch f.Status {
	case "", contract.StatusActive, contract.StatusTerminated:
	default:
		v.Add("status", "invalidChoice", "must be active or terminated")
	}
	f.Limit, f.After = page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.Contracts.List(r.Context(), f)
	if err == nil {
		shown := make([]string, len(list))
		for i, c := range list {
			shown[i] = c.CustomerNumber
		}
		err = s.recordRead(r, privacy.PersonalDataRead{What: privacy.ReadContractList, Query: r.URL.RawQuery, Shown: shown})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, newList(list, next))
}

// recordRead writes down that the caller read personal data (one contract or order, a list, a
// search) before the data is sent. The read fails if that cannot be recorded: an unrecorded
// read of personal data is worse than none. Reads never conflict with each other or with
// changes (see package privacy), so recording one does not fail because others read or write.
func (s *Server) recordRead(r *http.Request, read privacy.PersonalDataRead) error {
	m := meta(r)
	m.CommandID = "" // every read is its own fact, even with a repeated Idempotency-Key
	out, err := s.App.Commands.RecordPersonalDataRead.Handle(r.Context(), commands.RecordPersonalDataRead{Meta: m, Read: read})
	if err == nil {
		s.awaitRead(r, out, http.StatusOK)
	}
	return err
}

// recordView records a read of one contract.
func (s *Server) recordView(r *http.Request, customerNumber, what string) error {
	return s.recordRead(r, privacy.PersonalDataRead{What: what, CustomerNumber: customerNumber, Query: r.URL.RawQuery})
}

func (s *Server) getContract(w http.ResponseWriter, r *http.Request) {
	cn := mux.Vars(r)["customerNumber"]
	v, ok, err := s.App.Queries.Contracts.Get(r.Context(), cn)
	if err == nil && !ok {
		err = contract.ErrNotFound
	}
	if err == nil {
		err = s.recordView(r, cn, privacy.ReadContract)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(v.Version, 10)))
	httpx.WriteJSON(w, http.StatusOK, v)
}

// historyItem is one event of a contract's history (SPEC 12).
type historyItem struct {
	EventID       string          `json:"eventId"`
	Type          string          `json:"type"`
	Stream        string          `json:"stream"`
	StreamVersion uint64          `json:"streamVersion"`
	Position      uint64          `json:"position"`
	EffectiveAt   time.Time       `json:"effectiveAt"`
	RecordedAt    time.Time       `json:"recordedAt"`
	Actor         string          `json:"actor"`
	CommandID     string          `json:"commandId,omitempty"`
	Data          json.RawMessage `json:"data"`
}

func (s *Server) replay() contracts.Replay { return s.App.Queries.Replay }

func (s *Server) contractHistory(w http.ResponseWriter, r *http.Request) {
	cn := mux.Vars(r)["customerNumber"]
	recs, err := s.replay().History(r.Context(), cn)
	if err == nil && len(recs) == 0 {
		err = contract.ErrNotFound
	}
	if err == nil {
		err = s.recordView(r, cn, privacy.ReadHistory)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]historyItem, len(recs))
	for i, rec := range recs {
		items[i] = historyItem{
			EventID: rec.ID.String(), Type: rec.Type, Stream: rec.Stream, StreamVersion: rec.StreamVersion,
			Position: uint64(rec.Position), EffectiveAt: rec.EffectiveAt, RecordedAt: rec.RecordedAt,
			Actor: rec.Actor, CommandID: rec.CommandID, Data: s.eventData(rec),
		}
	}
	httpx.WriteJSON(w, http.StatusOK, newList(items, ""))
}

func (s *Server) contractAsOf(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	effectiveAt := instant(r, "effectiveAt", &v)
	knownAt := instant(r, "knownAt", &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	cn := mux.Vars(r)["customerNumber"]
	c, ok, err := s.replay().AsOf(r.Context(), cn, effectiveAt, knownAt)
	if err == nil && !ok {
		err = contract.ErrNotFound
	}
	if err == nil {
		err = s.recordView(r, cn, privacy.ReadAsOf)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, contracts.ViewOf(c))
}
