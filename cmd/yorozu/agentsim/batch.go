package agentsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"

	"yorozu/domain/telemetry"
)

// wireUpload is the JSON an agent sends.
type wireUpload struct {
	BatchID       string               `json:"batchId"`
	Sequence      int64                `json:"sequence"`
	CollectedFrom time.Time            `json:"collectedFrom"`
	CollectedTo   time.Time            `json:"collectedTo"`
	Inventory     *telemetry.Inventory `json:"inventory,omitempty"`
	Records       []telemetry.Record   `json:"records"`
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// makeBatch makes the terminal's next batch: the records of the last interval up to now.
func (s *Simulator) makeBatch(t *Terminal) wireBatch {
	now := s.cfg.Now().UTC().Truncate(time.Second)
	from := now.Add(-s.cfg.Interval)
	t.sequence++
	u := wireUpload{BatchID: uuidFrom(t.rng).String(), Sequence: t.sequence, CollectedFrom: from, CollectedTo: now}
	if !t.sentInventory {
		u.Inventory = inventory(t)
		t.sentInventory = true
	}
	u.Records = Records(t.rng, from, now, s.cfg.RecordsPerBatch)
	raw, err := json.Marshal(u)
	if err != nil {
		panic(err) // the types above always encode
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	gzipWriters.Put(zw)
	return wireBatch{gz: buf.Bytes(), records: len(u.Records)}
}

func uuidFrom(r *rand.Rand) uuid.UUID {
	var id uuid.UUID
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			id[i+j] = byte(v >> (8 * j))
		}
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

func inventory(t *Terminal) *telemetry.Inventory {
	r := t.rng
	inv := &telemetry.Inventory{
		OS: telemetry.OS{Edition: "Windows 11 Pro", Version: "23H2", Build: fmt.Sprintf("22631.%d", 4000+r.IntN(500))},
		Hardware: telemetry.Hardware{Manufacturer: "FUJITSU", Model: "LIFEBOOK U9313/M", CPU: "Intel(R) Core(TM) i5-1345U",
			MemoryMB: 16384, DiskGB: 512},
	}
	day := time.Date(2025, 1, 14, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		inv.Updates = append(inv.Updates, telemetry.Update{KB: fmt.Sprintf("KB50%05d", 34000+i*123+r.IntN(100)),
			InstalledOn: day.AddDate(0, 0, i*14).Format(time.DateOnly)})
	}
	for _, a := range applications {
		if r.IntN(10) < 8 {
			inv.Software = append(inv.Software, telemetry.Software{Name: a.name, Version: a.version, Publisher: a.publisher})
		}
	}
	return inv
}

// Records makes about n records of a terminal's activity in [from, to]: mostly web visits, then
// application starts and stops, file operations, a logon or two, prints, and now and then a
// device (a USB stick one batch in about fifty).
func Records(r *rand.Rand, from, to time.Time, n int) []telemetry.Record {
	span := to.Sub(from)
	at := func() time.Time { return from.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Second) }
	recs := make([]telemetry.Record, 0, n+4)
	user := users[r.IntN(len(users))]
	if r.IntN(8) == 0 {
		recs = append(recs, telemetry.Record{Type: telemetry.RecordBoot, At: at()})
		recs = append(recs, telemetry.Record{Type: telemetry.RecordLogon, At: at(), User: user})
	}
	for len(recs) < n {
		switch k := r.IntN(100); {
		case k < 70:
			site := siteList[r.IntN(len(siteList))]
			if r.IntN(400) == 0 {
				site = harmfulSites[r.IntN(len(harmfulSites))]
			}
			secs := int64(1 + r.IntN(300))
			recs = append(recs, telemetry.Record{Type: telemetry.RecordWeb, At: at(),
				URL:     fmt.Sprintf("https://%s%s%d", site, pagePaths[r.IntN(len(pagePaths))], r.IntN(10000)),
				Seconds: &secs, Title: pageTitles[r.IntN(len(pageTitles))]})
		case k < 82:
			a := applications[r.IntN(len(applications))]
			action := "start"
			if r.IntN(2) == 0 {
				action = "stop"
			}
			recs = append(recs, telemetry.Record{Type: telemetry.RecordApp, At: at(), Action: action, Name: a.name, Path: a.path})
		case k < 96:
			size := int64(r.IntN(5 << 20))
			ops := []string{"create", "copy", "move", "delete", "rename"}
			recs = append(recs, telemetry.Record{Type: telemetry.RecordFile, At: at(), Operation: ops[r.IntN(len(ops))],
				Path: fmt.Sprintf(`C:\Users\%s\Documents\見積書_%04d.xlsx`, user, r.IntN(10000)), Size: &size})
		case k < 99:
			pages := int64(1 + r.IntN(20))
			recs = append(recs, telemetry.Record{Type: telemetry.RecordPrint, At: at(), Printer: "RICOH IM C3000",
				Pages: &pages, Document: "請求書.pdf"})
		default:
			if r.IntN(2) == 0 {
				recs = append(recs, telemetry.Record{Type: telemetry.RecordLogoff, At: at(), User: user})
			} else {
				recs = append(recs, telemetry.Record{Type: telemetry.RecordLogon, At: at(), User: user})
			}
		}
	}
	if r.IntN(50) == 0 {
		d := devices[r.IntN(len(devices))]
		recs = append(recs, telemetry.Record{Type: telemetry.RecordDevice, At: at(), Class: d.class, Name: d.name, Vendor: d.vendor,
			Serial: fmt.Sprintf("%012X", r.Uint64()&0xffffffffffff)})
	}
	return recs
}
