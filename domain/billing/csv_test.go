package billing_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"yorozu/domain/billing"
)

// csvInvoices is one final invoice with a ticket and one draft invoice.
func csvInvoices(t *testing.T) []billing.Invoice {
	t.Helper()
	final, err := invoiceOf(t, opened("2025-05-10", 10, false).tickets("2025-08-05", 1), "2025-08").Finalize("INV-1")
	if err != nil {
		t.Fatal(err)
	}
	c := opened("2025-05-10", 0, false)
	c.t.CustomerNumber = "N000000002"
	draft := invoiceOf(t, c, "2025-08", billing.Adjustment{ForMonth: month("2025-07"), Amount: -500})
	return []billing.Invoice{final, draft}
}

const wantCSV = "invoiceNumber,customerNumber,month,status,lineNumber,name,kind,quantity,unitPrice,amount,note,subtotal,tax,total\r\n" +
	"INV-1,N000000001,2025-08,final,1,基本メニュー利用料,monthly,1,3000,3000,,11000,1100,12100\r\n" +
	"INV-1,N000000001,2025-08,final,2,ヘルスチェックレポート（ＩＤ追加）利用料,monthly,10,300,3000,8月ご利用分です。利用IDは10です,11000,1100,12100\r\n" +
	"INV-1,N000000001,2025-08,final,3,セキュリティチケット利用料,oneTime,1,5000,5000,8月ご利用分です。購入数は1です,11000,1100,12100\r\n" +
	",N000000002,2025-08,draft,1,基本メニュー利用料,monthly,1,3000,3000,,2500,250,2750\r\n" +
	",N000000002,2025-08,draft,2,調整（2025年7月分）,adjustment,1,-500,-500,,2500,250,2750\r\n"

func TestCSVInUTF8HasABOMAndOneRowPerLine(t *testing.T) {
	var buf bytes.Buffer
	if err := billing.WriteCSV(&buf, csvInvoices(t), billing.CSVUTF8); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "\uFEFF"+wantCSV {
		t.Errorf("CSV:\n got %q\nwant %q", got, "\uFEFF"+wantCSV)
	}
}

func TestCSVInShiftJIS(t *testing.T) {
	var buf bytes.Buffer
	if err := billing.WriteCSV(&buf, csvInvoices(t), billing.CSVShiftJIS); err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF")) {
		t.Error("Shift_JIS output starts with a UTF-8 BOM")
	}
	// 基本メニュー利用料 in CP932.
	if !bytes.Contains(buf.Bytes(), []byte("\x8A\xEE\x96\x7B\x83\x81\x83\x6A\x83\x85\x81\x5B\x97\x98\x97\x70\x97\xBF")) {
		t.Error("the base menu line is not in CP932")
	}
	decoded, err := japanese.ShiftJIS.NewDecoder().Bytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if string(decoded) != wantCSV {
		t.Errorf("decoded CSV:\n got %q\nwant %q", decoded, wantCSV)
	}
}

func TestCSVInShiftJISMapsCharactersCP932Lacks(t *testing.T) {
	inv := csvInvoices(t)[0]
	inv.Lines[0].Note = "9〜17時 −5 ‖ ¢£¬ — ¥ ‾ ¦"
	var buf bytes.Buffer
	if err := billing.WriteCSV(&buf, []billing.Invoice{inv}, billing.CSVShiftJIS); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("9\x81\x6017")) {
		t.Error("〜 is not written as CP932 0x8160 (～)")
	}
	decoded, err := japanese.ShiftJIS.NewDecoder().Bytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if want := "9～17時 －5 ∥ ￠￡￢ ― ￥ ￣ ￤"; !strings.Contains(string(decoded), want) {
		t.Errorf("decoded CSV %q does not contain %q", decoded, want)
	}
}

func TestCSVInShiftJISRefusesACharacterWithoutACP932Form(t *testing.T) {
	invoices := csvInvoices(t)
	invoices[1].Lines[1].Note = "𠮷野家"
	var buf bytes.Buffer
	err := billing.WriteCSV(&buf, invoices, billing.CSVShiftJIS)
	var ue *billing.UnencodableError
	if !errors.As(err, &ue) || !errors.Is(err, billing.ErrUnencodable) {
		t.Fatalf("err = %v, want an UnencodableError", err)
	}
	if ue.Char != '𠮷' || ue.CustomerNumber != "N000000002" || ue.Month != month("2025-08") || ue.Column != "note" {
		t.Errorf("error = %+v", ue)
	}
	if msg := err.Error(); !strings.Contains(msg, "𠮷") || !strings.Contains(msg, "U+20BB7") {
		t.Errorf("message %q does not name the character", msg)
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written despite the error", buf.Len())
	}
	// The same invoices are fine in UTF-8.
	if err := billing.WriteCSV(&buf, invoices, billing.CSVUTF8); err != nil {
		t.Errorf("UTF-8: %v", err)
	}
}

func TestCSVEncodingParameter(t *testing.T) {
	for in, want := range map[string]billing.CSVEncoding{"": billing.CSVUTF8, "utf8": billing.CSVUTF8, "sjis": billing.CSVShiftJIS} {
		if got, err := billing.ParseCSVEncoding(in); err != nil || got != want {
			t.Errorf("ParseCSVEncoding(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := billing.ParseCSVEncoding("latin1"); !errors.Is(err, billing.ErrUnknownEncoding) {
		t.Errorf("latin1: err = %v", err)
	}
	if err := billing.WriteCSV(&bytes.Buffer{}, nil, "ebcdic"); !errors.Is(err, billing.ErrUnknownEncoding) {
		t.Errorf("WriteCSV(ebcdic): err = %v", err)
	}
}

func TestCSVOfNoInvoiceIsTheHeaderAlone(t *testing.T) {
	var buf bytes.Buffer
	if err := billing.WriteCSV(&buf, nil, billing.CSVUTF8); err != nil {
		t.Fatal(err)
	}
	if want := "\uFEFF" + strings.SplitAfter(wantCSV, "\r\n")[0]; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestCSVKeepsAnInvoiceWithoutLinesAsOneRow(t *testing.T) {
	var buf bytes.Buffer
	inv := billing.Invoice{CustomerNumber: "N000000003", Month: month("2025-08"), Status: billing.StatusDraft}
	if err := billing.WriteCSV(&buf, []billing.Invoice{inv}, billing.CSVUTF8); err != nil {
		t.Fatal(err)
	}
	if want := ",N000000003,2025-08,draft,,,,,,,,0,0,0\r\n"; !strings.HasSuffix(buf.String(), want) {
		t.Errorf("got %q, want it to end with %q", buf.String(), want)
	}
}
