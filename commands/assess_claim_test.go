package commands_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/memory"
	"yorozu/commands"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/insurance"
	"yorozu/domain/schema"
)

// insuranceDesk is the insurance use cases on an in-memory event store, with contracts opened by
// appending their ContractOpened event.
type insuranceDesk struct {
	t      *testing.T
	store  *memory.Store
	deps   commands.InsuranceDeps
	file   commands.FileClaimHandler
	assess commands.AssessClaimHandler
}

var errCrash = errors.New("the process died before the commit")

func newInsuranceDesk(t *testing.T, limits insurance.Limits) *insuranceDesk {
	store := memory.New()
	t.Cleanup(func() { _ = store.Close() })
	now := time.Date(2025, 9, 1, 10, 0, 0, 0, calendar.JST())
	d := commands.InsuranceDeps{
		Deps:  commands.Deps{Events: store, Codec: schema.Registry(), Clock: func() time.Time { return now }},
		Terms: insurance.Terms{Year: insurance.DefaultPolicyYear, Limits: limits},
	}
	return &insuranceDesk{t: t, store: store, deps: d, file: commands.NewFileClaimHandler(d), assess: commands.NewAssessClaimHandler(d)}
}

func (k *insuranceDesk) openContract(cn string) {
	k.t.Helper()
	opened := &contract.ContractOpened{CustomerNumber: cn, OpenedOn: calendar.MustDate(2025, 7, 14),
		Contractor: contract.Contractor{Name: "株式会社大和商事"}}
	typ, data, err := k.deps.Codec.Encode(opened)
	if err != nil {
		k.t.Fatal(err)
	}
	_, err = k.store.Append(context.Background(), contract.Stream(cn), event.NoStream(), []event.Draft{{
		ID: uuid.New(), Type: typ, SchemaVersion: 1, EffectiveAt: opened.EffectiveTime(), RecordedAt: k.deps.Clock(), Actor: "test", Data: data,
	}})
	if err != nil {
		k.t.Fatal(err)
	}
}

func (k *insuranceDesk) fileClaim(cn string, kind insurance.Kind, amount insurance.Yen) uuid.UUID {
	k.t.Helper()
	form := insurance.ClaimForm{CustomerNumber: cn, IncidentDate: calendar.MustDate(2025, 8, 1), Kind: kind, ClaimedAmount: amount}
	if kind == insurance.KindIncidentResponse {
		form.CostType = insurance.CostInvestigation
	}
	id := uuid.New()
	filed, err := k.file.Handle(context.Background(), commands.FileClaim{Meta: commands.Meta{CommandID: id.String()}, ClaimID: id, Claim: form})
	if err != nil || filed.Claim.Status != insurance.StatusFiled {
		k.t.Fatalf("file: %v %+v", err, filed.Claim)
	}
	return id
}

func (k *insuranceDesk) assessAt(id uuid.UUID, amount insurance.Yen) error {
	_, err := k.assess.Handle(context.Background(), commands.AssessClaim{Meta: commands.Meta{CommandID: uuid.NewString()}, ClaimID: id, AssessedAmount: amount})
	return err
}

// claim reads a claim from its stream.
func (k *insuranceDesk) claim(id uuid.UUID) insurance.Claim {
	k.t.Helper()
	var c insurance.Claim
	k.fold(insurance.ClaimStream(id), func(e any) { c = c.Evolve(e) })
	return c
}

func (k *insuranceDesk) pool(p insurance.Period) insurance.Pool {
	var pool insurance.Pool
	k.fold(insurance.PoolStream(p), func(e any) { pool = pool.Evolve(e) })
	return pool
}

func (k *insuranceDesk) cover(cn string) insurance.Cover {
	var c insurance.Cover
	k.fold(insurance.CoverStream(cn), func(e any) { c = c.Evolve(e) })
	return c
}

func (k *insuranceDesk) fold(stream string, apply func(any)) {
	k.t.Helper()
	recs, err := k.store.ReadStream(context.Background(), stream, 1, 0)
	if err != nil {
		k.t.Fatal(err)
	}
	for _, r := range recs {
		e, err := k.deps.Codec.Decode(r)
		if err != nil {
			k.t.Fatal(err)
		}
		apply(e)
	}
}

func approved(c insurance.Claim) insurance.Yen {
	if c.ApprovedAmount == nil {
		return -1
	}
	return *c.ApprovedAmount
}

func TestAssessmentsOfOneCompanyRacingNeverPassItsLimit(t *testing.T) {
	k := newInsuranceDesk(t, insurance.DefaultLimits)
	k.openContract("N000000001")
	var ids []uuid.UUID
	for range 50 {
		ids = append(ids, k.fileClaim("N000000001", insurance.KindLiability, 30000))
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if err := k.assessAt(id, 30000); err != nil {
				t.Errorf("assess: %v", err)
			}
		})
	}
	wg.Wait()
	var sum insurance.Yen
	for _, id := range ids {
		c := k.claim(id)
		if c.Status != insurance.StatusAssessed || approved(c) < 0 || approved(c) > 30000 {
			t.Fatalf("claim: %+v", c)
		}
		sum += approved(c)
	}
	// 16 claims of 30,000 and one of 20,000 fill 500,000.
	if sum != 500000 || k.cover("N000000001").Used(2025, insurance.KindLiability) != 500000 || k.pool(2025).Used() != 500000 {
		t.Fatalf("approved %d, cover used %d, pool holds %d; want 500000 each", sum,
			k.cover("N000000001").Used(2025, insurance.KindLiability), k.pool(2025).Used())
	}
}

func TestAssessmentsOfManyCompaniesRacingNeverPassThePool(t *testing.T) {
	k := newInsuranceDesk(t, insurance.Limits{Liability: 500000, IncidentResponse: 500000, Pool: 1234567})
	var ids []uuid.UUID
	for i := range 10 {
		cn := fmt.Sprintf("N%09d", i+1)
		k.openContract(cn)
		for j := range 5 {
			kind := insurance.KindLiability
			if j%2 == 1 {
				kind = insurance.KindIncidentResponse
			}
			ids = append(ids, k.fileClaim(cn, kind, 100000))
		}
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if err := k.assessAt(id, 100000); err != nil {
				t.Errorf("assess: %v", err)
			}
		})
	}
	wg.Wait()
	var sum insurance.Yen
	for _, id := range ids {
		sum += approved(k.claim(id))
	}
	if sum != 1234567 || k.pool(2025).Used() != 1234567 {
		t.Fatalf("approved %d, pool holds %d; want the pool limit 1234567", sum, k.pool(2025).Used())
	}
}

// checkCompleted checks a claim's assessment completed once: assessed, approved want, the pool
// holding exactly that for it, and the cover and pool agreeing on the company's total.
func (k *insuranceDesk) checkCompleted(id uuid.UUID, cn string, want, total insurance.Yen) {
	k.t.Helper()
	c, cover, pool := k.claim(id), k.cover(cn), k.pool(2025)
	if c.Status != insurance.StatusAssessed || approved(c) != want {
		k.t.Fatalf("claim %+v approved %d, want assessed and %d", c, approved(c), want)
	}
	if held, _ := pool.ReservedBy(id); held != want {
		k.t.Fatalf("the pool holds %d for the claim, want %d", held, want)
	}
	if used := cover.Used(2025, insurance.KindLiability); used != total || pool.Used() != total {
		k.t.Fatalf("cover used %d, pool holds %d; want %d", used, pool.Used(), total)
	}
	// Assessing once more changes nothing.
	before, _ := k.store.Head(context.Background())
	if err := k.assessAt(id, 100000); !errors.Is(err, insurance.ErrInvalidTransition) {
		k.t.Fatalf("assessing an assessed claim: %v", err)
	}
	if after, _ := k.store.Head(context.Background()); after != before {
		k.t.Fatal("assessing an assessed claim appended events")
	}
}

// crashOn makes the nth append to stream fail as if the process had died before its commit.
func (k *insuranceDesk) crashOn(stream string, nth int) {
	tries := 0
	k.store.FailAppends(func(s string, _ []event.Draft) error {
		if s == stream {
			if tries++; tries == nth {
				return errCrash
			}
		}
		return nil
	})
}

// A crash between two appends of an assessment leaves the claim being assessed; assessing again
// completes it from where it stopped, and nothing is reserved or used twice.
func TestAnAssessmentInterruptedBetweenTwoAppendsCompletesOnRetry(t *testing.T) {
	const cn = "N000000001"
	for _, tc := range []struct {
		name   string
		stream func(claim uuid.UUID) string
		nth    int
	}{
		{"after the start, before the pool reservation", func(uuid.UUID) string { return insurance.PoolStream(2025) }, 1},
		{"between the pool reservation and the cover", func(uuid.UUID) string { return insurance.CoverStream(cn) }, 1},
		{"before the approval is recorded", func(id uuid.UUID) string { return insurance.ClaimStream(id) }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newInsuranceDesk(t, insurance.DefaultLimits)
			k.openContract(cn)
			first := k.fileClaim(cn, insurance.KindLiability, 450000)
			if err := k.assessAt(first, 450000); err != nil {
				t.Fatal(err)
			}
			id := k.fileClaim(cn, insurance.KindLiability, 100000)
			k.crashOn(tc.stream(id), tc.nth)
			if err := k.assessAt(id, 100000); !errors.Is(err, errCrash) {
				t.Fatalf("the interrupted assessment returned %v", err)
			}
			if c := k.claim(id); c.Status != insurance.StatusFiled || !c.Assessing {
				t.Fatalf("after the crash the claim is %+v, want filed and being assessed", c)
			}
			k.store.FailAppends(nil)
			// A retry with another amount completes the assessment started, and says so.
			if err := k.assessAt(id, 1); !errors.Is(err, insurance.ErrAssessmentDiffers) {
				t.Fatalf("retry with another amount: %v", err)
			}
			k.checkCompleted(id, cn, 50000, 500000)
		})
	}
}

// The cover can shrink between the reservation and the cover step (another assessment of the same
// company): the claim uses less than it reserved and gives the rest back to the pool. A crash just
// before that release is completed by the retry, which releases exactly once.
func TestAnInterruptedReleaseCompletesOnRetry(t *testing.T) {
	const cn = "N000000001"
	k := newInsuranceDesk(t, insurance.DefaultLimits)
	k.openContract(cn)
	first := k.fileClaim(cn, insurance.KindLiability, 450000)
	if err := k.assessAt(first, 450000); err != nil {
		t.Fatal(err)
	}
	other := k.fileClaim(cn, insurance.KindLiability, 30000)
	id := k.fileClaim(cn, insurance.KindLiability, 100000)

	// The claim reads 50,000 left in the cover; as it appends its reservation, the other claim
	// is assessed at 30,000 first. The claim's reservation loses the race, is decided again
	// (50,000: what it read of the cover), the cover lets it use 20,000, and the release of the
	// other 30,000 is the third append to the pool: it crashes.
	var inner bool
	poolTries := 0
	k.store.FailAppends(func(stream string, _ []event.Draft) error {
		if inner || stream != insurance.PoolStream(2025) {
			return nil
		}
		poolTries++
		switch poolTries {
		case 1:
			inner = true
			if err := k.assessAt(other, 30000); err != nil {
				t.Errorf("the other assessment: %v", err)
			}
			inner = false
		case 3:
			return errCrash
		}
		return nil
	})
	if err := k.assessAt(id, 100000); !errors.Is(err, errCrash) {
		t.Fatalf("the interrupted assessment returned %v", err)
	}
	if held, _ := k.pool(2025).ReservedBy(id); held != 50000 {
		t.Fatalf("before the release the claim holds %d in the pool, want 50000", held)
	}
	k.store.FailAppends(nil)
	if err := k.assessAt(id, 100000); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if c := k.claim(other); approved(c) != 30000 {
		t.Fatalf("the other claim approved %d", approved(c))
	}
	k.checkCompleted(id, cn, 20000, 500000)
}

// pendingList is the read side of the recovery job: the claims the test knows are pending.
type pendingList []uuid.UUID

func (p pendingList) PendingAssessments(context.Context, time.Time) ([]uuid.UUID, error) {
	return p, nil
}

func TestTheRecoveryJobCompletesAnInterruptedAssessment(t *testing.T) {
	k := newInsuranceDesk(t, insurance.DefaultLimits)
	k.openContract("N000000001")
	id := k.fileClaim("N000000001", insurance.KindIncidentResponse, 700000)
	k.store.FailAppends(func(stream string, _ []event.Draft) error {
		if stream == insurance.CoverStream("N000000001") {
			return errCrash
		}
		return nil
	})
	if err := k.assessAt(id, 700000); !errors.Is(err, errCrash) {
		t.Fatalf("assess: %v", err)
	}
	if held, _ := k.pool(2025).ReservedBy(id); held != 500000 {
		t.Fatalf("the crashed assessment holds %d in the pool, want 500000 (capped by the cover it read)", held)
	}
	k.store.FailAppends(nil)
	done, err := commands.NewCompletePendingAssessmentsHandler(k.deps, pendingList{id}).Handle(context.Background(), commands.CompletePendingAssessments{})
	if err != nil || done.Completed != 1 {
		t.Fatalf("recovery: %v, %d completed", err, done.Completed)
	}
	if c := k.claim(id); c.Status != insurance.StatusAssessed || approved(c) != 500000 || *c.AssessedAmount != 700000 {
		t.Fatalf("after recovery: %+v", c)
	}
}
