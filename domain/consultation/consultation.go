// Package consultation is the help desk of the service (YOROZU 相談): the intake of phone and
// e-mail inquiries, authenticated against the customer's contract; the reply deadline of e-mail
// inquiries on the business calendar; triage into categories, declines and referrals; replies,
// closing and reopening; and the ticket quote for individual paid support, which a change order
// buys. It is pure: the time and the business calendar are passed in.
package consultation

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/validation"
)

// Channel is how an inquiry arrived (and how a reply went out).
type Channel string

const (
	ChannelPhone Channel = "phone"
	ChannelEmail Channel = "email"
)

// Channels lists the channels in the order the API documents them.
var Channels = []Channel{ChannelPhone, ChannelEmail}

// Status is where a consultation is in its lifecycle.
type Status string

const (
	StatusOpen     Status = "open"
	StatusAnswered Status = "answered"
	StatusClosed   Status = "closed"
	StatusRejected Status = "rejected"
)

// Statuses lists the statuses in lifecycle order.
var Statuses = []Status{StatusOpen, StatusAnswered, StatusClosed, StatusRejected}

// Category is what a consultation is about.
type Category string

const (
	CategoryIncident       Category = "incident"
	CategoryThreat         Category = "threat"
	CategorySuspiciousMail Category = "suspiciousMail"
	CategoryOneClickFraud  Category = "oneClickFraud"
	CategoryFakeWarning    Category = "fakeWarning"
	CategoryRansomware     Category = "ransomware"
	CategoryOther          Category = "other"
)

// Categories lists every category.
var Categories = []Category{CategoryIncident, CategoryThreat, CategorySuspiciousMail, CategoryOneClickFraud,
	CategoryFakeWarning, CategoryRansomware, CategoryOther}

// Decision is what the help desk does with a consultation: answer it, decline it as out of
// scope, or refer the customer to a public window.
type Decision string

const (
	DecisionAnswer  Decision = "answer"
	DecisionDecline Decision = "decline"
	DecisionRefer   Decision = "refer"
)

// Decisions lists every decision.
var Decisions = []Decision{DecisionAnswer, DecisionDecline, DecisionRefer}

// DeclineReason is why a consultation is out of the service's scope.
type DeclineReason string

const (
	DeclineLegalInterpretation   DeclineReason = "legalInterpretation"   // 法律の解釈
	DeclineElectromagnetic       DeclineReason = "electromagnetic"       // 電磁波
	DeclineISPQuality            DeclineReason = "ispQuality"            // 回線・プロバイダの品質
	DeclineContractPayment       DeclineReason = "contractPayment"       // 契約・支払い
	DeclineInvestigationRequest  DeclineReason = "investigationRequest"  // 調査の依頼
	DeclineThirdPartyProduct     DeclineReason = "thirdPartyProduct"     // 他社製品の推奨
	DeclineAuthorityContact      DeclineReason = "authorityContact"      // 警察・官公庁への連絡代行
	DeclineCriminalInvestigation DeclineReason = "criminalInvestigation" // 犯罪捜査の依頼
	DeclineBasicOperation        DeclineReason = "basicOperation"        // PC の基本操作
)

// DeclineReasons lists every decline reason.
var DeclineReasons = []DeclineReason{DeclineLegalInterpretation, DeclineElectromagnetic, DeclineISPQuality,
	DeclineContractPayment, DeclineInvestigationRequest, DeclineThirdPartyProduct, DeclineAuthorityContact,
	DeclineCriminalInvestigation, DeclineBasicOperation}

// Referral is the public window a customer is referred to.
type Referral string

const (
	ReferConsumerHotline          Referral = "consumerHotline"          // 消費者ホットライン / 国民生活センター
	ReferPoliceCyberDesk          Referral = "policeCyberDesk"          // 警察のサイバー犯罪相談窓口
	ReferIllegalHarmfulInfoCenter Referral = "illegalHarmfulInfoCenter" // 違法・有害情報相談センター
	ReferAntiPhishingCouncil      Referral = "antiPhishingCouncil"      // フィッシング対策協議会 / 警察庁
)

// Referrals lists every public window.
var Referrals = []Referral{ReferConsumerHotline, ReferPoliceCyberDesk, ReferIllegalHarmfulInfoCenter, ReferAntiPhishingCouncil}

// RejectOutsideBusinessHours: a phone inquiry outside business hours is not taken. (The other
// reasons an inquiry is rejected are the contract's: contract.CallerRejection.)
const RejectOutsideBusinessHours contract.CallerRejection = "outsideBusinessHours"

// ReplyWithin is the reply deadline of an e-mail consultation in business hours: 7 hours, one
// business day.
const ReplyWithin = 7 * time.Hour

// LongCall is the length a phone call should stay within; longer calls are reported.
const LongCall = 30 * time.Minute

var (
	// ErrNotFound: no consultation has that ID.
	ErrNotFound = errors.New("consultation: not found")
	// ErrInvalidTransition: the consultation's status does not allow the operation.
	ErrInvalidTransition = errors.New("consultation: not allowed in its current status")
)

// idNamespace derives consultation IDs from the command that records the intake (UUID v5), so a
// retried intake names the same consultation. Part of the stored data: never change it.
var idNamespace = uuid.MustParse("3a0c6f2e-9d41-4e7b-8f15-2b6d9c0e7a31")

// NewID names the consultation an intake creates; seed is the intake command's ID.
func NewID(seed string) uuid.UUID { return uuid.NewSHA1(idNamespace, []byte(seed)) }

// Reply is one answer given to the customer.
type Reply struct {
	AnsweredAt  time.Time `json:"answeredAt"`
	Channel     Channel   `json:"channel"`
	Body        string    `json:"body"`
	CallMinutes *int      `json:"callMinutes,omitempty"`
}

// TicketQuote is the number of security tickets individual paid support will take.
type TicketQuote struct {
	Tickets  int       `json:"tickets"`
	QuotedAt time.Time `json:"quotedAt"`
}

// Consultation is the state of one consultation, folded from its stream.
type Consultation struct {
	Details
	Status Status `json:"status"`
	// DueAt is when an e-mail consultation must be answered (zero for phone ones).
	DueAt           time.Time                `json:"dueAt,omitzero"`
	RejectionReason contract.CallerRejection `json:"rejectionReason,omitempty"`
	Category        Category                 `json:"category,omitempty"`
	Decision        Decision                 `json:"decision,omitempty"`
	DeclineReason   DeclineReason            `json:"declineReason,omitempty"`
	Referral        Referral                 `json:"referral,omitempty"`
	// AnsweredAt is the time of the reply that answered it since it was last (re)opened.
	AnsweredAt  time.Time    `json:"answeredAt,omitzero"`
	ClosedAt    time.Time    `json:"closedAt,omitzero"`
	ReopenedAt  time.Time    `json:"reopenedAt,omitzero"`
	Replies     []Reply      `json:"replies,omitempty"`
	TicketQuote *TicketQuote `json:"ticketQuote,omitempty"`
	// Version is the stream version folded so far.
	Version uint64 `json:"version"`
}

// Exists reports whether the intake was recorded.
func (c Consultation) Exists() bool { return c.Status != "" }

// Evolve applies one event of the consultation.
func (c Consultation) Evolve(e any) Consultation {
	c.Version++
	switch e := e.(type) {
	case *ConsultationReceived:
		c.Details, c.Status, c.DueAt = e.Details, StatusOpen, e.DueAt
	case *ConsultationRejected:
		c.Details, c.Status, c.RejectionReason = e.Details, StatusRejected, e.Reason
	case *ConsultationTriaged:
		c.Category, c.Decision, c.DeclineReason, c.Referral = e.Category, e.Decision, e.Reason, e.Referral
	case *ConsultationAnswered:
		c.Status, c.AnsweredAt = StatusAnswered, e.AnsweredAt
		c.Replies = append(c.Replies, Reply{AnsweredAt: e.AnsweredAt, Channel: e.Channel, Body: e.Body, CallMinutes: e.CallMinutes})
	case *ConsultationClosed:
		c.Status, c.ClosedAt = StatusClosed, e.ClosedAt
	case *ConsultationReopened:
		c.Status, c.ReopenedAt, c.DueAt = StatusOpen, e.ReopenedAt, e.DueAt
		c.AnsweredAt, c.ClosedAt = time.Time{}, time.Time{}
	case *TicketsQuoted:
		c.TicketQuote = &TicketQuote{Tickets: e.Tickets, QuotedAt: e.QuotedAt}
	}
	return c
}

// OverdueFrom is the instant after which the consultation counts as overdue, and false if it never
// will: one with a due time that is still unanswered is overdue once the due time has passed; one
// answered (or closed without an answer) after its due time stays overdue; one answered or closed
// in time, a phone consultation and a rejected inquiry never are.
func (c Consultation) OverdueFrom() (time.Time, bool) {
	if c.DueAt.IsZero() || c.Status == StatusRejected {
		return time.Time{}, false
	}
	switch {
	case !c.AnsweredAt.IsZero():
		return c.DueAt, c.AnsweredAt.After(c.DueAt)
	case c.Status == StatusClosed:
		return c.DueAt, c.ClosedAt.After(c.DueAt)
	}
	return c.DueAt, true
}

// Overdue reports whether the consultation is overdue at now (see OverdueFrom).
func (c Consultation) Overdue(now time.Time) bool {
	from, ok := c.OverdueFrom()
	return ok && now.After(from)
}

// Receive decides the intake: accepted (open, with a due time for e-mail) when the caller is
// identified by customer as the contract stood at the time of receipt, and a phone call came in
// business hours; rejected with the reason otherwise. It returns *ConsultationReceived or
// *ConsultationRejected.
func Receive(id uuid.UUID, in Intake, customer contract.Standing, cal *calendar.BusinessCalendar) any {
	d := in.details(id)
	reason := customer.IdentifiesCaller(in.CompanyName)
	if reason == "" && in.Channel == ChannelPhone && !cal.IsBusinessHours(in.ReceivedAt) {
		reason = RejectOutsideBusinessHours
	}
	if reason != "" {
		return &ConsultationRejected{Details: d, Reason: reason}
	}
	e := &ConsultationReceived{Details: d}
	if in.Channel == ChannelEmail {
		e.DueAt = cal.AddBusinessHours(in.ReceivedAt, ReplyWithin).UTC()
	}
	return e
}

func (c Consultation) require(op string, allowed ...Status) error {
	if !c.Exists() {
		return ErrNotFound
	}
	for _, s := range allowed {
		if c.Status == s {
			return nil
		}
	}
	return fmt.Errorf("%w: cannot %s a consultation that is %s", ErrInvalidTransition, op, c.Status)
}

// Triage decides a classification, decline or referral; allowed while open or answered, and again
// to correct one.
func (c Consultation) Triage(t Triage, now time.Time) (*ConsultationTriaged, error) {
	if err := c.require("triage", StatusOpen, StatusAnswered); err != nil {
		return nil, err
	}
	return &ConsultationTriaged{ConsultationID: c.ConsultationID, CustomerNumber: c.CustomerNumber, Category: t.Category,
		Decision: t.Decision, Reason: t.Reason, Referral: t.Referral, TriagedAt: now.UTC()}, nil
}

// Answer decides a reply to an open consultation. A reply before the consultation was received
// (or reopened) is refused: the times would make no sense.
func (c Consultation) Answer(r ReplyInput) (*ConsultationAnswered, error) {
	if err := c.require("reply to", StatusOpen); err != nil {
		return nil, err
	}
	if err := c.notBefore("answeredAt", r.At); err != nil {
		return nil, err
	}
	channel := r.Channel
	if channel == "" {
		channel = c.Channel
	}
	if r.CallMinutes != nil && channel != ChannelPhone {
		return nil, validation.Errors{{Field: "durationMinutes", Code: validation.CodeMustBeAbsent, Message: "is only for replies by phone (channel phone)"}}
	}
	return &ConsultationAnswered{ConsultationID: c.ConsultationID, CustomerNumber: c.CustomerNumber, AnsweredAt: r.At.UTC(),
		Channel: channel, Body: r.Body, CallMinutes: r.CallMinutes}, nil
}

// notBefore refuses a time before the consultation's last change (its receipt, reply, closing or
// reopening): the lifecycle would run backwards.
func (c Consultation) notBefore(field string, at time.Time) error {
	last := c.ReceivedAt
	for _, t := range []time.Time{c.ReopenedAt, c.AnsweredAt, c.ClosedAt} {
		if t.After(last) {
			last = t
		}
	}
	if at.Before(last) {
		return validation.Errors{{Field: field, Code: validation.CodeTooEarly,
			Message: fmt.Sprintf("must not be before the consultation's last change (%s)", last.UTC().Format(time.RFC3339))}}
	}
	return nil
}

// Close decides closing an open or answered consultation.
func (c Consultation) Close(at time.Time) (*ConsultationClosed, error) {
	if err := c.require("close", StatusOpen, StatusAnswered); err != nil {
		return nil, err
	}
	if err := c.notBefore("closedAt", at); err != nil {
		return nil, err
	}
	return &ConsultationClosed{ConsultationID: c.ConsultationID, CustomerNumber: c.CustomerNumber, ClosedAt: at.UTC()}, nil
}

// Reopen decides reopening an answered or closed consultation: open again, and an e-mail one due
// 7 business hours after the reopening.
func (c Consultation) Reopen(at time.Time, cal *calendar.BusinessCalendar) (*ConsultationReopened, error) {
	if err := c.require("reopen", StatusAnswered, StatusClosed); err != nil {
		return nil, err
	}
	if err := c.notBefore("reopenedAt", at); err != nil {
		return nil, err
	}
	e := &ConsultationReopened{ConsultationID: c.ConsultationID, CustomerNumber: c.CustomerNumber, ReopenedAt: at.UTC()}
	if c.Channel == ChannelEmail {
		e.DueAt = cal.AddBusinessHours(at, ReplyWithin).UTC()
	}
	return e, nil
}

// QuoteTickets decides the ticket quote of an open or answered consultation; a new quote replaces
// the last one.
func (c Consultation) QuoteTickets(tickets int, now time.Time) (*TicketsQuoted, error) {
	if err := c.require("quote tickets for", StatusOpen, StatusAnswered); err != nil {
		return nil, err
	}
	if tickets < 1 || tickets > MaxTickets {
		return nil, validation.Errors{{Field: "tickets", Code: validation.CodeOutOfRange, Message: fmt.Sprintf("must be 1 to %d", MaxTickets)}}
	}
	return &TicketsQuoted{ConsultationID: c.ConsultationID, CustomerNumber: c.CustomerNumber, Tickets: tickets, QuotedAt: now.UTC()}, nil
}

// MaxTickets is the most tickets one quote (and one order) may hold, as on the order form.
const MaxTickets = 9999
