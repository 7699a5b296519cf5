package diagnosis

import (
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
)

// QuestionnairePublished: staff published the questionnaire, which replaces the previous one.
// Stored in QuestionnaireStream; its stream version is the questionnaire's version.
type QuestionnairePublished struct {
	Questionnaire Questionnaire `json:"questionnaire"`
	PublishedAt   time.Time     `json:"publishedAt"`
}

// DiagnosisReceived: a customer's answers were received and scored against the questionnaire
// current at the time. Stored in the customer's Stream.
type DiagnosisReceived struct {
	DiagnosisID          uuid.UUID        `json:"diagnosisId"`
	CustomerNumber       string           `json:"customerNumber"`
	AnsweredAt           time.Time        `json:"answeredAt"`
	DueOn                calendar.Date    `json:"dueOn"`
	Answers              map[string]Value `json:"answers"`
	QuestionnaireVersion uint64           `json:"questionnaireVersion"`
	Result
	ReportTo string `json:"reportTo"`
}

// EffectiveTime is when the customer answered.
func (e *DiagnosisReceived) EffectiveTime() time.Time { return e.AnsweredAt }

// DiagnosisReported: the report of a diagnosis was sent to the security contact.
type DiagnosisReported struct {
	DiagnosisID    uuid.UUID `json:"diagnosisId"`
	CustomerNumber string    `json:"customerNumber"`
	SentAt         time.Time `json:"sentAt"`
}

// EffectiveTime is when the report was sent.
func (e *DiagnosisReported) EffectiveTime() time.Time { return e.SentAt }

// CustomerNumberOf implements event.ForCustomer.
func (e *DiagnosisReceived) CustomerNumberOf() string { return e.CustomerNumber }
func (e *DiagnosisReported) CustomerNumberOf() string { return e.CustomerNumber }

// StreamCategory is the category of the customers' diagnosis streams.
const StreamCategory = "diagnosis"

// Stream holds every diagnosis of one customer, so that the six-month rule is decided on one
// stream under optimistic concurrency.
func Stream(customerNumber string) string { return StreamCategory + "-" + customerNumber }

// QuestionnaireStream holds the published questionnaires.
const QuestionnaireStream = "questionnaire-diagnosis"

// RegisterEvents adds the diagnosis events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*QuestionnairePublished)(nil), (*DiagnosisReceived)(nil), (*DiagnosisReported)(nil))
	r.RegisterCustomerStreams(StreamCategory)
}
