// Package render turns a monthly health-check report (domain/report) into what a customer
// receives: one self-contained HTML document (inline CSS and server-drawn SVG charts, printable
// on A4) and one CSV per section. It only reads the report value; computing it lives elsewhere.
// docs/report-rendering.md describes the output.
package render

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"

	"yorozu/domain/report"
)

// Options shape the HTML rendering. The zero value is usable.
type Options struct {
	// CompanyName is printed on the cover (「… 御中」) when given; the report itself carries only
	// the customer number.
	CompanyName string
	// MaxRows bounds every table of the HTML; the rows past it are counted and left to the
	// section's CSV. Zero or less means 100.
	MaxRows int
	// CSVHref, when set, gives the link to a section's CSV (section names as CSV takes them);
	// a table cut short then links to it. Without it the note names the section only.
	CSVHref func(section string) string
}

// ContentSecurityPolicy is a policy an HTTP handler can send with the HTML: the report runs no
// script and loads nothing, its styles and charts are inline.
const ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

//go:embed report.html.tmpl
var reportTemplate string

//go:embed report.css
var reportCSS string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"css": func() template.CSS { return template.CSS(reportCSS) },
}).Parse(reportTemplate))

// HTML writes the report as one HTML document. Nothing is written when it fails.
func HTML(w io.Writer, r report.Report, opts Options) error {
	v, err := buildView(r, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("render: html: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}
