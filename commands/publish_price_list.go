package commands

import (
	"context"

	"yorozu/domain/billing"
	"yorozu/domain/event"
)

// PublishPriceList publishes a price list. The outcome's Result is the billing.PublishedPriceList.
type PublishPriceList struct {
	Meta
	PriceList billing.PriceList `json:"priceList"`
}

// PublishPriceListHandler handles PublishPriceList.
type PublishPriceListHandler struct{ deps Deps }

// NewPublishPriceListHandler builds the handler.
func NewPublishPriceListHandler(d Deps) PublishPriceListHandler {
	return PublishPriceListHandler{deps: d}
}

// Handle implements the use case: any valid list may be published, for any month; the price
// book decides which list a month uses.
func (h PublishPriceListHandler) Handle(ctx context.Context, cmd PublishPriceList) (Outcome, error) {
	if err := cmd.PriceList.Validate(); err != nil {
		return Outcome{}, err
	}
	published := billing.PriceListPublished{PriceList: cmd.PriceList, PublishedAt: h.deps.Clock().UTC()}
	out, err := execute(ctx, h.deps, cmd.Meta, billing.PriceListStream, struct{}{},
		func(*struct{}, event.Record, any) error { return nil },
		func(struct{}, uint64) ([]any, error) { return []any{published}, nil })
	if err != nil {
		return out, err
	}
	out.Result = billing.PublishedPriceList{PriceList: published.PriceList, Number: out.Version, PublishedAt: published.PublishedAt}
	return out, nil
}
