package event_test

import (
	"errors"
	"testing"
	"time"

	"yorozu/domain/event"
)

var timeOne = time.Date(2025, 7, 1, 1, 0, 0, 0, time.UTC)

type noted struct {
	Note string `json:"note"`
}

func TestEncodeRefusesANULButNotItsSpelling(t *testing.T) {
	r := event.NewRegistry()
	r.Register((*noted)(nil))
	for _, note := range []string{"a\x00b", "\x00", `\` + "\x00"} {
		if _, _, err := r.Encode(&noted{Note: note}); !errors.Is(err, event.ErrUnstorableText) {
			t.Errorf("Encode(%q): err = %v, want ErrUnstorableText", note, err)
		}
	}
	// A backslash followed by the letters u0000 is ordinary text: JSON escapes the backslash.
	for _, note := range []string{`\u0000`, `\\u0000`, "\u0001 and \t are storable", "u0000"} {
		_, data, err := r.Encode(&noted{Note: note})
		if err != nil {
			t.Errorf("Encode(%q): %v", note, err)
			continue
		}
		e, err := r.Decode(event.Record{Type: "noted", Data: data})
		if err != nil || e.(*noted).Note != note {
			t.Errorf("%q does not round-trip: %v %v", note, e, err)
		}
	}
}

func TestValidateDraftsRefusesEnvelopeTextNoStoreCanHold(t *testing.T) {
	good := func() event.Draft {
		return event.Draft{ID: [16]byte{1}, Type: "noted", Data: []byte(`{}`), RecordedAt: timeOne, Actor: "ito"}
	}
	if err := event.ValidateDrafts("notes-1", []event.Draft{good()}); err != nil {
		t.Fatalf("a good draft: %v", err)
	}
	for name, edit := range map[string]func(*event.Draft){
		"actor with a NUL":              func(d *event.Draft) { d.Actor = "ito\x00" },
		"command ID with invalid UTF-8": func(d *event.Draft) { d.CommandID = "\xff" },
		"correlation ID with a NUL":     func(d *event.Draft) { d.CorrelationID = "\x00" },
		"causation ID with a NUL":       func(d *event.Draft) { d.CausationID = "a\x00" },
		"type with a NUL":               func(d *event.Draft) { d.Type = "noted\x00" },
	} {
		d := good()
		edit(&d)
		if err := event.ValidateDrafts("notes-1", []event.Draft{d}); !errors.Is(err, event.ErrInvalidDraft) {
			t.Errorf("%s: err = %v, want ErrInvalidDraft", name, err)
		}
	}
	if err := event.ValidateDrafts("notes-\x00", []event.Draft{good()}); !errors.Is(err, event.ErrInvalidDraft) {
		t.Errorf("stream with a NUL: err = %v, want ErrInvalidDraft", err)
	}
}
