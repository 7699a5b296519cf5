package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/healthcheck"
	"yorozu/domain/report"
	"yorozu/projections/contracts"
	"yorozu/projections/reports/render"
)

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

// monthReport is the report a request names, with the contract it is of, or the error to answer.
func (s *Server) monthReport(r *http.Request) (report.Report, contracts.View, error) {
	var v httpx.ValidationError
	vars := mux.Vars(r)
	m := billingMonth(vars["month"], "month", &v)
	if err := v.Err(); err != nil {
		return report.Report{}, contracts.View{}, err
	}
	cn := vars["customerNumber"]
	c, ok, err := s.App.Queries.Contracts.Get(r.Context(), cn)
	if err == nil && !ok {
		err = contract.ErrNotFound
	}
	if err != nil {
		return report.Report{}, contracts.View{}, err
	}
	rep, err := s.App.Queries.Reports.Report(r.Context(), cn, m, s.Clock())
	return rep, c, err
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

// reportHTML answers the report as one printable HTML page with its charts
// (projections/reports/render): self-contained, under a policy that lets it load nothing.
func (s *Server) reportHTML(w http.ResponseWriter, r *http.Request) {
	rep, c, err := s.monthReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := "/api/v1/reports/" + url.PathEscape(rep.CustomerNumber) + "/" + rep.Month + "/"
	var buf bytes.Buffer
	err = render.HTML(&buf, rep, render.Options{
		CompanyName: c.Contractor.Name,
		CSVHref:     func(section string) string { return base + section + ".csv" },
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", render.ContentSecurityPolicy)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// reportCSV answers one section of the report as CSV (UTF-8 with BOM), as a download.
func (s *Server) reportCSV(w http.ResponseWriter, r *http.Request) {
	section := mux.Vars(r)["section"]
	if !slices.Contains(render.Sections(), section) {
		s.fail(w, r, fmt.Errorf("%w: %q", render.ErrUnknownSection, section))
		return
	}
	rep, _, err := s.monthReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := render.CSV(&buf, rep, section); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="report-%s-%s-%s.csv"`, rep.CustomerNumber, rep.Month, section))
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
