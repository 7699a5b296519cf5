package consultation

import (
	"time"

	"github.com/google/uuid"

	"yorozu/domain/validation"
)

// Lengths of the intake's text fields, in characters.
const (
	maxNameLen    = 100
	maxSubjectLen = 200
	maxBodyLen    = 20000
	// maxCallMinutes bounds a recorded call: a working day.
	maxCallMinutes = 24 * 60
)

// IntakeInput is an intake as submitted: nil is an absent field. Fields that could not be decoded
// at all are nil too; the caller reports them and drops what NewIntake says of them.
type IntakeInput struct {
	Channel, CustomerNumber, CompanyName, PersonName, Email, Phone, Subject, Body *string
	ReceivedAt                                                                    *time.Time
	DurationMinutes                                                               *int
}

// Intake is a valid intake.
type Intake struct {
	Channel                                                              Channel
	ReceivedAt                                                           time.Time
	CustomerNumber, CompanyName, PersonName, Email, Phone, Subject, Body string
	CallMinutes                                                          *int
}

// NewIntake applies the intake's rules and reports every broken one at once:
//   - channel (phone or email), receivedAt, customerNumber (N + 9 digits), companyName,
//     personName and subject are required;
//   - an e-mail inquiry needs the sender's e-mail address and a body; a phone inquiry needs a
//     number to call back, and its body (the call notes) may be empty;
//   - the other contact field is optional, and checked when given;
//   - one-line texts refuse every control character, the body all but line breaks and tabs;
//   - durationMinutes (0 to 1440) is the length of the call, for phone inquiries only.
func NewIntake(in IntakeInput) (Intake, validation.Errors) {
	var errs validation.Errors
	var out Intake
	out.Channel, _ = validation.Choice(&errs, "channel", in.Channel, true, Channels...)
	if in.ReceivedAt == nil {
		errs.Add("receivedAt", validation.CodeRequired, "is required: an RFC 3339 instant")
	} else {
		out.ReceivedAt = in.ReceivedAt.UTC()
	}
	out.CustomerNumber, _ = errs.CustomerNumber("customerNumber", in.CustomerNumber)
	out.CompanyName, _ = errs.Text("companyName", in.CompanyName, true, maxNameLen, false)
	out.PersonName, _ = errs.Text("personName", in.PersonName, true, maxNameLen, false)
	email, phone := out.Channel == ChannelEmail, out.Channel == ChannelPhone
	out.Email, _ = errs.Email("email", in.Email, email)
	out.Phone, _ = errs.Phone("phone", in.Phone, phone)
	out.Subject, _ = errs.Text("subject", in.Subject, true, maxSubjectLen, false)
	out.Body, _ = errs.Text("body", in.Body, email, maxBodyLen, true)
	if in.DurationMinutes != nil {
		switch n := *in.DurationMinutes; {
		case email:
			errs.Add("durationMinutes", validation.CodeMustBeAbsent, "is only for phone inquiries")
		case n < 0 || n > maxCallMinutes:
			errs.Add("durationMinutes", validation.CodeOutOfRange, "must be 0 to %d minutes", maxCallMinutes)
		default:
			out.CallMinutes = &n
		}
	}
	return out, errs
}

func (in Intake) details(id uuid.UUID) Details {
	return Details{ConsultationID: id, Channel: in.Channel, ReceivedAt: in.ReceivedAt, CustomerNumber: in.CustomerNumber,
		CompanyName: in.CompanyName, PersonName: in.PersonName, Email: in.Email, Phone: in.Phone, Subject: in.Subject,
		Body: in.Body, CallMinutes: in.CallMinutes}
}

// TriageInput is a triage as submitted.
type TriageInput struct {
	Category, Decision, Reason, Referral *string
}

// Triage is a valid triage.
type Triage struct {
	Category Category
	Decision Decision
	Reason   DeclineReason
	Referral Referral
}

// NewTriage applies the triage's rules, every broken one at once. A triage is one of
//   - {category} or {decision: "answer", category}: the help desk answers it;
//   - {decision: "decline", reason}: out of scope, for one of the decline reasons;
//   - {decision: "refer", referral}: the customer is referred to a public window.
//
// A decline or referral may name a category too (what the customer asked about); a reason goes
// only with a decline and a referral only with a referral.
func NewTriage(in TriageInput) (Triage, validation.Errors) {
	var errs validation.Errors
	var t Triage
	decision, decided := Decision(DecisionAnswer), true
	if in.Decision != nil {
		decision, decided = validation.Choice(&errs, "decision", in.Decision, true, Decisions...)
	}
	t.Decision = decision
	t.Category, _ = validation.Choice(&errs, "category", in.Category, decided && decision == DecisionAnswer, Categories...)
	if in.Reason != nil && decided && decision != DecisionDecline {
		errs.Add("reason", validation.CodeMustBeAbsent, "goes only with decision decline")
	} else {
		t.Reason, _ = validation.Choice(&errs, "reason", in.Reason, decision == DecisionDecline, DeclineReasons...)
	}
	if in.Referral != nil && decided && decision != DecisionRefer {
		errs.Add("referral", validation.CodeMustBeAbsent, "goes only with decision refer")
	} else {
		t.Referral, _ = validation.Choice(&errs, "referral", in.Referral, decision == DecisionRefer, Referrals...)
	}
	return t, errs
}

// ReplyInput is a valid reply: when, how (empty: the consultation's own channel), what was said,
// and for a call back its length.
type ReplyInput struct {
	At          time.Time
	Channel     Channel
	Body        string
	CallMinutes *int
}

// NewReply applies the reply's own rules: a body is required, the channel is phone or email, and
// durationMinutes (0 to 1440) is for replies by phone. at is answeredAt, or the time of the
// request when it is absent.
func NewReply(at time.Time, channel, body *string, minutes *int) (ReplyInput, validation.Errors) {
	var errs validation.Errors
	r := ReplyInput{At: at.UTC()}
	if channel != nil {
		r.Channel, _ = validation.Choice(&errs, "channel", channel, false, Channels...)
	}
	r.Body, _ = errs.Text("body", body, true, maxBodyLen, true)
	if minutes != nil {
		switch n := *minutes; {
		case n < 0 || n > maxCallMinutes:
			errs.Add("durationMinutes", validation.CodeOutOfRange, "must be 0 to %d minutes", maxCallMinutes)
		default:
			r.CallMinutes = &n
		}
	}
	return r, errs
}
