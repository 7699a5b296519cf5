package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/healthcheck"
	"yorozu/domain/report"
)

// ReportRenderer renders a report: the whole of it as an HTML page with charts, or one section
// as CSV. The composition root plugs the renderer in (api.Deps.ReportRenderer); without one
// the .html and .csv routes answer 501.
type ReportRenderer interface {
	HTML(w io.Writer, r report.Report) error
	// CSV writes one section; an unknown section is ErrUnknownSection.
	CSV(w io.Writer, r report.Report, section string) error
}

// ErrUnknownSection: a CSV of a section the report does not have.
var ErrUnknownSection = errors.New("report: unknown section")

// errNoRenderer: the service runs without a report renderer.
var errNoRenderer = errors.New("report rendering is not available in this service")

const monthPattern = "{month:[0-9]{4}-[0-9]{2}}"

// reportRoutes are the monthly report and its reference data.
func (s *Server) reportRoutes() []route {
	return []route{
		{"GET", "/api/v1/reports/{customerNumber}/" + monthPattern, access.PermReadOperations, false, s.reportJSON},
		{"GET", "/api/v1/reports/{customerNumber}/" + monthPattern + ".html", access.PermReadOperations, false, s.reportHTML},
		{"GET", "/api/v1/reports/{customerNumber}/" + monthPattern + "/{section}.csv", access.PermReadOperations, false, s.reportCSV},
		{"POST", "/api/v1/catalogs/patches", access.PermCommand, true, s.publishPatchCatalog},
		{"POST", "/api/v1/catalogs/software", access.PermCommand, true, s.publishSoftwareCatalog},
	}
}

// monthReport is the report a request names, or the error to answer.
func (s *Server) monthReport(r *http.Request) (report.Report, error) {
	var v httpx.ValidationError
	vars := mux.Vars(r)
	m := billingMonth(vars["month"], "month", &v)
	if err := v.Err(); err != nil {
		return report.Report{}, err
	}
	cn := vars["customerNumber"]
	if _, ok, err := s.App.Queries.Contracts.Get(r.Context(), cn); err != nil || !ok {
		if err == nil {
			err = contract.ErrNotFound
		}
		return report.Report{}, err
	}
	return s.App.Queries.Reports.Report(r.Context(), cn, m, s.Clock())
}

func (s *Server) reportJSON(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	vars := mux.Vars(r)
	m := billingMonth(vars["month"], "month", &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	cn := vars["customerNumber"]
	if _, ok, err := s.App.Queries.Contracts.Get(r.Context(), cn); err != nil || !ok {
		if err == nil {
			err = contract.ErrNotFound
		}
		s.fail(w, r, err)
		return
	}
	// The encoding is cached with the report: a 100-terminal report is a few hundred KB.
	body, err := s.App.Queries.Reports.ReportJSON(r.Context(), cn, m, s.Clock())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // shared with the cache: never appended to
	_, _ = w.Write([]byte{'\n'})
}

// reportHTML is the hook for the HTML rendering.
func (s *Server) reportHTML(w http.ResponseWriter, r *http.Request) {
	s.renderReport(w, r, "text/html; charset=utf-8", func(out io.Writer, rep report.Report) error {
		return s.ReportRenderer.HTML(out, rep)
	})
}

// reportCSV is the hook for the CSV of one section.
func (s *Server) reportCSV(w http.ResponseWriter, r *http.Request) {
	section := mux.Vars(r)["section"]
	s.renderReport(w, r, "text/csv; charset=utf-8", func(out io.Writer, rep report.Report) error {
		return s.ReportRenderer.CSV(out, rep, section)
	})
}

func (s *Server) renderReport(w http.ResponseWriter, r *http.Request, contentType string, render func(io.Writer, report.Report) error) {
	if s.ReportRenderer == nil {
		s.fail(w, r, errNoRenderer)
		return
	}
	rep, err := s.monthReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := render(&buf, rep); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// catalogBody is the body of POST /api/v1/catalogs/{patches|software}: the entries that replace
// the catalog.
type patchCatalogBody struct {
	Entries *[]healthcheck.PatchEntry `json:"entries"`
}

type softwareCatalogBody struct {
	Entries *[]healthcheck.SoftwareEntry `json:"entries"`
}

func (s *Server) publishPatchCatalog(w http.ResponseWriter, r *http.Request) {
	var body patchCatalogBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Entries == nil {
		s.fail(w, r, entriesRequired())
		return
	}
	s.publishCatalog(w, r, commands.PublishCatalog{Meta: meta(r), Kind: commands.CatalogPatches, Patches: *body.Entries}, *body.Entries)
}

func (s *Server) publishSoftwareCatalog(w http.ResponseWriter, r *http.Request) {
	var body softwareCatalogBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Entries == nil {
		s.fail(w, r, entriesRequired())
		return
	}
	s.publishCatalog(w, r, commands.PublishCatalog{Meta: meta(r), Kind: commands.CatalogSoftware, Software: *body.Entries}, *body.Entries)
}

func entriesRequired() error {
	var v httpx.ValidationError
	v.Add("entries", "required", "entries is required (an array, which may be empty)")
	return v.Err()
}

func (s *Server) publishCatalog(w http.ResponseWriter, r *http.Request, cmd commands.PublishCatalog, entries any) {
	out, err := s.App.Commands.PublishCatalog.Handle(r.Context(), cmd)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusCreated), map[string]any{
		"kind": cmd.Kind, "version": out.Number, "publishedAt": out.PublishedAt,
		"effectiveOn": calendar.DateOf(out.PublishedAt).String(), "entries": entries})
}
