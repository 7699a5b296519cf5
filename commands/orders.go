package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/uuid"

	"yorozu/domain/access"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
)

// ErrPreconditionFailed: the If-Match version is not the aggregate's current version.
var ErrPreconditionFailed = errors.New("precondition failed: the order changed since you read it")

// OrderDeps are what the order use cases need besides Deps.
type OrderDeps struct {
	Deps
	Calendar *calendar.BusinessCalendar
	// Secrets seals the security-report password; Random salts password hashes.
	Secrets access.SecretBox
	Random  io.Reader
	numbers *numberer
}

// NewOrderDeps builds the order use cases' dependencies.
func NewOrderDeps(d Deps, cal *calendar.BusinessCalendar, secrets access.SecretBox, random io.Reader) *OrderDeps {
	return &OrderDeps{Deps: d, Calendar: cal, Secrets: secrets, Random: random, numbers: &numberer{}}
}

// orderScope is an order together with the contract whose stream may hold it.
type orderScope struct {
	id       uuid.UUID
	order    order.Order
	contract contract.Contract
}

func foldOrderScope(s *orderScope, _ event.Record, e any) error {
	if e == nil {
		return nil
	}
	s.contract = s.contract.Evolve(e)
	if r, ok := e.(*order.OrderReceived); ok && r.OrderID != s.id {
		return nil
	}
	s.order = s.order.Evolve(e)
	return nil
}

// checkVersion applies If-Match.
func checkVersion(ifMatch *uint64, o order.Order) error {
	if ifMatch != nil && *ifMatch != o.Version {
		return fmt.Errorf("%w (version %d, If-Match %d)", ErrPreconditionFailed, o.Version, *ifMatch)
	}
	return nil
}

// secretsOf turns the form's passwords into what may be stored: a hash of the opening-notice
// (login) password, the report password sealed with the deployment key.
func (d *OrderDeps) secretsOf(id uuid.UUID, f order.Form) (order.Secrets, error) {
	var s order.Secrets
	if f.OpeningNotice != nil && f.OpeningNotice.Password != nil {
		h, err := access.HashPassword(*f.OpeningNotice.Password, access.CustomerPasswordParams, d.Random)
		if err != nil {
			return s, err
		}
		s.OpeningNoticePasswordHash = h
	}
	if f.SecurityReportPassword != nil {
		sealed, err := d.Secrets.Seal([]byte(*f.SecurityReportPassword), reportPasswordAD(id))
		if err != nil {
			return s, err
		}
		s.SecurityReportPasswordSealed = sealed
	}
	return s, nil
}

func reportPasswordAD(orderID uuid.UUID) []byte {
	return []byte("yorozu/report-password/v1/" + orderID.String())
}

// numberer issues customer numbers from NumberingStream. The number is the stream version of
// the event that issues it; the last version seen is cached, so issuing reads only what other
// processes appended since, and a mutex keeps this process's acceptances from racing each other.
type numberer struct {
	mu      sync.Mutex
	version uint64
}

// issue appends a CustomerNumberIssued for orderID. Its event ID derives from the order, so a
// retried acceptance gets back the number already issued to it.
func (n *numberer) issue(ctx context.Context, d Deps, m Meta, orderID uuid.UUID) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for attempt := 0; attempt < 100; attempt++ {
		// Catch up with numbers issued by other processes.
		for {
			recs, err := d.Events.ReadStream(ctx, contract.NumberingStream, n.version+1, 1000)
			if err != nil {
				return "", err
			}
			if len(recs) == 0 {
				break
			}
			n.version = recs[len(recs)-1].StreamVersion
		}
		cn, err := contract.CustomerNumberAt(n.version + 1)
		if err != nil {
			return "", err
		}
		drafts, err := toDrafts(d, m, contract.NumberingStream, []any{&contract.CustomerNumberIssued{CustomerNumber: cn, OrderID: orderID}})
		if err != nil {
			return "", err
		}
		drafts[0].ID = uuid.NewSHA1(eventIDNamespace, []byte("customer-number|"+orderID.String()))
		res, err := d.Events.Append(ctx, contract.NumberingStream, event.Exactly(n.version), drafts)
		if errors.Is(err, event.ErrConcurrency) {
			continue
		}
		if err != nil {
			return "", err
		}
		if res.LastVersion > n.version {
			n.version = res.LastVersion
		}
		return contract.CustomerNumberAt(res.LastVersion)
	}
	return "", fmt.Errorf("customer number: %w after 100 attempts", event.ErrConcurrency)
}
