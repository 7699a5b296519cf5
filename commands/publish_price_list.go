package commands

import (
	"context"
	"time"

	"yorozu/domain/billing"
	"yorozu/domain/event"
)

// PublishPriceList publishes a price list. The outcome's Result is the PublishedPriceList.
type PublishPriceList struct {
	Meta
	PriceList billing.PriceList `json:"priceList"`
}

// PublishedPriceList is a price list as published: its publication number (the version of
// billing.PriceListStream it got) and time.
type PublishedPriceList struct {
	PriceList   billing.PriceList `json:"priceList"`
	Number      uint64            `json:"number"`
	PublishedAt time.Time         `json:"publishedAt"`
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
	out.Result = PublishedPriceList{PriceList: published.PriceList, Number: out.Version, PublishedAt: published.PublishedAt}
	return out, nil
}
