package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/commands"
)

// heapSampler follows the bytes of the heap's objects (live and not yet collected) while a burst
// runs, from a baseline taken after the collector settled.
type heapSampler struct {
	base, peak atomic.Uint64
	stop       chan struct{}
	done       sync.WaitGroup
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	runtime.GC()
	runtime.GC()
	h := &heapSampler{stop: make(chan struct{})}
	h.base.Store(heapObjects())
	h.peak.Store(h.base.Load())
	h.done.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := heapObjects(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	})
	return h
}

// growth stops sampling and returns the peak growth over the baseline.
func (h *heapSampler) growth() uint64 {
	close(h.stop)
	h.done.Wait()
	return h.peak.Load() - h.base.Load()
}

// 48 concurrent logins, each an argon2id hash of 64 MiB, raise the heap by less than 600 MB:
// hashes run a few at a time and the rest wait their turn (or, past the wait, get 429). Without
// the bound 48 hashes hold 3 GiB at once. This is a bound on memory, not on time.
func TestConcurrentLoginsStayWithinTheMemoryBudget(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	staff := env.AddStaff("burst", "operator")
	const n = 48
	sampler := startHeapSampler()
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := staff.ID
			if i%2 == 1 {
				id = fmt.Sprintf("burst-unknown-%02d", i) // costs the same hash
			}
			statuses[i] = loginAs(env, id, "not the password", "123456").Status
		})
	}
	wg.Wait()
	grew := sampler.growth()
	t.Logf("heap grew by %d MB at most during %d concurrent logins; statuses %v", grew>>20, n, statuses)
	if grew >= 600<<20 {
		t.Fatalf("48 concurrent logins raised the heap by %d MB, want < 600 MB", grew>>20)
	}
	hashed := 0
	for i, st := range statuses {
		switch st {
		case http.StatusUnauthorized:
			hashed++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("login %d answered %d, want 401 or 429", i, st)
		}
	}
	if hashed < 3 {
		t.Fatalf("only %d of %d logins were checked", hashed, n)
	}
}

// Beyond the queue a login gets 429 problem+json with Retry-After at once, rather than hanging.
func TestLoginBeyondTheHashingQueueGets429(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{Configure: func(c *app.Config) {
		// One hash at a time, one waiting, for at most 3 s.
		c.PasswordHashing = commands.HashingConfig{BudgetKiB: 64 * 1024, Queue: 1, Wait: 3 * time.Second}
	}})
	const n = 8
	answers := make([]*apptest.Response, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() { answers[i] = loginAs(env, fmt.Sprintf("queue-%d", i), "not the password", "123456") })
	}
	wg.Wait()
	busy := 0
	for i, r := range answers {
		switch r.Status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			busy++
			if problemType(r.Body) != "/problems/busy" || r.Header.Get("Retry-After") == "" ||
				r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("429 without problem+json busy and Retry-After: %v %s", r.Header, r.Body)
			}
		default:
			t.Fatalf("login %d answered %d: %s", i, r.Status, r.Body)
		}
	}
	if busy == 0 {
		t.Fatalf("%d concurrent logins with one slot and one place in line: none got 429", n)
	}
	if waited := time.Since(start); waited > time.Minute {
		t.Fatalf("the burst took %v: refusals hang", waited)
	}
	m := string(env.Do("GET", "/metrics", "", nil).Body)
	if !regexpContains(m, `yorozu_password_hashes_refused_total [1-9]`) {
		t.Fatal("/metrics does not count the refused hashes")
	}
}

func regexpContains(s, pattern string) bool { return regexp.MustCompile(pattern).MatchString(s) }
