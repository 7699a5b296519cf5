package commands

import (
	"context"
	"sync"
	"time"

	"yorozu/domain/diagnosis"
	"yorozu/domain/event"
)

// PublishQuestionnaire publishes the leak-risk questionnaire, replacing the current one for every
// later submission.
type PublishQuestionnaire struct {
	Meta
	Questionnaire diagnosis.Questionnaire
	// Problems are the errors found while reading the request, reported with the others.
	Problems []diagnosis.FieldError
}

// QuestionnairePublished is the questionnaire as published, with its version.
type QuestionnairePublished struct {
	Outcome
	diagnosis.Published
	PublishedAt time.Time
}

// PublishQuestionnaireHandler handles PublishQuestionnaire.
type PublishQuestionnaireHandler struct{ deps Deps }

// NewPublishQuestionnaireHandler builds the handler.
func NewPublishQuestionnaireHandler(d Deps) PublishQuestionnaireHandler {
	return PublishQuestionnaireHandler{deps: d}
}

// Handle implements the use case.
func (h PublishQuestionnaireHandler) Handle(ctx context.Context, cmd PublishQuestionnaire) (QuestionnairePublished, error) {
	if err := cmd.Questionnaire.Validate(cmd.Problems...); err != nil {
		return QuestionnairePublished{}, err
	}
	e := &diagnosis.QuestionnairePublished{Questionnaire: cmd.Questionnaire, PublishedAt: h.deps.Clock().UTC()}
	out, err := execute(ctx, h.deps, cmd.Meta, diagnosis.QuestionnaireStream, struct{}{},
		func(*struct{}, event.Record, any) error { return nil },
		func(struct{}, uint64) ([]any, error) { return []any{e}, nil })
	return QuestionnairePublished{Outcome: out, Published: diagnosis.Published{Questionnaire: e.Questionnaire, Version: out.Version},
		PublishedAt: e.PublishedAt}, err
}

// currentQuestionnaire keeps the latest published questionnaire, reading only what was published
// since it last looked (submissions would otherwise read every questionnaire ever published).
type currentQuestionnaire struct {
	mu      sync.Mutex
	current diagnosis.Published
}

// get returns the latest questionnaire; Version 0 when none was published.
func (c *currentQuestionnaire) get(ctx context.Context, d Deps) (diagnosis.Published, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		recs, err := d.Events.ReadStream(ctx, diagnosis.QuestionnaireStream, c.current.Version+1, 100)
		if err != nil {
			return diagnosis.Published{}, err
		}
		if len(recs) == 0 {
			return c.current, nil
		}
		last := recs[len(recs)-1]
		e, err := d.Codec.Decode(last)
		if err != nil {
			return diagnosis.Published{}, err
		}
		if p, ok := e.(*diagnosis.QuestionnairePublished); ok {
			c.current = diagnosis.Published{Questionnaire: p.Questionnaire, Version: last.StreamVersion}
		}
	}
}
