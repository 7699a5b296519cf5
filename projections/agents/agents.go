// Package agents keeps, in this process's memory, what every agent request is checked against:
// each contract's fleet of terminals (telemetry.Fleet) with the hashes of its agent and
// enrollment tokens, and the contract's own state (active or terminated, its IDs). It is a
// volatile projection like the staff directory: rebuilt from the log at every start, then kept
// current as the log grows.
//
// Other replicas append too, and the runner notices their events only at its next poll. So a
// lookup that misses (a token this replica has not seen yet: an agent that just enrolled through
// another replica and sends its first batch here) reads the contract's streams from the store
// before it answers no, and the enrollment use case does the same before it decides: both see
// everything committed before they ask.
package agents

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/telemetry"
	"yorozu/projections/readmodel"
)

// Name is the projection's name.
const Name = "agent-directory"

// Directory is the projection and its state.
type Directory struct {
	codec  *event.Registry
	events event.Streams

	mu        sync.RWMutex
	customers map[string]*customer
	// byToken: agent token hash → terminal; byTerminal: terminal → customer number.
	byToken    map[string]uuid.UUID
	byTerminal map[uuid.UUID]string

	locksMu sync.Mutex
	locks   map[string]*sync.Mutex

	// OnTerminated, if set, is called (from the projection, so it must not block) when a
	// contract's termination is applied.
	OnTerminated func(customerNumber string)
}

// customer is one contract: its fleet and its contract state, each with the version of its stream
// folded so far.
type customer struct {
	fleet           *telemetry.Fleet
	fleetVersion    uint64
	contract        contract.Contract
	contractVersion uint64
}

// New returns an empty directory that decodes with codec and, on a miss, reads events.
func New(codec *event.Registry, events event.Streams) *Directory {
	return &Directory{codec: codec, events: events, customers: map[string]*customer{}, byToken: map[string]uuid.UUID{},
		byTerminal: map[uuid.UUID]string{}, locks: map[string]*sync.Mutex{}}
}

// Name implements projections.Projection.
func (*Directory) Name() string { return Name }

// Volatile implements projections.Volatile.
func (*Directory) Volatile() bool { return true }

// Apply implements projections.Projection.
func (d *Directory) Apply(ctx context.Context, _ readmodel.Tx, rec event.Record) error {
	var cn string
	var ok bool
	switch event.Category(rec.Stream) {
	case telemetry.FleetCategory:
		cn, ok = d.codec.CustomerOfStream(rec.Stream)
	case "contract":
		cn, ok = contract.CustomerNumberOfStream(rec.Stream)
	}
	if !ok || !d.codec.Knows(rec.Type) {
		return nil
	}
	d.mu.Lock()
	c := d.customer(cn)
	fleetStream := event.Category(rec.Stream) == telemetry.FleetCategory
	applied := c.contractVersion
	if fleetStream {
		applied = c.fleetVersion
	}
	switch {
	case rec.StreamVersion <= applied: // already read from the store by a lookup
		d.mu.Unlock()
		return nil
	case rec.StreamVersion > applied+1: // cannot happen in log order; read what is missing
		d.mu.Unlock()
		return d.Refresh(ctx, cn)
	}
	err := d.applyLocked(c, rec, fleetStream)
	d.mu.Unlock()
	return err
}

func (d *Directory) customer(cn string) *customer {
	c, ok := d.customers[cn]
	if !ok {
		c = &customer{fleet: telemetry.NewFleet(cn)}
		d.customers[cn] = c
	}
	return c
}

// applyLocked folds one event of a contract's fleet or contract stream; d.mu is held.
func (d *Directory) applyLocked(c *customer, rec event.Record, fleetStream bool) error {
	e, err := d.codec.Decode(rec)
	if err != nil {
		return err
	}
	if !fleetStream {
		c.contract = c.contract.Evolve(e)
		c.contractVersion = rec.StreamVersion
		if t, ok := e.(*contract.ContractTerminated); ok && d.OnTerminated != nil {
			d.OnTerminated(t.CustomerNumber)
		}
		return nil
	}
	var old string
	switch e := e.(type) {
	case *telemetry.TerminalReenrolled:
		if t, ok := c.fleet.Terminal(e.TerminalID); ok {
			old = t.AgentTokenHash
		}
	}
	if err := c.fleet.Apply(e); err != nil {
		return fmt.Errorf("agents: %s@%d: %w", rec.Stream, rec.StreamVersion, err)
	}
	c.fleetVersion = rec.StreamVersion
	switch e := e.(type) {
	case *telemetry.TerminalEnrolled:
		d.byToken[e.AgentTokenHash] = e.TerminalID
		d.byTerminal[e.TerminalID] = e.CustomerNumber
	case *telemetry.TerminalReenrolled:
		// The old token stops working the moment the new one is known.
		delete(d.byToken, old)
		d.byToken[e.AgentTokenHash] = e.TerminalID
	}
	return nil
}

// Refresh reads from the store whatever of a contract's fleet and contract streams this
// directory has not folded yet.
func (d *Directory) Refresh(ctx context.Context, cn string) error {
	for _, fleetStream := range []bool{false, true} {
		stream := contract.Stream(cn)
		if fleetStream {
			stream = telemetry.FleetStream(cn)
		}
		for {
			d.mu.RLock()
			c := d.customers[cn]
			var from uint64
			if c != nil {
				from = c.contractVersion
				if fleetStream {
					from = c.fleetVersion
				}
			}
			d.mu.RUnlock()
			recs, err := d.events.ReadStream(ctx, stream, from+1, 1000)
			if err != nil {
				return err
			}
			d.mu.Lock()
			c = d.customer(cn)
			for _, rec := range recs {
				applied := c.contractVersion
				if fleetStream {
					applied = c.fleetVersion
				}
				if rec.StreamVersion != applied+1 {
					continue // the projection got there meanwhile
				}
				if err := d.applyLocked(c, rec, fleetStream); err != nil {
					d.mu.Unlock()
					return err
				}
			}
			d.mu.Unlock()
			if len(recs) < 1000 {
				break
			}
		}
	}
	return nil
}

// Lock serialises this process's commands on one contract's fleet (enrollments, retirements);
// other processes are kept apart by the expected version of the append.
func (d *Directory) Lock(cn string) func() {
	d.locksMu.Lock()
	m, ok := d.locks[cn]
	if !ok {
		m = &sync.Mutex{}
		d.locks[cn] = m
	}
	d.locksMu.Unlock()
	m.Lock()
	return m.Unlock
}

// Snapshot is a contract's state as the directory has it after a Refresh: a copy of the fleet
// the caller may decide on.
type Snapshot struct {
	Fleet        *telemetry.Fleet
	FleetVersion uint64
	Contract     telemetry.ContractFacts
	// ContractExists: the contract was opened (it may be terminated since).
	ContractExists bool
}

// Decide refreshes a contract from the store and calls decide with its state. The fleet in the
// snapshot is the directory's own: decide reads it (the directory is locked meanwhile, so it
// must be quick and must not call the directory) and never changes it.
func (d *Directory) Decide(ctx context.Context, cn string, decide func(Snapshot) error) error {
	if err := d.Refresh(ctx, cn); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.customer(cn)
	return decide(Snapshot{Fleet: c.fleet, FleetVersion: c.fleetVersion, ContractExists: c.contract.Exists(),
		Contract: telemetry.ContractFacts{Active: c.contract.Status == contract.StatusActive, TotalIDs: c.contract.TotalIDs()}})
}

// Authenticate finds the terminal of an agent token: ErrBadAgentToken if none,
// ErrTerminalRetired or ErrContractTerminated if its uploads are refused.
func (d *Directory) Authenticate(ctx context.Context, token string) (telemetry.Terminal, error) {
	hash := telemetry.HashToken(token)
	t, terminated, ok := d.lookup(hash)
	if !ok {
		cn, _, shaped := telemetry.AgentTokenTerminal(token)
		if !shaped {
			return telemetry.Terminal{}, telemetry.ErrBadAgentToken
		}
		if err := d.Refresh(ctx, cn); err != nil {
			return telemetry.Terminal{}, err
		}
		if t, terminated, ok = d.lookup(hash); !ok {
			return telemetry.Terminal{}, telemetry.ErrBadAgentToken
		}
	}
	switch {
	case terminated:
		return t, telemetry.ErrContractTerminated
	case t.Status != telemetry.StatusActive:
		return t, telemetry.ErrTerminalRetired
	}
	return t, nil
}

func (d *Directory) lookup(hash string) (telemetry.Terminal, bool, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.byToken[hash]
	if !ok {
		return telemetry.Terminal{}, false, false
	}
	c := d.customers[d.byTerminal[id]]
	if c == nil {
		return telemetry.Terminal{}, false, false
	}
	t, ok := c.fleet.Terminal(id)
	if !ok || t.AgentTokenHash != hash {
		return telemetry.Terminal{}, false, false
	}
	return t, c.contract.Status == contract.StatusTerminated, true
}

// CustomerOf returns the contract of a terminal this process knows.
func (d *Directory) CustomerOf(terminalID uuid.UUID) (string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	cn, ok := d.byTerminal[terminalID]
	return cn, ok
}

// Terminated reports whether the directory knows a contract as terminated.
func (d *Directory) Terminated(cn string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c := d.customers[cn]
	return c != nil && c.contract.Status == contract.StatusTerminated
}
