package audit

import (
	"context"

	"yorozu/domain/event"
)

// Report is the answer of an integrity check (SPEC 12 audit verify).
type Report struct {
	OK            bool        `json:"ok"`
	CheckedEvents int         `json:"checkedEvents"`
	FirstBroken   *BrokenLink `json:"firstBroken"`
}

// BrokenLink names the first event whose chain does not hold.
type BrokenLink struct {
	Stream        string `json:"stream"`
	StreamVersion uint64 `json:"streamVersion"`
	EventID       string `json:"eventId"`
	Reason        string `json:"reason"`
}

// Verify walks the whole global log and checks every stream's hash chain. It reads the event
// store itself, not a read model: a read model could hide what was changed underneath it.
func Verify(ctx context.Context, events event.Log) (Report, error) {
	v := event.NewChainVerifier()
	var after event.Position
	for {
		recs, err := events.ReadAll(ctx, after, 5000)
		if err != nil {
			return Report{}, err
		}
		for _, r := range recs {
			if !v.Add(r) {
				b := v.Broken()
				return Report{CheckedEvents: v.Checked(), FirstBroken: &BrokenLink{
					Stream: b.Stream, StreamVersion: b.StreamVersion, EventID: b.EventID, Reason: b.Reason,
				}}, nil
			}
		}
		if len(recs) == 0 {
			return Report{OK: true, CheckedEvents: v.Checked()}, nil
		}
		after = recs[len(recs)-1].Position
	}
}
