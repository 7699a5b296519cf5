package mailmagazine

import (
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
)

// The events of an issue's stream, Stream(issueID).

// IssueScheduled: staff wrote an issue and it waits for its time.
type IssueScheduled struct {
	IssueID     uuid.UUID `json:"issueId"`
	Subject     string    `json:"subject"`
	Body        string    `json:"body"`
	ScheduledAt time.Time `json:"scheduledAt"`
}

// EventType keeps the stored name apart from other "scheduled" events.
func (*IssueScheduled) EventType() string { return "MailMagazineIssueScheduled" }

// DeliveryClaimed: a sender (one replica of the service) took the issue for one delivery attempt.
// Every later event of the attempt is appended at the version that follows, so a second sender
// cannot record anything until the claim is released or its lease has run out.
type DeliveryClaimed struct {
	IssueID uuid.UUID `json:"issueId"`
	Sender  string    `json:"sender"`
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	// AsOf is the date whose recipients the issue goes to: the send date of the first attempt,
	// kept by the later ones.
	AsOf calendar.Date `json:"asOf"`
}

// EventType names the stored event.
func (*DeliveryClaimed) EventType() string { return "MailMagazineDeliveryClaimed" }

// ChunkSent: the SMTP server accepted one message of the issue, for these recipients (Bcc).
// Recipients the server refused for good are listed as Rejected and not tried again.
type ChunkSent struct {
	IssueID    uuid.UUID   `json:"issueId"`
	Sender     string      `json:"sender"`
	Chunk      int         `json:"chunk"`
	MessageID  string      `json:"messageId"`
	Recipients []string    `json:"recipients"`
	Rejected   []Rejection `json:"rejected,omitempty"`
	At         time.Time   `json:"at"`
}

// EventType names the stored event.
func (*ChunkSent) EventType() string { return "MailMagazineChunkSent" }

// Rejection is a recipient an SMTP server refused, with its answer.
type Rejection struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
}

// AttemptFailed: a delivery attempt stopped on an error; the claim is released and the next
// attempt waits until NextAttemptAt.
type AttemptFailed struct {
	IssueID       uuid.UUID `json:"issueId"`
	Sender        string    `json:"sender"`
	Attempt       int       `json:"attempt"`
	Error         string    `json:"error"`
	At            time.Time `json:"at"`
	NextAttemptAt time.Time `json:"nextAttemptAt"`
}

// EventType names the stored event.
func (*AttemptFailed) EventType() string { return "MailMagazineAttemptFailed" }

// MailMagazineSent: every recipient of the issue has had it (or was refused for good). Also
// published as an integration event.
type MailMagazineSent struct {
	IssueID uuid.UUID     `json:"issueId"`
	Subject string        `json:"subject"`
	SentAt  time.Time     `json:"sentAt"`
	AsOf    calendar.Date `json:"asOf"`
	// Recipients counts the addresses the issue went to (the list account not counted); Messages
	// the SMTP messages; Rejected the addresses refused for good.
	Recipients int `json:"recipients"`
	Messages   int `json:"messages"`
	Rejected   int `json:"rejected"`
	Attempts   int `json:"attempts"`
}

// EffectiveTime is when the last message was accepted.
func (e *MailMagazineSent) EffectiveTime() time.Time { return e.SentAt }

// StreamCategory is the category of the issue streams.
const StreamCategory = "mailmagazine"

// Stream is the stream of one issue.
func Stream(issueID uuid.UUID) string { return StreamCategory + "-" + issueID.String() }

// RegisterEvents adds the mail magazine events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*IssueScheduled)(nil), (*DeliveryClaimed)(nil), (*ChunkSent)(nil), (*AttemptFailed)(nil), (*MailMagazineSent)(nil))
}
