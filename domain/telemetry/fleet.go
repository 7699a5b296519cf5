package telemetry

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Enrollment refusals and terminal errors.
var (
	// ErrBadEnrollmentToken: the enrollment token is unknown, malformed or expired (401).
	ErrBadEnrollmentToken = errors.New("telemetry: bad or expired enrollment token")
	// ErrIDLimitReached: the contract's active terminals already use every ID it has (5 plus its
	// additional IDs).
	ErrIDLimitReached = errors.New("telemetry: the contract's device IDs are all in use")
	// ErrUnsupportedOS: only Windows terminals can enroll.
	ErrUnsupportedOS = errors.New("telemetry: unsupported operating system")
	// ErrAssetManagementToolPresent: the terminal runs another IT asset-management tool.
	ErrAssetManagementToolPresent = errors.New("telemetry: another asset-management tool is installed")
	// ErrContractNotActive: the contract does not exist (yet) or is terminated.
	ErrContractNotActive = errors.New("telemetry: the contract is not active")
	// ErrTerminalNotFound: no terminal has that ID.
	ErrTerminalNotFound = errors.New("telemetry: terminal not found")
	// ErrBadAgentToken: an agent token that opens no terminal (401).
	ErrBadAgentToken = errors.New("telemetry: bad agent token")
	// ErrTerminalRetired: the terminal was retired; its agent's uploads are refused.
	ErrTerminalRetired = errors.New("telemetry: terminal retired")
	// ErrContractTerminated: the terminal's contract was terminated; its uploads are refused.
	ErrContractTerminated = errors.New("telemetry: contract terminated")
)

// DefaultEnrollmentTokenTTL is how long an enrollment token works unless staff say otherwise.
const DefaultEnrollmentTokenTTL = 30 * 24 * time.Hour

// IncludedIDs is the number of device IDs every contract has before additional ones.
const IncludedIDs = 5

// Terminal statuses.
const (
	StatusActive  = "active"
	StatusRetired = "retired"
)

// Terminal is one enrolled terminal as its contract's fleet knows it.
type Terminal struct {
	ID             uuid.UUID
	CustomerNumber string
	Hostname       string
	HardwareID     string
	OS             OS
	Status         string
	EnrolledAt     time.Time
	RetiredAt      time.Time
	AgentTokenHash string
}

// ContractFacts is what enrollment needs to know of the contract, read from its own stream.
type ContractFacts struct {
	// Active: opened and not terminated.
	Active bool
	// TotalIDs: 5 plus the additional IDs.
	TotalIDs int
}

// Fleet is the aggregate of one contract's terminals and enrollment tokens (its stream is
// FleetStream). Its decisions read it; Apply folds an event of its stream into it.
type Fleet struct {
	CustomerNumber string
	terminals      map[uuid.UUID]*Terminal
	// byHardware: hardware ID → the terminal enrolled last with it.
	byHardware map[string]uuid.UUID
	// tokens: enrollment token hash → expiry.
	tokens map[string]time.Time
	active int
}

// NewFleet returns the empty fleet of a contract.
func NewFleet(customerNumber string) *Fleet {
	return &Fleet{CustomerNumber: customerNumber, terminals: map[uuid.UUID]*Terminal{},
		byHardware: map[string]uuid.UUID{}, tokens: map[string]time.Time{}}
}

// Apply folds one event of the fleet's stream. It mutates the fleet: callers that must be able to
// go back (a refused append) load it again.
func (f *Fleet) Apply(e any) error {
	switch e := e.(type) {
	case *EnrollmentTokenIssued:
		f.tokens[e.TokenHash] = e.ExpiresAt
	case *TerminalEnrolled:
		t := &Terminal{ID: e.TerminalID, CustomerNumber: e.CustomerNumber, Hostname: e.Hostname, HardwareID: e.HardwareID,
			OS: e.OS, Status: StatusActive, EnrolledAt: e.EnrolledAt, AgentTokenHash: e.AgentTokenHash}
		f.terminals[t.ID] = t
		f.byHardware[t.HardwareID] = t.ID
		f.active++
	case *TerminalReenrolled:
		t, ok := f.terminals[e.TerminalID]
		if !ok {
			return fmt.Errorf("%w: %s re-enrolled before it enrolled", ErrTerminalNotFound, e.TerminalID)
		}
		t.Hostname, t.OS, t.AgentTokenHash = e.Hostname, e.OS, e.AgentTokenHash
	case *TerminalRetired:
		t, ok := f.terminals[e.TerminalID]
		if !ok {
			return fmt.Errorf("%w: %s retired before it enrolled", ErrTerminalNotFound, e.TerminalID)
		}
		if t.Status == StatusActive {
			f.active--
		}
		t.Status, t.RetiredAt = StatusRetired, e.RetiredAt
	}
	return nil
}

// Terminal returns a copy of a terminal of the fleet.
func (f *Fleet) Terminal(id uuid.UUID) (Terminal, bool) {
	t, ok := f.terminals[id]
	if !ok {
		return Terminal{}, false
	}
	return *t, true
}

// Terminals returns copies of every terminal, by enrollment time.
func (f *Fleet) Terminals() []Terminal {
	out := make([]Terminal, 0, len(f.terminals))
	for _, t := range f.terminals {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].EnrolledAt.Equal(out[j].EnrolledAt) {
			return out[i].EnrolledAt.Before(out[j].EnrolledAt)
		}
		return out[i].ID.String() < out[j].ID.String()
	})
	return out
}

// ActiveByHardware returns the active terminal enrolled with a hardware ID, if any: the one a
// reinstall gets back.
func (f *Fleet) ActiveByHardware(hardwareID string) (uuid.UUID, bool) {
	id, ok := f.byHardware[hardwareID]
	if !ok || f.terminals[id].Status != StatusActive {
		return uuid.Nil, false
	}
	return id, true
}

// Active is the number of active terminals: the IDs in use.
func (f *Fleet) Active() int { return f.active }

// IssueEnrollmentToken records a new enrollment token (by its hash) valid for ttl.
func (f *Fleet) IssueEnrollmentToken(tokenHash string, now time.Time, ttl time.Duration) *EnrollmentTokenIssued {
	if ttl <= 0 {
		ttl = DefaultEnrollmentTokenTTL
	}
	now = now.UTC()
	return &EnrollmentTokenIssued{CustomerNumber: f.CustomerNumber, TokenHash: tokenHash, IssuedAt: now, ExpiresAt: now.Add(ttl)}
}

// CheckEnrollmentToken reports whether the token's hash is one of the fleet's tokens, unexpired.
func (f *Fleet) CheckEnrollmentToken(tokenHash string, now time.Time) error {
	exp, ok := f.tokens[tokenHash]
	if !ok || !now.Before(exp) {
		return ErrBadEnrollmentToken
	}
	return nil
}

// Enrollment is what an agent sends to enroll, once its token has been checked.
type Enrollment struct {
	Hostname             string
	HardwareID           string
	OS                   OS
	AssetManagementTools []string
}

// IsWindows reports whether an OS edition is a Windows one ("Windows 11 Pro").
func IsWindows(os OS) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(os.Edition)), "windows")
}

// Enroll decides an enrollment: a TerminalReenrolled for a hardware ID whose terminal is active
// on this contract (a reinstall, which takes no new ID), a TerminalEnrolled with newID otherwise.
// The refusals, in the order they are checked: the contract is not active, the OS is not
// Windows, an asset-management tool is present, every ID is in use.
func (f *Fleet) Enroll(c ContractFacts, req Enrollment, newID uuid.UUID, agentTokenHash string, now time.Time) (any, error) {
	if !c.Active {
		return nil, ErrContractNotActive
	}
	if !IsWindows(req.OS) {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedOS, req.OS.Edition)
	}
	for _, tool := range req.AssetManagementTools {
		if strings.TrimSpace(tool) != "" {
			return nil, fmt.Errorf("%w: %s", ErrAssetManagementToolPresent, tool)
		}
	}
	now = now.UTC()
	if id, ok := f.ActiveByHardware(req.HardwareID); ok {
		return &TerminalReenrolled{CustomerNumber: f.CustomerNumber, TerminalID: id, Hostname: req.Hostname, OS: req.OS,
			AgentTokenHash: agentTokenHash, ReenrolledAt: now}, nil
	}
	if f.active >= c.TotalIDs {
		return nil, fmt.Errorf("%w: %d of %d in use", ErrIDLimitReached, f.active, c.TotalIDs)
	}
	return &TerminalEnrolled{CustomerNumber: f.CustomerNumber, TerminalID: newID, Hostname: req.Hostname, HardwareID: req.HardwareID,
		OS: req.OS, AgentTokenHash: agentTokenHash, EnrolledAt: now}, nil
}

// Retire decides the retirement of a terminal: nil (nothing to do) if it is retired already.
func (f *Fleet) Retire(id uuid.UUID, now time.Time) (*TerminalRetired, error) {
	t, ok := f.terminals[id]
	if !ok {
		return nil, ErrTerminalNotFound
	}
	if t.Status == StatusRetired {
		return nil, nil
	}
	return &TerminalRetired{CustomerNumber: f.CustomerNumber, TerminalID: id, RetiredAt: now.UTC()}, nil
}
