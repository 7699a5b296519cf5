package commands

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
	"yorozu/domain/insurance"
)

// InsuranceDeps are what the insurance use cases need besides Deps.
type InsuranceDeps struct {
	Deps
	Terms insurance.Terms
}

// loadClaim folds a claim's stream.
func loadClaim(ctx context.Context, d Deps, id uuid.UUID) (insurance.Claim, error) {
	var c insurance.Claim
	_, err := load(ctx, d, insurance.ClaimStream(id), &c, evolve)
	return c, err
}

// maxLimitAttempts bounds how often an assessment step on a limit aggregate is decided again
// after losing a race. Limits are hot streams (every assessment of a company, every assessment
// of a period's pool), so it is far above execute's bound, with a jittered pause between
// attempts so that the losers of a race do not collide again at once.
const maxLimitAttempts = 200

// settle is the load–decide–append loop of one assessment step on a limit aggregate or a claim:
// decide returns at most one event, which is appended under the expected version with the event
// ID the caller derives from the claim, so that whoever completes the step (the assessor's retry,
// another replica, the recovery job) appends the same event or finds it already there. A lost
// race, or an ID already stored (another process completed the step first with other figures),
// makes it load and decide again: the decision then sees the step done and returns nothing.
func settle[S any](ctx context.Context, d Deps, m Meta, stream string, eventID uuid.UUID, initial S,
	fold func(*S, event.Record, any) error, decide func(S) (any, error)) (Outcome, error) {
	for attempt := 0; ; attempt++ {
		state := initial
		version, err := load(ctx, d, stream, &state, fold)
		if err != nil {
			return Outcome{}, err
		}
		change, err := decide(state)
		if err != nil || change == nil {
			return Outcome{Stream: stream, Version: version}, err
		}
		drafts, err := toDrafts(d, m, stream, []any{change})
		if err != nil {
			return Outcome{}, err
		}
		drafts[0].ID = eventID
		res, err := d.Events.Append(ctx, stream, event.Exactly(version), drafts)
		if errors.Is(err, event.ErrConcurrency) || errors.Is(err, event.ErrDuplicateEvent) {
			if attempt+1 >= maxLimitAttempts {
				return Outcome{}, fmt.Errorf("%w (stream %s, %d attempts)", ErrTooManyConflicts, stream, maxLimitAttempts)
			}
			if err := pause(ctx, attempt); err != nil {
				return Outcome{}, err
			}
			continue
		}
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{Stream: stream, Version: res.LastVersion, Position: res.LastPosition}, nil
	}
}

// pause waits a random time that grows with the attempts, up to 20 ms.
func pause(ctx context.Context, attempt int) error {
	ceiling := time.Duration(min(attempt+1, 20)) * time.Millisecond
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond/10)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// stepID is the event ID of an assessment step of a claim: the same whoever takes the step.
func stepID(step string, claim uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(eventIDNamespace, []byte("insurance|"+step+"|"+claim.String()))
}

// later keeps the outcome with the higher position: the one the read models must reach.
func later(a, b Outcome) Outcome {
	if b.Position > a.Position {
		return b
	}
	return a
}
