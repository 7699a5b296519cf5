package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"yorozu/commands"
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

// registerHashingMetrics shows the password-hashing budget on /metrics: how many hashes run and
// wait, and how many ran and were refused (429) since the start.
func registerHashingMetrics(reg prometheus.Registerer, h *commands.PasswordHashing) error {
	stat := func(f func(commands.HashingStats) float64) func() float64 {
		return func() float64 { return f(h.Stats()) }
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "yorozu_password_hash_slots", Help: "Password hashes allowed to run at once."},
			stat(func(s commands.HashingStats) float64 { return float64(s.Slots) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "yorozu_password_hashes_running", Help: "Password hashes running now."},
			stat(func(s commands.HashingStats) float64 { return float64(s.Running) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "yorozu_password_hashes_waiting", Help: "Password hashes waiting for a slot."},
			stat(func(s commands.HashingStats) float64 { return float64(s.Waiting) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "yorozu_password_hashes_total", Help: "Password hashes computed."},
			stat(func(s commands.HashingStats) float64 { return float64(s.Hashed) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "yorozu_password_hashes_refused_total", Help: "Password hashes refused because too many were waiting (429)."},
			stat(func(s commands.HashingStats) float64 { return float64(s.Refused) })),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
