// Package telemetry is the agent side of the health-check service: enrollment of terminals on a
// contract (the Fleet aggregate), the agents' secret tokens, the telemetry batch an agent uploads
// with the rules that accept or drop its records, and the sealing of the stored payload under the
// contract's data key (crypto-shredding).
//
// It is pure: no I/O and no clock. Tokens and nonces come from an injected random source; the key
// ring that holds the data keys is a port (KeyRing) implemented in adapters/keyring.
package telemetry

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// Stream categories.
const (
	// FleetCategory: one stream per contract, FleetStream(customerNumber), holding its enrollment
	// tokens and the life of its terminals.
	FleetCategory = "terminals"
	// TelemetryCategory: the uploaded batches, one stream per terminal and UTC day (see
	// TelemetryStream). event.TimePartitioned keeps them in day partitions that retention drops.
	TelemetryCategory = "telemetry"
)

// FleetStream is the stream of a contract's terminals.
func FleetStream(customerNumber string) string { return FleetCategory + "-" + customerNumber }

// TelemetryStream is the stream of a terminal's batches received on the UTC day of receivedAt:
// telemetry-<customerNumber>-<terminalId>-<YYYYMMDD>. The store keeps telemetry in partitions of
// the UTC day the events are recorded, so a stream and its day's partition go together, and
// retention removes whole streams. The customer number is the second part of the name.
func TelemetryStream(customerNumber string, terminalID uuid.UUID, receivedAt time.Time) string {
	return fmt.Sprintf("%s-%s-%s-%s", TelemetryCategory, customerNumber, terminalID, receivedAt.UTC().Format("20060102"))
}

// OS is a terminal's operating system as the agent reports it.
type OS struct {
	Edition string `json:"edition"`
	Version string `json:"version"`
	// Build is the build with its revision, such as 22631.4460.
	Build string `json:"build"`
}

// EnrollmentTokenIssued: staff created an enrollment token for the contract. Only its hash is
// kept; the token itself was shown once.
type EnrollmentTokenIssued struct {
	CustomerNumber string    `json:"customerNumber"`
	TokenHash      string    `json:"tokenHash" secret:"hash"`
	IssuedAt       time.Time `json:"issuedAt"`
	ExpiresAt      time.Time `json:"expiresAt"`
}

// TerminalEnrolled: an agent enrolled a new terminal on the contract and received its token.
type TerminalEnrolled struct {
	CustomerNumber string    `json:"customerNumber"`
	TerminalID     uuid.UUID `json:"terminalId"`
	Hostname       string    `json:"hostname"`
	HardwareID     string    `json:"hardwareId"`
	OS             OS        `json:"os"`
	AgentTokenHash string    `json:"agentTokenHash" secret:"hash"`
	EnrolledAt     time.Time `json:"enrolledAt"`
}

// TerminalReenrolled: the agent of a terminal already enrolled (same hardware ID, same contract)
// enrolled again, a reinstall: the terminal gets a new token and the old one stops working.
type TerminalReenrolled struct {
	CustomerNumber string    `json:"customerNumber"`
	TerminalID     uuid.UUID `json:"terminalId"`
	Hostname       string    `json:"hostname"`
	OS             OS        `json:"os"`
	AgentTokenHash string    `json:"agentTokenHash" secret:"hash"`
	ReenrolledAt   time.Time `json:"reenrolledAt"`
}

// TerminalRetired: staff retired a terminal; its ID is free again and its token refused.
type TerminalRetired struct {
	CustomerNumber string    `json:"customerNumber"`
	TerminalID     uuid.UUID `json:"terminalId"`
	RetiredAt      time.Time `json:"retiredAt"`
}

// Dropped counts the records of a batch that were not accepted, by reason.
type Dropped struct {
	// TooOld: more than MaxLateness before the batch was received.
	TooOld int `json:"tooOld"`
	// Future: more than MaxAhead after it was received.
	Future int `json:"future"`
	// Invalid: a record that breaks the wire format on its own.
	Invalid int `json:"invalid"`
}

// BatchReceived is one uploaded batch, one event in the terminal's telemetry stream of the day.
// Its event ID derives from the terminal and the batch ID (BatchEventID), so a batch sent again
// is recognised by the store, whichever replica receives it and whenever.
//
// The accepted records and the inventory are in PayloadSealed, sealed under the contract's data
// key (SealPayload): the event is hashed, chained and decoded like any other, and its payload
// can no longer be read by anyone once the key is destroyed.
type BatchReceived struct {
	CustomerNumber string    `json:"customerNumber"`
	TerminalID     uuid.UUID `json:"terminalId"`
	BatchID        uuid.UUID `json:"batchId"`
	Sequence       int64     `json:"sequence"`
	CollectedFrom  time.Time `json:"collectedFrom"`
	CollectedTo    time.Time `json:"collectedTo"`
	ReceivedAt     time.Time `json:"receivedAt"`
	Accepted       int       `json:"accepted"`
	Dropped        Dropped   `json:"dropped"`
	HasInventory   bool      `json:"hasInventory"`
	// PayloadSealed is nonce || AES-GCM(zstd(JSON Payload)) under the contract's data key.
	PayloadSealed []byte `json:"payloadSealed" secret:"sealed"`
}

// EffectiveTime implements event.BusinessTimed: the end of the collection window.
func (e *BatchReceived) EffectiveTime() time.Time { return e.CollectedTo }

// CustomerNumberOf implements event.ForCustomer.
func (e *EnrollmentTokenIssued) CustomerNumberOf() string { return e.CustomerNumber }
func (e *TerminalEnrolled) CustomerNumberOf() string      { return e.CustomerNumber }
func (e *TerminalReenrolled) CustomerNumberOf() string    { return e.CustomerNumber }
func (e *TerminalRetired) CustomerNumberOf() string       { return e.CustomerNumber }
func (e *BatchReceived) CustomerNumberOf() string         { return e.CustomerNumber }

// RegisterEvents adds the telemetry events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*EnrollmentTokenIssued)(nil), (*TerminalEnrolled)(nil), (*TerminalReenrolled)(nil),
		(*TerminalRetired)(nil), (*BatchReceived)(nil))
	r.RegisterCustomerStreams(FleetCategory)
	r.RegisterCustomerSubstreams(TelemetryCategory)
}

// batchEventNamespace derives a batch's event ID. Part of the storage schema: never change it.
var batchEventNamespace = uuid.MustParse("3f0d6a52-8c4e-4f1b-a7d2-6b9e0c1d2e3f")

// BatchEventID is the event ID of a terminal's batch: the same batch always gets the same ID, so
// the store refuses to keep it twice.
func BatchEventID(terminalID, batchID uuid.UUID) uuid.UUID {
	var name [32]byte
	copy(name[:16], terminalID[:])
	copy(name[16:], batchID[:])
	return uuid.NewSHA1(batchEventNamespace, name[:])
}
