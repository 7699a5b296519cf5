package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// FieldError is one broken rule of an upload or an enrollment.
type FieldError struct{ Field, Code, Message string }

// InvalidError lists every broken rule of a request at once (422).
type InvalidError struct {
	What   string
	Errors []FieldError
}

// ErrInvalid: an enrollment or an upload breaks a rule of its own (not a record's: those are
// dropped and counted).
var ErrInvalid = errors.New("telemetry: invalid request")

func (e *InvalidError) Error() string {
	return fmt.Sprintf("telemetry: invalid %s: %d errors", e.What, len(e.Errors))
}
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func (e *InvalidError) add(field, code, msg string) {
	e.Errors = append(e.Errors, FieldError{Field: field, Code: code, Message: msg})
}

func (e *InvalidError) err() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}

// MalformedError: an upload that is not the JSON of a batch at all (400).
type MalformedError struct{ Reason string }

// ErrMalformed matches *MalformedError.
var ErrMalformed = errors.New("telemetry: malformed batch")

func (e *MalformedError) Error() string { return "telemetry: malformed batch: " + e.Reason }
func (e *MalformedError) Unwrap() error { return ErrMalformed }

// Validate checks an enrollment's own fields.
func (r Enrollment) Validate() error {
	e := InvalidError{What: "enrollment"}
	required := func(field, v string, max int) {
		switch {
		case v == "":
			e.add(field, "required", field+" is required")
		case len(v) > max || !cleanText(v):
			e.add(field, "format", fmt.Sprintf("%s must be at most %d characters, without control characters", field, max))
		}
	}
	required("hostname", r.Hostname, 255)
	required("hardwareId", r.HardwareID, 255)
	required("os.edition", r.OS.Edition, 255)
	for i, t := range r.AssetManagementTools {
		if !cleanText(t) {
			e.add(fmt.Sprintf("assetManagementTools[%d]", i), "format", "a tool name must not hold control characters")
		}
	}
	for _, f := range []struct{ name, v string }{{"os.version", r.OS.Version}, {"os.build", r.OS.Build}} {
		if len(f.v) > 64 || !cleanText(f.v) {
			e.add(f.name, "format", f.name+" must be at most 64 characters")
		}
	}
	return e.err()
}

// upload is the wire form of a batch. Records are taken raw, so that one that does not decode is
// dropped alone.
type upload struct {
	BatchID       *string           `json:"batchId"`
	Sequence      *int64            `json:"sequence"`
	CollectedFrom *time.Time        `json:"collectedFrom"`
	CollectedTo   *time.Time        `json:"collectedTo"`
	Inventory     *Inventory        `json:"inventory"`
	Records       []json.RawMessage `json:"records"`
}

// DecodeUpload reads an uploaded batch (uncompressed JSON) received at receivedAt and sorts its
// records: accepted, or dropped and counted as invalid, too old or in the future. It fails with a
// *MalformedError when the body is not a JSON batch (400) and an *InvalidError when the batch's
// own fields break a rule (422).
func DecodeUpload(body []byte, receivedAt time.Time) (Batch, error) {
	var u upload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&u); err != nil {
		return Batch{}, &MalformedError{Reason: err.Error()}
	}
	if dec.More() {
		return Batch{}, &MalformedError{Reason: "more than one JSON value"}
	}
	if _, err := dec.Token(); err == nil {
		return Batch{}, &MalformedError{Reason: "trailing data after the batch"}
	}
	inv := InvalidError{What: "batch"}
	var b Batch
	switch {
	case u.BatchID == nil:
		inv.add("batchId", "required", "batchId is required (a UUID)")
	default:
		id, err := uuid.Parse(*u.BatchID)
		if err != nil || id == uuid.Nil {
			inv.add("batchId", "format", "batchId must be a UUID")
		}
		b.BatchID = id
	}
	switch {
	case u.Sequence == nil:
		inv.add("sequence", "required", "sequence is required")
	case *u.Sequence < 0:
		inv.add("sequence", "range", "sequence is zero or more")
	default:
		b.Sequence = *u.Sequence
	}
	if u.CollectedFrom == nil {
		inv.add("collectedFrom", "required", "collectedFrom is required (RFC 3339)")
	} else {
		b.CollectedFrom = u.CollectedFrom.UTC()
	}
	if u.CollectedTo == nil {
		inv.add("collectedTo", "required", "collectedTo is required (RFC 3339)")
	} else {
		b.CollectedTo = u.CollectedTo.UTC()
	}
	if u.CollectedFrom != nil && u.CollectedTo != nil && u.CollectedTo.Before(*u.CollectedFrom) {
		inv.add("collectedTo", "range", "collectedTo is not before collectedFrom")
	}
	if u.Inventory != nil {
		b.Inventory = u.Inventory
		if !cleanInventory(u.Inventory) {
			inv.add("inventory", "format", "the inventory has control characters or overlong text")
		}
	}
	if err := inv.err(); err != nil {
		return Batch{}, err
	}
	b.Accepted = make([]Record, 0, len(u.Records))
	for _, raw := range u.Records {
		var r Record
		valid := json.Unmarshal(raw, &r) == nil && r.Valid()
		if Classify(&r, valid, receivedAt, &b.Dropped) {
			r.At = r.At.UTC()
			b.Accepted = append(b.Accepted, r)
		}
	}
	return b, nil
}

func cleanInventory(inv *Inventory) bool {
	texts := []string{inv.OS.Edition, inv.OS.Version, inv.OS.Build, inv.Hardware.Manufacturer, inv.Hardware.Model, inv.Hardware.CPU}
	for _, u := range inv.Updates {
		texts = append(texts, u.KB, u.InstalledOn)
	}
	for _, s := range inv.Software {
		texts = append(texts, s.Name, s.Version, s.Publisher)
	}
	for _, t := range texts {
		if !cleanText(t) {
			return false
		}
	}
	return true
}
