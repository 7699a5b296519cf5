package render_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"yorozu/projections/reports/render"
)

// chromiumPath finds Debian's chromium. The browser test is part of the suite: without the
// browser it fails and says how to install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Fatal("chromium is not installed: the report's browser test needs it; install it with `apt-get install -y chromium` (.ci/run does)")
	return ""
}

// browser starts a headless chromium that reaches nothing but the test's own server.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 1400),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	return ctx
}

// pageEvents collects what would tell that the page is broken or not self-contained.
type pageEvents struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (p *pageEvents) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			p.problems = append(p.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		msg := ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			msg += " " + ex.Description
		}
		p.problems = append(p.problems, "exception: "+msg)
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError {
			p.problems = append(p.problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, ev.Request.URL)
	}
}

type box struct {
	Section string  `json:"section"`
	Width   float64 `json:"width"`
	Height  float64 `json:"height"`
	Right   float64 `json:"right"`
}

// TestReportInChromium opens the HTML of a full sample report in a real browser: every chart is
// drawn with a size, nothing fails or reaches out, nothing sticks out of an A4 page, and the
// print gives A4 pages. The screenshot and the PDF stay in the test's temp dir (and in
// $YOROZU_REPORT_OUT when set, to look at them).
func TestReportInChromium(t *testing.T) {
	var doc bytes.Buffer
	r := render.Sample()
	if err := render.HTML(&doc, r, render.Options{CompanyName: render.SampleCompany}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/report.html" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The strictest policy the report works under: no script, no request, inline styles.
		// A style the policy blocked would be reported as an error below.
		w.Header().Set("Content-Security-Policy", render.ContentSecurityPolicy)
		_, _ = w.Write(doc.Bytes())
	}))
	t.Cleanup(srv.Close)

	ctx := browser(t)
	events := &pageEvents{}
	if err := chromedp.Listen(ctx, events.listen); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/report.html")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}

	// Every chart is an SVG with a size on the page, in the section it belongs to.
	svgs, err := chromedp.Run(ctx, chromedp.Evaluate[[]box](`Array.from(document.querySelectorAll('svg')).map(s => {
		const r = s.getBoundingClientRect();
		return {section: s.closest('section').id, width: r.width, height: r.height, right: r.right};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	wantCharts := []string{"os-patches", "web-top30", "harmful-access", "off-hours"}
	var got []string
	for _, s := range svgs {
		got = append(got, s.Section)
		if s.Width <= 0 || s.Height <= 0 {
			t.Errorf("chart in %s drawn %vx%v, want a visible size", s.Section, s.Width, s.Height)
		}
	}
	if strings.Join(got, ",") != strings.Join(wantCharts, ",") {
		t.Errorf("charts in sections %v, want %v", got, wantCharts)
	}

	headings, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('h2')).map(h => h.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	wantHeadings := []string{"まとめ", "1OS・パッチ状況", "2ソフトウェア", "3Webサイト閲覧 TOP30", "4有害カテゴリへのアクセス", "5時間外利用", "6外部メディア"}
	if strings.Join(headings, "|") != strings.Join(wantHeadings, "|") {
		t.Errorf("headings %q, want %q", headings, wantHeadings)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}

	// On paper the content is 182 mm wide (A4 less the 14 mm margins): at that width, in print
	// media, nothing may stick out to the right, where the printer would cut it.
	const printWidth = 688 // 182 mm at 96 px per inch
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(printWidth, 1000)); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[[]box](`(() => {
		const limit = document.documentElement.clientWidth + 0.5;
		const out = [];
		if (document.documentElement.scrollWidth > limit) {
			out.push({section: 'document', width: document.documentElement.scrollWidth, height: 0, right: 0});
		}
		for (const el of document.querySelectorAll('svg, table, .kpis, .risk, .cover-head, p')) {
			const r = el.getBoundingClientRect();
			if (r.right > limit) {
				out.push({section: (el.closest('section') || {}).id + ' ' + el.tagName, width: r.width, height: r.height, right: r.right});
			}
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range overflow {
		t.Errorf("%s sticks out of the printed page: right edge at %.0fpx, page content is %dpx wide", o.Section, o.Right, printWidth)
	}

	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(
		chromedp.PDFPaper(chromedp.PaperA4),
		chromedp.PDFPrintBackground(),
		chromedp.PDFPreferCSSPageSize(),
	))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("print is not a PDF (%d bytes)", len(pdf))
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page\b`).FindAll(pdf, -1))
	// The summary, then each of the six sections on pages of its own.
	if pages < 7 {
		t.Errorf("printed on %d pages, want at least 7 (summary and six sections, each from a new page)", pages)
	}
	// A4 is 210 x 297 mm, 595.3 x 841.9 pt.
	boxes := regexp.MustCompile(`/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]`).FindAllSubmatch(pdf, -1)
	if len(boxes) != pages {
		t.Errorf("%d media boxes for %d pages", len(boxes), pages)
	}
	for _, b := range boxes {
		w, _ := strconv.ParseFloat(string(b[1]), 64)
		h, _ := strconv.ParseFloat(string(b[2]), 64)
		if math.Abs(w-595.3) > 1 || math.Abs(h-841.9) > 1 {
			t.Errorf("a printed page is %.1f x %.1f pt, want A4 (595.3 x 841.9 pt)", w, h)
			break
		}
	}

	events.mu.Lock()
	defer events.mu.Unlock()
	for _, p := range events.problems {
		t.Errorf("browser reported: %s", p)
	}
	for _, u := range events.requests {
		if !strings.HasPrefix(u, srv.URL+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the report requested %s: it must be self-contained", u)
		}
	}

	dir := t.TempDir()
	for _, out := range []string{dir, os.Getenv("YOROZU_REPORT_OUT")} {
		if out == "" {
			continue
		}
		for name, data := range map[string][]byte{"report.png": png, "report.pdf": pdf, "report.html": doc.Bytes()} {
			if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d charts, %d printed pages; screenshot and PDF in %s", len(svgs), pages, dir)
}
