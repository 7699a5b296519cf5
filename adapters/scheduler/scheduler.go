// Package scheduler drives the time-driven use cases (the order process manager, the month
// auto-close): it calls each job at start and then at its interval, once the read models the
// jobs decide from have caught up with the log. It decides nothing itself; the jobs are plain
// use-case calls, idempotent by their command IDs, so two replicas running the same schedule
// change nothing twice.
package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Job is one time-driven use case.
type Job struct {
	// Name appears in the log.
	Name string
	// Every is the interval between runs.
	Every time.Duration
	// Run does what is due now. It returns a short summary to log ("" when nothing happened).
	Run func(ctx context.Context) (summary string, err error)
}

// Config wires a Scheduler.
type Config struct {
	Jobs []Job
	// Ready reports whether the read models have caught up; jobs wait for it (default: always).
	Ready  func() bool
	Logger *slog.Logger
	// ReadyPoll is how often Ready is asked while it says no (default 100 ms).
	ReadyPoll time.Duration
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	for _, j := range c.Jobs {
		if j.Name == "" {
			errs = append(errs, errors.New("scheduler: a job has no name"))
		}
		if j.Every <= 0 {
			errs = append(errs, errors.New("scheduler: job "+j.Name+" needs a positive interval"))
		}
		if j.Run == nil {
			errs = append(errs, errors.New("scheduler: job "+j.Name+" has nothing to run"))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.Ready == nil {
		c.Ready = func() bool { return true }
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ReadyPoll <= 0 {
		c.ReadyPoll = 100 * time.Millisecond
	}
}

// Run runs every job until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.setDefaults()
	var wg sync.WaitGroup
	for _, j := range cfg.Jobs {
		wg.Go(func() { runJob(ctx, cfg, j) })
	}
	wg.Wait()
	return ctx.Err()
}

func runJob(ctx context.Context, cfg Config, j Job) {
	log := cfg.Logger.With("job", j.Name)
	t := time.NewTicker(j.Every)
	defer t.Stop()
	lastErr := ""
	for {
		for !cfg.Ready() {
			if !sleep(ctx, cfg.ReadyPoll) {
				return
			}
		}
		summary, err := j.Run(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			// A job that keeps failing the same way (no price list for the month to close) is
			// logged once, not every interval.
			if err.Error() != lastErr {
				log.Warn("scheduled job failed; trying again at the next interval", "err", err)
				lastErr = err.Error()
			}
		case err == nil:
			lastErr = ""
			if summary != "" {
				log.Info(summary)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
