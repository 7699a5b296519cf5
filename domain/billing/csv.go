package billing

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// CSVEncoding is the character encoding of the CSV export (docs/billing.md).
type CSVEncoding string

const (
	// CSVUTF8 is UTF-8 with a byte order mark, which spreadsheet programs need to detect UTF-8.
	CSVUTF8 CSVEncoding = "utf8"
	// CSVShiftJIS is Shift_JIS as Windows has it (CP932, Windows-31J).
	CSVShiftJIS CSVEncoding = "sjis"
)

// ParseCSVEncoding reads the `encoding` query parameter: "utf8" (also the default, for "") or
// "sjis".
func ParseCSVEncoding(s string) (CSVEncoding, error) {
	switch e := CSVEncoding(s); e {
	case "":
		return CSVUTF8, nil
	case CSVUTF8, CSVShiftJIS:
		return e, nil
	}
	return "", fmt.Errorf("%w: %q (use utf8 or sjis)", ErrUnknownEncoding, s)
}

// CSVHeader is the header row of the export: one row per invoice line, the invoice's own fields
// repeated on each of its rows.
var CSVHeader = []string{
	"invoiceNumber", "customerNumber", "month", "status", "lineNumber",
	"name", "kind", "quantity", "unitPrice", "amount", "note",
	"subtotal", "tax", "total",
}

// cp932Forms maps characters CP932 lacks to the CP932 character that stands for them: the
// characters that the JIS X 0208 and CP932 mappings to Unicode disagree on.
var cp932Forms = strings.NewReplacer(
	"\u301C", "\uFF5E", // 〜 WAVE DASH → ～ FULLWIDTH TILDE
	"\u2212", "\uFF0D", // − MINUS SIGN → － FULLWIDTH HYPHEN-MINUS
	"\u2016", "\u2225", // ‖ DOUBLE VERTICAL LINE → ∥ PARALLEL TO
	"\u2014", "\u2015", // — EM DASH → ― HORIZONTAL BAR
	"\u00A2", "\uFFE0", // ¢ → ￠
	"\u00A3", "\uFFE1", // £ → ￡
	"\u00AC", "\uFFE2", // ¬ → ￢
	"\u00A6", "\uFFE4", // ¦ → ￤
	"\u00A5", "\uFFE5", // ¥ → ￥
	"\u203E", "\uFFE3", // ‾ OVERLINE → ￣ FULLWIDTH MACRON
)

// UnencodableError names a character of the export that has no Shift_JIS (CP932) form, and where
// it is. It matches ErrUnencodable.
type UnencodableError struct {
	Char           rune
	CustomerNumber string
	Month          Month
	Column         string
}

func (e *UnencodableError) Error() string {
	return fmt.Sprintf("billing: character %q (U+%04X) in column %s of the invoice of %s for %s cannot be encoded in Shift_JIS (CP932)",
		e.Char, e.Char, e.Column, e.CustomerNumber, e.Month)
}

func (e *UnencodableError) Unwrap() error { return ErrUnencodable }

// WriteCSV writes the invoices as CSV (RFC 4180, CRLF line ends) in the given encoding: a header
// row (CSVHeader), then one row per invoice line, invoices in the order given. Nothing is written
// when an error occurs, so a caller can still answer with an error status. For sjis, characters
// CP932 lacks are first replaced by their CP932 forms (〜 → ～, − → －, …); any other character
// without a CP932 form fails with an *UnencodableError naming it.
func WriteCSV(w io.Writer, invoices []Invoice, enc CSVEncoding) error {
	if _, err := ParseCSVEncoding(string(enc)); err != nil {
		return err
	}
	rows := [][]string{CSVHeader}
	for _, inv := range invoices {
		for _, row := range csvRows(inv) {
			if enc == CSVShiftJIS {
				for col, field := range row {
					field = cp932Forms.Replace(field)
					if r, bad := unencodable(field); bad {
						return &UnencodableError{Char: r, CustomerNumber: inv.CustomerNumber, Month: inv.Month, Column: CSVHeader[col]}
					}
					row[col] = field
				}
			}
			rows = append(rows, row)
		}
	}

	var buf bytes.Buffer
	if enc == CSVUTF8 {
		buf.WriteString("\uFEFF")
	}
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	out := buf.Bytes()
	if enc == CSVShiftJIS {
		var err error
		if out, err = japanese.ShiftJIS.NewEncoder().Bytes(out); err != nil {
			return fmt.Errorf("billing: encoding CSV as Shift_JIS: %w", err)
		}
	}
	_, err := w.Write(out)
	return err
}

func csvRows(inv Invoice) [][]string {
	num := func(y Yen) string { return strconv.FormatInt(int64(y), 10) }
	invoice := func(line []string) []string {
		return append(append([]string{inv.InvoiceNumber, inv.CustomerNumber, inv.Month.String(), string(inv.Status)}, line...),
			num(inv.Subtotal), num(inv.Tax), num(inv.Total))
	}
	if len(inv.Lines) == 0 {
		// Not an invoice ComputeInvoice makes, but better a row than an invoice silently lost.
		return [][]string{invoice(make([]string, 7))}
	}
	rows := make([][]string, 0, len(inv.Lines))
	for i, l := range inv.Lines {
		rows = append(rows, invoice([]string{
			strconv.Itoa(i + 1), l.Name, string(l.Kind), strconv.Itoa(l.Quantity), num(l.UnitPrice), num(l.Amount), l.Note,
		}))
	}
	return rows
}

// unencodable returns the first character of s that CP932 cannot encode, if there is one.
func unencodable(s string) (rune, bool) {
	if _, err := japanese.ShiftJIS.NewEncoder().String(s); err == nil {
		return 0, false
	}
	for _, r := range s {
		if _, err := japanese.ShiftJIS.NewEncoder().String(string(r)); err != nil {
			return r, true
		}
	}
	return utf8.RuneError, true // not reached: some character failed above
}
