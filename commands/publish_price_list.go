package commands

import (
	"context"
	"time"

	"yorozu/domain/billing"
	"yorozu/domain/event"
)

// PriceListStream holds every published price list; its version order is the publication order,
// which decides between two lists for the same effective month (the later one is a correction).
const PriceListStream = "pricelists-1"

// PriceListPublished: staff published a price list (SPEC 3). Months already closed keep the list
// they were closed with (MonthClosed.PriceList); every other month uses the latest list whose
// effectiveFrom is on or before it.
type PriceListPublished struct {
	PriceList   billing.PriceList `json:"priceList"`
	PublishedAt time.Time         `json:"publishedAt"`
}

// PublishPriceList publishes a price list. The outcome's Result is the PublishedPriceList.
type PublishPriceList struct {
	Meta
	PriceList billing.PriceList `json:"priceList"`
}

// PublishedPriceList is a price list as published: its publication number (the version of
// PriceListStream it got) and time.
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
	published := PriceListPublished{PriceList: cmd.PriceList, PublishedAt: h.deps.Clock().UTC()}
	out, err := execute(ctx, h.deps, cmd.Meta, PriceListStream, struct{}{},
		func(*struct{}, event.Record, any) error { return nil },
		func(struct{}, uint64) ([]any, error) { return []any{published}, nil })
	if err != nil {
		return out, err
	}
	out.Result = PublishedPriceList{PriceList: published.PriceList, Number: out.Version, PublishedAt: published.PublishedAt}
	return out, nil
}
