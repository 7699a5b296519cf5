// Package schema is the catalogue of every event type the service stores: the one codec of the
// event log, built from each domain package's own RegisterEvents.
package schema

import (
	"yorozu/domain/access"
	"yorozu/domain/billing"
	"yorozu/domain/consultation"
	"yorozu/domain/contract"
	"yorozu/domain/diagnosis"
	"yorozu/domain/event"
	"yorozu/domain/failure"
	"yorozu/domain/healthcheck"
	"yorozu/domain/insurance"
	"yorozu/domain/mailmagazine"
	"yorozu/domain/order"
	"yorozu/domain/privacy"
	"yorozu/domain/telemetry"
	"yorozu/domain/webfiltering"
)

// Registry returns a codec that knows every domain event.
func Registry() *event.Registry {
	r := event.NewRegistry()
	for _, register := range []func(*event.Registry){
		order.RegisterEvents,
		contract.RegisterEvents,
		billing.RegisterEvents,
		access.RegisterEvents,
		webfiltering.RegisterEvents,
		diagnosis.RegisterEvents,
		mailmagazine.RegisterEvents,
		consultation.RegisterEvents,
		failure.RegisterEvents,
		insurance.RegisterEvents,
		privacy.RegisterEvents,
		telemetry.RegisterEvents,
		healthcheck.RegisterEvents,
	} {
		register(r)
	}
	return r
}
