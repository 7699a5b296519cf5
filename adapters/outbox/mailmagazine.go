package outbox

import (
	"encoding/json"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"yorozu/domain/event"
	"yorozu/domain/mailmagazine"
)

// MailMagazineSentTopic is the topic of the MailMagazineSent integration event: one message per
// issue sent, UUID derived from the issue ID (MailMagazineMessageID), payload {issueId, subject,
// sentAt, asOf, recipients, messages, rejected, attempts}, metadata name=MailMagazineSent,
// issueId and position.
const MailMagazineSentTopic = "mail_magazine_sent"

// MailMagazineSentRelay is the cursor key of the relay of sent issues.
const MailMagazineSentRelay = "mail-magazine-sent"

// mailMagazineMessageNamespace derives a message's UUID from its issue ID; consumers
// de-duplicate by it. Never change it.
var mailMagazineMessageNamespace = uuid.MustParse("5e8c2f14-7a3b-4d69-b0e1-9c4f6a2d8b57")

// MailMagazineMessageID is the message UUID of the MailMagazineSent message of an issue.
func MailMagazineMessageID(issueID uuid.UUID) string {
	return uuid.NewSHA1(mailMagazineMessageNamespace, issueID[:]).String()
}

// MailMagazineSent translates the MailMagazineSent events into one message each. codec is the
// log's codec.
func MailMagazineSent(codec *event.Registry) Translator {
	name, err := codec.Name((*mailmagazine.MailMagazineSent)(nil))
	if err != nil {
		panic(fmt.Sprintf("outbox: %v", err)) // the mail magazine events are not registered: a wiring error
	}
	return Translator{
		EventType: name,
		Topic:     MailMagazineSentTopic,
		Translate: func(rec event.Record) ([]*message.Message, error) {
			e, err := codec.Decode(rec)
			if err != nil {
				return nil, err
			}
			sent, ok := e.(*mailmagazine.MailMagazineSent)
			if !ok {
				return nil, fmt.Errorf("outbox: %s decodes to %T", rec.Type, e)
			}
			payload, err := json.Marshal(sent)
			if err != nil {
				return nil, err
			}
			msg := message.NewMessage(MailMagazineMessageID(sent.IssueID), payload)
			msg.Metadata.Set("name", "MailMagazineSent")
			msg.Metadata.Set("issueId", sent.IssueID.String())
			msg.Metadata.Set("position", fmt.Sprint(rec.Position))
			return []*message.Message{msg}, nil
		},
	}
}
