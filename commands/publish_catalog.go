package commands

import (
	"context"

	"yorozu/domain/event"
	"yorozu/domain/healthcheck"
)

// PublishCatalog replaces the patch or the software catalog.
type PublishCatalog struct {
	Meta
	// Patches or Software: the one that is set is published.
	Patches  []healthcheck.PatchEntry
	Software []healthcheck.SoftwareEntry
	// Kind is "patches" or "software".
	Kind string
}

// CatalogPublished is the new version: its number and publication time.
type CatalogPublished struct {
	Outcome
	healthcheck.CatalogVersion
}

// Catalog kinds.
const (
	CatalogPatches  = "patches"
	CatalogSoftware = "software"
)

// PublishCatalogHandler handles PublishCatalog.
type PublishCatalogHandler struct{ deps Deps }

// NewPublishCatalogHandler builds the handler.
func NewPublishCatalogHandler(d Deps) PublishCatalogHandler { return PublishCatalogHandler{deps: d} }

// Handle implements the use case: a valid catalog becomes the next version of its stream, in
// force from its publication.
func (h PublishCatalogHandler) Handle(ctx context.Context, cmd PublishCatalog) (CatalogPublished, error) {
	now := h.deps.Clock().UTC()
	var e any
	stream := healthcheck.PatchCatalogStream
	if cmd.Kind == CatalogSoftware {
		if err := healthcheck.ValidateSoftwareEntries(cmd.Software); err != nil {
			return CatalogPublished{}, err
		}
		stream = healthcheck.SoftwareCatalogStream
		e = &healthcheck.SoftwareCatalogPublished{Entries: nonNil(cmd.Software), PublishedAt: now}
	} else {
		if err := healthcheck.ValidatePatchEntries(cmd.Patches); err != nil {
			return CatalogPublished{}, err
		}
		e = &healthcheck.PatchCatalogPublished{Entries: nonNil(cmd.Patches), PublishedAt: now}
	}
	out, err := execute(ctx, h.deps, cmd.Meta, stream, struct{}{},
		func(*struct{}, event.Record, any) error { return nil },
		func(struct{}, uint64) ([]any, error) { return []any{e}, nil })
	if err != nil {
		return CatalogPublished{Outcome: out}, err
	}
	return CatalogPublished{Outcome: out, CatalogVersion: healthcheck.CatalogVersion{Number: out.Version, PublishedAt: now}}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
