package outbox

import (
	"encoding/json"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"yorozu/domain/event"
	"yorozu/domain/healthcheck"
)

// ReportSealedTopic is the topic of the ReportSealed integration event (for the mailer that sends
// the monthly health-check report): one message per sealed report, UUID derived from its
// contract and month (ReportMessageID), payload the report as GET
// /api/v1/reports/{customerNumber}/{YYYY-MM} shows it, metadata name=ReportSealed,
// customerNumber, month and position (of its ReportSealed event in the log).
const ReportSealedTopic = "health_check_report_sealed"

// reportMessageNamespace derives a message's UUID from its contract and month. Part of the
// message contract: consumers de-duplicate by these IDs. Never change it.
var reportMessageNamespace = uuid.MustParse("c4e2a1f0-7d3b-4e59-8a6c-2f1e0d9c8b7a")

// ReportMessageID is the message UUID of a contract's sealed report of a month.
func ReportMessageID(customerNumber, month string) string {
	return uuid.NewSHA1(reportMessageNamespace, []byte(customerNumber+"|"+month)).String()
}

// ReportSealed translates ReportSealed events into ReportSealed messages. codec is the log's codec.
func ReportSealed(codec *event.Registry) Translator {
	name, err := codec.Name((*healthcheck.ReportSealed)(nil))
	if err != nil {
		panic(fmt.Sprintf("outbox: %v", err)) // the health-check events are not registered: a wiring error
	}
	return Translator{
		EventType: name,
		Topic:     ReportSealedTopic,
		Translate: func(rec event.Record) ([]*message.Message, error) {
			e, err := codec.Decode(rec)
			if err != nil {
				return nil, err
			}
			sealed, ok := e.(*healthcheck.ReportSealed)
			if !ok {
				return nil, fmt.Errorf("outbox: %s decodes to %T", rec.Type, e)
			}
			payload, err := json.Marshal(sealed.Report)
			if err != nil {
				return nil, err
			}
			msg := message.NewMessage(ReportMessageID(sealed.CustomerNumber, sealed.Month), payload)
			msg.Metadata.Set("name", "ReportSealed")
			msg.Metadata.Set("customerNumber", sealed.CustomerNumber)
			msg.Metadata.Set("month", sealed.Month)
			msg.Metadata.Set("position", fmt.Sprint(rec.Position))
			return []*message.Message{msg}, nil
		},
	}
}
