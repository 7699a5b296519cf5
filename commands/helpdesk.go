package commands

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/consultation"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
)

// evolver is an aggregate state whose Evolve applies one event and returns the new state.
type evolver[S any] interface{ Evolve(e any) S }

// evolve is the fold of such an aggregate, for execute and load.
func evolve[S evolver[S]](s *S, _ event.Record, e any) error {
	*s = (*s).Evolve(e)
	return nil
}

// HelpDeskDeps are what the consultation and failure-report use cases need besides Deps.
type HelpDeskDeps struct {
	Deps
	Calendar *calendar.BusinessCalendar
}

// contractAt folds a contract's stream as it stood at an instant of business time: the events
// effective at or before at, in business-time order (an order completed later but back-dated
// counts from its date). Known tells whether the customer number is a contract's at all.
func contractAt(ctx context.Context, d Deps, customerNumber string, at time.Time) (contract.Standing, error) {
	recs, err := d.Events.ReadStream(ctx, contract.Stream(customerNumber), 1, 0)
	if err != nil {
		return contract.Standing{}, err
	}
	kept := recs[:0:0]
	for _, r := range recs {
		if !r.EffectiveAt.After(at) {
			kept = append(kept, r)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].EffectiveAt.Before(kept[j].EffectiveAt) })
	s := contract.Standing{Known: len(recs) > 0}
	for _, r := range kept {
		e, err := d.Codec.Decode(r)
		if err != nil {
			return contract.Standing{}, err
		}
		s.Contract = s.Contract.Evolve(e)
	}
	return s, nil
}

// loadConsultation folds a consultation's stream.
func loadConsultation(ctx context.Context, d Deps, id uuid.UUID) (consultation.Consultation, uint64, error) {
	var c consultation.Consultation
	v, err := load(ctx, d, consultation.Stream(id), &c, evolve)
	return c, v, err
}

// checkTicketOrder applies the rules of an order form's consultationId (the consultation whose
// ticket quote a change order buys): the form's own, then the consultation's. It returns
// order.FieldErrors (422) when they break.
func checkTicketOrder(ctx context.Context, d Deps, f order.Form) error {
	id, named, errs := consultation.TicketOrderLink(f)
	if len(errs) > 0 {
		return errs
	}
	if !named {
		return nil
	}
	c, _, err := loadConsultation(ctx, d, id)
	if err != nil {
		return err
	}
	if errs := c.CheckTicketOrder(f); len(errs) > 0 {
		return errs
	}
	return nil
}

// consultationChange runs one decision on an existing consultation.
func consultationChange(ctx context.Context, d Deps, m Meta, id uuid.UUID,
	decide func(consultation.Consultation) ([]any, error)) (Outcome, error) {
	return execute(ctx, d, m, consultation.Stream(id), consultation.Consultation{}, evolve,
		func(c consultation.Consultation, _ uint64) ([]any, error) {
			if !c.Exists() {
				return nil, consultation.ErrNotFound
			}
			return decide(c)
		})
}
