package api

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/calendar"
	"yorozu/domain/mailmagazine"
	"yorozu/domain/privacy"
	mm "yorozu/projections/mailmagazine"
)

// What the mail magazine's reads of personal data are recorded as (the addresses are).
const (
	readMailRecipients       = "mailMagazineRecipients"
	readMailRecipientsCSV    = "mailMagazineRecipientsCsv"
	readMailRecipientHistory = "mailMagazineRecipientHistory"
)

// customersOf lists, once each and in order of appearance, the customer numbers of a page.
func customersOf[T any](items []T, numbers func(T) []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, it := range items {
		for _, cn := range numbers(it) {
			if !seen[cn] {
				seen[cn] = true
				out = append(out, cn)
			}
		}
	}
	return out
}

// mailMagazineRoutes are the mail magazine endpoints.
func (s *Server) mailMagazineRoutes() []route {
	return []route{
		{"GET", "/api/v1/mail-magazine/recipients", access.PermReadOperations, false, s.mailRecipients},
		{"GET", "/api/v1/mail-magazine/recipients.csv", access.PermReadOperations, false, s.mailRecipientsCSV},
		{"GET", "/api/v1/mail-magazine/recipients/history", access.PermReadOperations, false, s.mailRecipientHistory},
		{"POST", "/api/v1/mail-magazine/issues", access.PermCommand, true, s.scheduleMailIssue},
		{"GET", "/api/v1/mail-magazine/issues", access.PermReadOperations, false, s.listMailIssues},
		{"GET", "/api/v1/mail-magazine/issues/{issueId}", access.PermReadOperations, false, s.getMailIssue},
	}
}

// recipientsAsOf reads ?asOf=YYYY-MM-DD (today in JST when absent).
func (s *Server) recipientsAsOf(r *http.Request, v *httpx.ValidationError) calendar.Date {
	raw := r.URL.Query().Get("asOf")
	if raw == "" {
		return calendar.DateOf(s.Clock())
	}
	d, err := calendar.ParseDate(raw)
	if err != nil {
		v.Add("asOf", "invalidDate", "asOf is a date written YYYY-MM-DD")
	}
	return d
}

// recipientList is a page of recipients as of a date.
type recipientList struct {
	AsOf  calendar.Date            `json:"asOf"`
	Count int                      `json:"count"`
	Items []mailmagazine.Recipient `json:"items"`
	Next  *string                  `json:"next"`
}

// textCursor makes an opaque cursor of a key and reads it back.
func textCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func readTextCursor(after string, v *httpx.ValidationError) string {
	if after == "" {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(after)
	if err != nil || len(b) == 0 {
		v.Add("after", "invalidCursor", "after is the next cursor of a previous page")
	}
	return string(b)
}

func (s *Server) mailRecipients(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	d := s.recipientsAsOf(r, &v)
	limit, after := page(r, &v)
	afterEmail := readTextCursor(after, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.App.Queries.MailRecipients.RecipientsPage(d, afterEmail, limit)
	shown := customersOf(p.Items, func(r mailmagazine.Recipient) []string { return r.CustomerNumbers })
	if err := s.recordRead(r, privacy.PersonalDataRead{What: readMailRecipients, Query: r.URL.RawQuery, Shown: shown}); err != nil {
		s.fail(w, r, err)
		return
	}
	out := recipientList{AsOf: d, Count: p.Count, Items: p.Items}
	if out.Items == nil {
		out.Items = []mailmagazine.Recipient{}
	}
	if p.More {
		next := textCursor(p.Items[len(p.Items)-1].Email)
		out.Next = &next
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) mailRecipientsCSV(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	d := s.recipientsAsOf(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	// The whole list as of the date: recorded with its query; the log says who was on it.
	if err := s.recordRead(r, privacy.PersonalDataRead{What: readMailRecipientsCSV, Query: "asOf=" + d.String()}); err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	_ = cw.Write([]string{"email", "customerNumbers", "since"})
	for _, rc := range s.App.Queries.MailRecipients.AsOf(d) {
		_ = cw.Write([]string{rc.Email, strings.Join(rc.CustomerNumbers, " "), rc.Since.String()})
	}
	cw.Flush()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="mail-magazine-recipients-`+d.String()+`.csv"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) mailRecipientHistory(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	limit, after := page(r, &v)
	var from *mailmagazine.HistoryEntry
	if key := readTextCursor(after, &v); key != "" {
		var e mailmagazine.HistoryEntry
		if err := json.Unmarshal([]byte(key), &e); err != nil {
			v.Add("after", "invalidCursor", "after is the next cursor of a previous page")
		}
		from = &e
	}
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.App.Queries.MailRecipients.HistoryPage(from, limit)
	shown := customersOf(p.Items, func(e mailmagazine.HistoryEntry) []string { return []string{e.CustomerNumber} })
	if err := s.recordRead(r, privacy.PersonalDataRead{What: readMailRecipientHistory, Query: r.URL.RawQuery, Shown: shown}); err != nil {
		s.fail(w, r, err)
		return
	}
	next := ""
	if p.More {
		key, _ := json.Marshal(p.Items[len(p.Items)-1])
		next = textCursor(string(key))
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, newList(p.Items, next))
}

// issueJSON is an issue as the API shows it.
type issueJSON struct {
	IssueID       uuid.UUID           `json:"issueId"`
	Subject       string              `json:"subject"`
	Body          string              `json:"body"`
	ScheduledAt   time.Time           `json:"scheduledAt"`
	Status        mailmagazine.Status `json:"status"`
	SentAt        *time.Time          `json:"sentAt"`
	AsOf          calendar.Date       `json:"asOf,omitzero"`
	Recipients    int                 `json:"recipients"`
	Messages      int                 `json:"messages"`
	Rejected      int                 `json:"rejected"`
	Attempts      int                 `json:"attempts"`
	LastError     string              `json:"lastError,omitempty"`
	NextAttemptAt *time.Time          `json:"nextAttemptAt,omitempty"`
}

func (s *Server) issueOf(v mm.IssueView) issueJSON {
	return issueJSON{IssueID: v.IssueID, Subject: v.Subject, Body: v.Body, ScheduledAt: v.ScheduledAt,
		Status: v.StatusAt(s.Clock(), s.App.Queries.MailDelivering), SentAt: v.SentAt, AsOf: v.AsOf, Recipients: v.Recipients,
		Messages: v.Messages, Rejected: v.Rejected, Attempts: v.Attempts, LastError: v.LastError, NextAttemptAt: v.NextAttemptAt}
}

// issueBody is the body of POST /mail-magazine/issues, taken raw.
type issueBody struct {
	Subject json.RawMessage `json:"subject"`
	Body    json.RawMessage `json:"body"`
	SendAt  json.RawMessage `json:"sendAt"`
}

func (s *Server) scheduleMailIssue(w http.ResponseWriter, r *http.Request) {
	var body issueBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	f := rawFields[mailmagazine.FieldError]{make: func(field, code, msg string) mailmagazine.FieldError {
		return mailmagazine.FieldError{Field: field, Code: code, Message: msg}
	}}
	cmd := commands.ScheduleMailMagazineIssue{Meta: meta(r), Subject: f.text("subject", body.Subject), Body: f.text("body", body.Body)}
	if !absentJSON(body.SendAt) {
		// A sendAt that is there is checked, even the zero instant: only an absent one means the
		// next regular time.
		before := len(f.problems)
		if at := f.instant("sendAt", body.SendAt); len(f.problems) == before {
			cmd.SendAt = &at
		}
	}
	cmd.Problems = f.problems
	out, err := s.App.Commands.ScheduleMailMagazineIssue.Handle(r.Context(), cmd)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	i := out.Issue
	w.Header().Set("Location", "/api/v1/mail-magazine/issues/"+i.ID.String())
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusCreated), issueJSON{
		IssueID: i.ID, Subject: i.Subject, Body: i.Body, ScheduledAt: i.ScheduledAt, Status: i.StatusAt(s.Clock(), s.App.Queries.MailDelivering),
	})
}

func (s *Server) listMailIssues(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	limit, after := page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.MailIssues.List(r.Context(), after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]issueJSON, len(list))
	for i, is := range list {
		items[i] = s.issueOf(is)
	}
	httpx.WriteJSON(w, http.StatusOK, newList(items, next))
}

func (s *Server) getMailIssue(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(mux.Vars(r)["issueId"])
	if err != nil {
		s.fail(w, r, mailmagazine.ErrNotFound)
		return
	}
	v, ok, err := s.App.Queries.MailIssues.Get(r.Context(), id)
	if err == nil && !ok {
		err = mailmagazine.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s.issueOf(v))
}
