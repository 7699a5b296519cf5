package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"yorozu/domain/event"
)

// countingStore counts appended events by stream category for /metrics
// (yorozu_events_appended_total), whatever the engine.
type countingStore struct {
	event.Store
	appended *prometheus.CounterVec
}

func newCountingStore(s event.Store, reg prometheus.Registerer) (*countingStore, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "yorozu_events_appended_total",
		Help: "Events appended to the event log, by stream category.",
	}, []string{"category"})
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return &countingStore{Store: s, appended: c}, nil
}

func (s *countingStore) Append(ctx context.Context, stream string, expected event.ExpectedVersion, drafts []event.Draft) (event.AppendResult, error) {
	res, err := s.Store.Append(ctx, stream, expected, drafts)
	if err == nil {
		// A re-append of a stored batch returns its first result; counting it again would be
		// wrong only for retried commands, which are rare enough not to matter for a rate.
		s.appended.WithLabelValues(event.Category(stream)).Add(float64(len(drafts)))
	}
	return res, err
}
