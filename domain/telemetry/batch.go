package telemetry

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Acceptance window of a record's time, against the time its batch is received. Agents buffer
// up to two weeks offline, so late batches are normal; a day of grace on top.
const (
	MaxLateness = 15 * 24 * time.Hour
	MaxAhead    = 5 * time.Minute
)

// MaxBatchBytes is the largest batch, uncompressed.
const MaxBatchBytes = 8 << 20

// maxText bounds every text field of a record (URLs, paths, titles, names).
const maxText = 4096

// Record types.
const (
	RecordBoot     = "boot"
	RecordShutdown = "shutdown"
	RecordLogon    = "logon"
	RecordLogoff   = "logoff"
	RecordApp      = "app"
	RecordFile     = "file"
	RecordPrint    = "print"
	RecordDevice   = "device"
	RecordWeb      = "web"
)

// External media classes the report lists (any other device class is kept but not listed).
const (
	DeviceUSBStorage  = "usbStorage"
	DeviceExternalHDD = "externalHdd"
	DeviceOptical     = "optical"
	DeviceAppleMobile = "appleMobile"
)

// IsExternalMedia reports whether a device class is one the report's external-media section lists.
func IsExternalMedia(class string) bool {
	switch class {
	case DeviceUSBStorage, DeviceExternalHDD, DeviceOptical, DeviceAppleMobile:
		return true
	}
	return false
}

// Record is one fact an agent saw. Type and At always; the rest by type.
type Record struct {
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// logon, logoff
	User string `json:"user,omitempty"`
	// app: Action start or stop, Name, Path
	Action string `json:"action,omitempty"`
	Name   string `json:"name,omitempty"`
	Path   string `json:"path,omitempty"`
	// file: Operation (create, copy, move, delete, rename), Path, Size, Destination
	Operation   string `json:"operation,omitempty"`
	Size        *int64 `json:"size,omitempty"`
	Destination string `json:"destination,omitempty"`
	// print: Printer, Pages, Document
	Printer  string `json:"printer,omitempty"`
	Pages    *int64 `json:"pages,omitempty"`
	Document string `json:"document,omitempty"`
	// device: Class, Name, Vendor, Serial
	Class  string `json:"class,omitempty"`
	Vendor string `json:"vendor,omitempty"`
	Serial string `json:"serial,omitempty"`
	// web: URL, Seconds in focus, Title
	URL     string `json:"url,omitempty"`
	Seconds *int64 `json:"seconds,omitempty"`
	Title   string `json:"title,omitempty"`
}

// Valid reports whether a record holds what its type needs, on its own (its time aside).
func (r *Record) Valid() bool {
	if r.At.IsZero() {
		return false
	}
	for _, s := range [...]string{r.User, r.Action, r.Name, r.Path, r.Operation, r.Destination, r.Printer, r.Document,
		r.Class, r.Vendor, r.Serial, r.URL, r.Title} {
		if !cleanText(s) {
			return false
		}
	}
	switch r.Type {
	case RecordBoot, RecordShutdown:
		return true
	case RecordLogon, RecordLogoff:
		return r.User != ""
	case RecordApp:
		return (r.Action == "start" || r.Action == "stop") && r.Name != ""
	case RecordFile:
		switch r.Operation {
		case "create", "copy", "move", "delete", "rename":
		default:
			return false
		}
		return r.Path != "" && (r.Size == nil || *r.Size >= 0)
	case RecordPrint:
		return r.Printer != "" && r.Pages != nil && *r.Pages >= 0
	case RecordDevice:
		return r.Class != "" && r.Name != ""
	case RecordWeb:
		if r.Seconds == nil || *r.Seconds < 0 || *r.Seconds > 31*24*3600 {
			return false
		}
		_, ok := WebHost(r.URL)
		return ok
	}
	return false
}

// WebHost is the lower-case host of a visited URL (without port); ok is false for a URL that is
// not absolute http(s) with a host.
func WebHost(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	return h, h != ""
}

// cleanText: valid UTF-8, at most maxText bytes, no control characters but tab and newline.
func cleanText(s string) bool {
	if len(s) > maxText {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			return utf8.ValidString(s[i:]) && !hasC1(s[i:])
		}
	}
	return true
}

func hasC1(s string) bool {
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			return true
		}
	}
	return false
}

// Inventory is a terminal's full inventory, sent in a batch now and then (always in its first).
type Inventory struct {
	OS       OS         `json:"os"`
	Updates  []Update   `json:"updates"`
	Software []Software `json:"software"`
	Hardware Hardware   `json:"hardware"`
}

// Update is an installed Windows update.
type Update struct {
	KB          string `json:"kb"`
	InstalledOn string `json:"installedOn"`
}

// Software is an installed application.
type Software struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Publisher string `json:"publisher"`
}

// Hardware is the terminal's hardware summary.
type Hardware struct {
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
	CPU          string `json:"cpu"`
	MemoryMB     int64  `json:"memoryMB"`
	DiskGB       int64  `json:"diskGB"`
}

// Batch is an upload, as sorted by Sort: what is kept, what is dropped.
type Batch struct {
	BatchID       uuid.UUID
	Sequence      int64
	CollectedFrom time.Time
	CollectedTo   time.Time
	Inventory     *Inventory
	// Accepted are the records kept, in the order sent.
	Accepted []Record
	Dropped  Dropped
}

// Classify sorts one record of a batch received at receivedAt: true if it is accepted, else
// false with the reason counted in d.
func Classify(r *Record, valid bool, receivedAt time.Time, d *Dropped) bool {
	switch {
	case !valid:
		d.Invalid++
	case r.At.Before(receivedAt.Add(-MaxLateness)):
		d.TooOld++
	case r.At.After(receivedAt.Add(MaxAhead)):
		d.Future++
	default:
		return true
	}
	return false
}

// Payload is what a batch event seals: the accepted records and the inventory.
type Payload struct {
	Inventory *Inventory `json:"inventory,omitempty"`
	Records   []Record   `json:"records"`
}
