package commands

import (
	"context"

	"yorozu/domain/billing"
	"yorozu/domain/event"
)

// PublishPriceList publishes a price list.
type PublishPriceList struct {
	Meta
	PriceList billing.PriceList
}

// PriceListPublished is what publishing answers: the list with its publication number.
type PriceListPublished struct {
	Outcome
	billing.PublishedPriceList
}

// PublishPriceListHandler handles PublishPriceList.
type PublishPriceListHandler struct{ deps Deps }

// NewPublishPriceListHandler builds the handler.
func NewPublishPriceListHandler(d Deps) PublishPriceListHandler {
	return PublishPriceListHandler{deps: d}
}

// Handle implements the use case: any valid list may be published, for any month; the price
// book decides which list a month uses.
func (h PublishPriceListHandler) Handle(ctx context.Context, cmd PublishPriceList) (PriceListPublished, error) {
	if err := cmd.PriceList.Validate(); err != nil {
		return PriceListPublished{}, err
	}
	published := &billing.PriceListPublished{PriceList: cmd.PriceList, PublishedAt: h.deps.Clock().UTC()}
	out, err := execute(ctx, h.deps, cmd.Meta, billing.PriceListStream, struct{}{},
		func(*struct{}, event.Record, any) error { return nil },
		func(struct{}, uint64) ([]any, error) { return []any{published}, nil })
	if err != nil {
		return PriceListPublished{Outcome: out}, err
	}
	return PriceListPublished{Outcome: out, PublishedPriceList: billing.PublishedPriceList{
		PriceList: published.PriceList, Number: out.Version, PublishedAt: published.PublishedAt}}, nil
}
