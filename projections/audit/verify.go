package audit

import (
	"context"
	"errors"

	"yorozu/domain/event"
	"yorozu/projections"
)

// Report is the answer of an integrity check (SPEC 12 audit verify).
type Report struct {
	OK            bool        `json:"ok"`
	CheckedEvents int         `json:"checkedEvents"`
	FirstBroken   *BrokenLink `json:"firstBroken"`
}

// BrokenLink names the first event that fails the check.
type BrokenLink struct {
	Stream        string `json:"stream"`
	StreamVersion uint64 `json:"streamVersion"`
	EventID       string `json:"eventId"`
	Reason        string `json:"reason"`
}

// verifyPage is how many events Verify reads at once.
const verifyPage = 5000

// Verify walks the whole global log with the check the projections run
// (projections.Integrity): every event's hash over its content, every stream's hash chain, and
// that every event decodes into its registered type. It reads the event store itself, not a read
// model: a read model could hide what was changed underneath it.
func Verify(ctx context.Context, events event.Log, codec *event.Registry) (Report, error) {
	check := projections.NewIntegrity(events, codec)
	var after event.Position
	checked := 0
	for {
		recs, err := events.ReadAll(ctx, after, verifyPage)
		if err != nil {
			return Report{}, err
		}
		if len(recs) == 0 {
			// An intact event that does not decode passes the chain but not verify.
			if u := check.Undecodable(); u != nil {
				return Report{CheckedEvents: checked, FirstBroken: &BrokenLink{
					Stream: u.Stream, StreamVersion: u.StreamVersion, EventID: u.EventID, Reason: u.Reason,
				}}, nil
			}
			return Report{OK: true, CheckedEvents: checked}, nil
		}
		passed, err := check.Check(ctx, after, recs)
		checked += len(passed)
		var refused *projections.IntegrityError
		if errors.As(err, &refused) {
			return Report{CheckedEvents: checked + 1, FirstBroken: &BrokenLink{
				Stream: refused.Stream, StreamVersion: refused.StreamVersion, EventID: refused.EventID, Reason: refused.Reason,
			}}, nil
		}
		if err != nil {
			return Report{}, err
		}
		after = recs[len(recs)-1].Position
	}
}
