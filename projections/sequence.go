package projections

import (
	"errors"
	"fmt"

	"yorozu/domain/event"
)

// ErrOutOfSequence: a projection that folds whole streams was handed an event that is not the
// next one of its stream (a gap, or one it already applied).
var ErrOutOfSequence = errors.New("projections: event out of stream sequence")

// NextInStream checks that rec follows applied, the stream version the read model already folded
// (0 for none).
func NextInStream(rec event.Record, applied uint64) error {
	if rec.StreamVersion != applied+1 {
		return fmt.Errorf("%w: %s at version %d after version %d", ErrOutOfSequence, rec.Stream, rec.StreamVersion, applied)
	}
	return nil
}
