// Package agentsim plays simulated Windows terminals against a YOROZU server (yorozu agentsim):
// it enrolls them with an enrollment token, then each uploads a realistic batch every interval
// (divided by the speed-up): about 170 records, 25 KB of JSON, gzip-compressed: web visits over
// a few hundred real-looking sites, logons, application starts, file and print records, now and
// then a USB stick. A terminal's first batch carries its full inventory, and it goes out at once;
// terminals go offline now and then and send what they buffered when they come back (late
// batches), and some batches are sent twice (a lost acknowledgement). Run reports counts and the
// upload latency percentiles.
package agentsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one simulation.
type Config struct {
	URL             string
	EnrollmentToken string
	Terminals       int
	// Duration is wall-clock time; batches stop being started after it.
	Duration time.Duration
	// Interval is a terminal's upload interval (15 minutes), divided by Speedup in wall-clock time.
	Interval time.Duration
	Speedup  float64
	// Concurrency bounds the requests in flight (64 by default).
	Concurrency int
	// Seed makes a run repeatable (records, offline spells, re-sends).
	Seed   uint64
	Client *http.Client
	// Now is the clock records are stamped with (time.Now by default).
	Now func() time.Time
	// OfflineChance is the chance per batch that a terminal goes offline for a few intervals
	// (default 0.01); ResendChance the chance that an acknowledged batch is sent again (0.01).
	OfflineChance, ResendChance float64
	// RecordsPerBatch is about how many records a batch holds (170).
	RecordsPerBatch int
}

func (c *Config) setDefaults() {
	if c.Interval <= 0 {
		c.Interval = 15 * time.Minute
	}
	if c.Speedup <= 0 {
		c.Speedup = 1
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			MaxIdleConns: c.Concurrency * 2, MaxIdleConnsPerHost: c.Concurrency * 2, IdleConnTimeout: time.Minute}}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.OfflineChance == 0 {
		c.OfflineChance = 0.01
	}
	if c.ResendChance == 0 {
		c.ResendChance = 0.01
	}
	if c.RecordsPerBatch <= 0 {
		c.RecordsPerBatch = 170
	}
	c.URL = strings.TrimRight(c.URL, "/")
}

// Result is what `yorozu agentsim` prints.
type Result struct {
	Terminals    int64   `json:"terminals"`
	Batches      int64   `json:"batches"`
	Records      int64   `json:"records"`
	Acknowledged int64   `json:"acknowledged"`
	P50Ms        float64 `json:"p50Ms"`
	P99Ms        float64 `json:"p99Ms"`
	// SteadyP50Ms and SteadyP99Ms leave out each terminal's first batch, which all terminals
	// send at once: the latency of the steady rate.
	SteadyP50Ms float64 `json:"steadyP50Ms"`
	SteadyP99Ms float64 `json:"steadyP99Ms"`
}

// Simulator runs terminals; Run is the usual entry.
type Simulator struct {
	cfg       Config
	sem       chan struct{}
	batches   atomic.Int64
	records   atomic.Int64
	acked     atomic.Int64
	mu        sync.Mutex
	latencies []time.Duration
	steady    []time.Duration
	firstErr  atomic.Pointer[error]
}

// New returns a simulator.
func New(cfg Config) *Simulator {
	cfg.setDefaults()
	return &Simulator{cfg: cfg, sem: make(chan struct{}, cfg.Concurrency)}
}

// Run enrolls the terminals and uploads until the duration has passed (or ctx ends).
func Run(ctx context.Context, cfg Config) (Result, error) {
	return New(cfg).Run(ctx)
}

// Terminal is one enrolled simulated terminal.
type Terminal struct {
	ID, Token, Hostname string
	rng                 *rand.Rand
	sequence            int64
	sentInventory       bool
	offlineFor          int
	buffered            []wireBatch
	lastSent            *wireBatch
}

// wireBatch is a batch ready to send: gzip-compressed JSON.
type wireBatch struct {
	gz      []byte
	records int
}

// Enroll enrolls n terminals (in parallel, within the concurrency bound).
func (s *Simulator) Enroll(ctx context.Context, n int) ([]*Terminal, error) {
	out := make([]*Terminal, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			t, err := s.enroll(ctx, i) // post bounds the requests in flight
			if err != nil {
				errs <- err
				return
			}
			out[i] = t
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Simulator) enroll(ctx context.Context, i int) (*Terminal, error) {
	rng := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)+1))
	host := fmt.Sprintf("PC-%05d", i+1)
	body, _ := json.Marshal(map[string]any{
		"enrollmentToken": s.cfg.EnrollmentToken, "hostname": host,
		"hardwareId":           fmt.Sprintf("HW-%016x", rng.Uint64()),
		"os":                   map[string]string{"edition": "Windows 11 Pro", "version": "23H2", "build": fmt.Sprintf("22631.%d", 4000+rng.IntN(500))},
		"assetManagementTools": []string{},
	})
	var resp struct {
		TerminalID string `json:"terminalId"`
		AgentToken string `json:"agentToken"`
	}
	for attempt := 0; ; attempt++ {
		status, raw, _, err := s.post(ctx, "/agent/v1/enroll", "", body, false)
		switch {
		case err == nil && (status == http.StatusCreated || status == http.StatusAccepted):
			if err := json.Unmarshal(raw, &resp); err != nil {
				return nil, fmt.Errorf("enroll %s: %w", host, err)
			}
			return &Terminal{ID: resp.TerminalID, Token: resp.AgentToken, Hostname: host, rng: rng}, nil
		case retryable(status, err) && attempt < 20 && ctx.Err() == nil:
			backoff(ctx, attempt)
		case err != nil:
			return nil, fmt.Errorf("enroll %s: %w", host, err)
		default:
			return nil, fmt.Errorf("enroll %s: %d %s", host, status, raw)
		}
	}
}

func retryable(status int, err error) bool {
	return err != nil || status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status >= 500
}

func backoff(ctx context.Context, attempt int) {
	d := time.Duration(min(1<<attempt, 64)) * 50 * time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Run enrolls the terminals, then plays them.
func (s *Simulator) Run(ctx context.Context) (Result, error) {
	if s.cfg.URL == "" || s.cfg.EnrollmentToken == "" || s.cfg.Terminals <= 0 {
		return Result{}, errors.New("agentsim: --url, --enrollment-token and --terminals are required")
	}
	terms, err := s.Enroll(ctx, s.cfg.Terminals)
	if err != nil {
		return Result{}, err
	}
	return s.Play(ctx, terms)
}

// Play uploads for the configured duration: each terminal's first batch at once, then one every
// interval/speed-up, from a random phase so that the terminals spread over the interval.
func (s *Simulator) Play(ctx context.Context, terms []*Terminal) (Result, error) {
	period := time.Duration(float64(s.cfg.Interval) / s.cfg.Speedup)
	deadline := time.Now().Add(s.cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(2*time.Minute)) // in-flight requests finish
	defer cancel()
	var wg sync.WaitGroup
	for _, t := range terms {
		wg.Go(func() {
			next := time.Now()
			for first := true; time.Now().Before(deadline) || first; first = false {
				s.tick(ctx, t)
				if first {
					next = next.Add(time.Duration(t.rng.Float64() * float64(period)))
				} else {
					next = next.Add(period)
				}
				wait := time.Until(next)
				if !time.Now().Add(wait).Before(deadline) {
					return
				}
				timer := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					timer.Stop()
					return
				case <-timer.C:
				}
			}
		})
	}
	wg.Wait()
	res := Result{Terminals: int64(len(terms)), Batches: s.batches.Load(), Records: s.records.Load(), Acknowledged: s.acked.Load()}
	s.mu.Lock()
	lat, steady := slices.Clone(s.latencies), slices.Clone(s.steady)
	s.mu.Unlock()
	slices.Sort(lat)
	slices.Sort(steady)
	res.P50Ms, res.P99Ms = percentile(lat, 0.50), percentile(lat, 0.99)
	res.SteadyP50Ms, res.SteadyP99Ms = percentile(steady, 0.50), percentile(steady, 0.99)
	if e := s.firstErr.Load(); e != nil {
		return res, *e
	}
	return res, nil
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

// tick is one interval of a terminal: make its batch, then send it, or buffer it while offline.
func (s *Simulator) tick(ctx context.Context, t *Terminal) {
	batch := s.makeBatch(t)
	if t.offlineFor > 0 {
		t.offlineFor--
		t.buffered = append(t.buffered, batch)
		return
	}
	if t.sequence > 1 && t.rng.Float64() < s.cfg.OfflineChance {
		t.offlineFor = 1 + t.rng.IntN(4)
		t.buffered = append(t.buffered, batch)
		return
	}
	// Back online: the buffered batches first, late.
	for _, b := range t.buffered {
		s.upload(ctx, t, b)
	}
	t.buffered = t.buffered[:0]
	if t.lastSent != nil && t.rng.Float64() < s.cfg.ResendChance {
		s.upload(ctx, t, *t.lastSent) // the acknowledgement was lost: the same batch again
	}
	s.upload(ctx, t, batch)
	t.lastSent = &batch
}

func (s *Simulator) upload(ctx context.Context, t *Terminal, b wireBatch) {
	n := b.records
	for attempt := 0; ; attempt++ {
		status, raw, d, err := s.post(ctx, "/agent/v1/telemetry", t.Token, b.gz, true)
		if err == nil {
			s.mu.Lock()
			s.latencies = append(s.latencies, d)
			if t.sequence > 1 {
				s.steady = append(s.steady, d)
			}
			s.mu.Unlock()
		}
		switch {
		case err == nil && (status == http.StatusOK || status == http.StatusAccepted):
			s.batches.Add(1)
			s.records.Add(int64(n))
			s.acked.Add(1)
			return
		case ctx.Err() != nil:
			return
		case retryable(status, err) && attempt < 10:
			backoff(ctx, attempt)
		default:
			s.batches.Add(1)
			s.records.Add(int64(n))
			if err == nil {
				err = fmt.Errorf("agentsim: upload of %s answered %d: %s", t.Hostname, status, raw)
			}
			s.firstErr.CompareAndSwap(nil, &err)
			return
		}
	}
}

// post sends one request, within the bound of requests in flight, and measures it from the
// moment it has a slot.
func (s *Simulator) post(ctx context.Context, path, token string, body []byte, gzipped bool) (int, []byte, time.Duration, error) {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, raw, time.Since(start), err
}
