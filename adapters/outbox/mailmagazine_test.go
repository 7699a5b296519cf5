package outbox_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/outbox"
	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/mailmagazine"
	"yorozu/domain/schema"
)

func TestMailMagazineSentTranslation(t *testing.T) {
	codec := schema.Registry()
	issue := uuid.New()
	sent := &mailmagazine.MailMagazineSent{IssueID: issue, Subject: "今週のセキュリティ", SentAt: time.Date(2025, 7, 2, 6, 0, 40, 0, time.UTC),
		AsOf: calendar.MustDate(2025, 7, 2), Recipients: 1199, Messages: 3, Rejected: 1, Attempts: 2}
	typ, data, err := codec.Encode(sent)
	if err != nil {
		t.Fatal(err)
	}
	tr := outbox.MailMagazineSent(codec)
	if tr.EventType != typ || tr.Topic != outbox.MailMagazineSentTopic {
		t.Fatalf("translator %+v", tr)
	}
	msgs, err := tr.Translate(event.Record{Type: typ, Data: data, Stream: mailmagazine.Stream(issue), StreamVersion: 9, Position: 42})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	m := msgs[0]
	if m.UUID != outbox.MailMagazineMessageID(issue) || m.UUID == outbox.MailMagazineMessageID(uuid.New()) ||
		m.Metadata.Get("name") != "MailMagazineSent" || m.Metadata.Get("issueId") != issue.String() || m.Metadata.Get("position") != "42" {
		t.Fatalf("message %s %v", m.UUID, m.Metadata)
	}
	var back mailmagazine.MailMagazineSent
	if err := json.Unmarshal(m.Payload, &back); err != nil || back.Recipients != 1199 || back.Messages != 3 || back.AsOf != sent.AsOf {
		t.Fatalf("payload %s (%v)", m.Payload, err)
	}
}
