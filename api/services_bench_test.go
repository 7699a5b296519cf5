package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/mailer/mailtest"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/event"
	"yorozu/domain/webfiltering"
)

// BenchmarkMailMagazineDelivery50k sends one issue to 50,000 recipients (25,000 contracts with two
// addresses each) through a real SMTP server on the loopback: 100 messages of 500 recipients,
// each recorded as it is accepted. One iteration is one whole issue.
//
//	go test ./api/ -run '^$' -bench MailMagazineDelivery50k -benchtime 3x -timeout 30m
func BenchmarkMailMagazineDelivery50k(b *testing.B) {
	const contracts = 25_000
	srv := mailtest.Start(b, mailtest.Options{})
	env := apptest.Start(b, apptest.Embedded, apptest.Options{Now: at("2025-07-01 10:00"), Configure: withSMTP(srv.URL(""))})
	tok := env.StaffToken("bench-mail", "operator")
	start := time.Now()
	emails := seedRecipients(b, env, contracts)
	b.Logf("seeded %d recipients in %s", len(emails), time.Since(start).Round(time.Millisecond))
	sendAt := at("2025-07-01 11:00")
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		r := env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": fmt.Sprintf("ベンチマーク %d", i), "body": "本文",
			"sendAt": sendAt.Format(time.RFC3339)})
		if r.Status != http.StatusCreated {
			b.Fatalf("schedule: %d %s", r.Status, r.Body)
		}
		var issue mmIssue
		r.JSON(b, &issue)
		env.Clock.Set(sendAt)
		before := len(srv.Messages())
		b.StartTimer()
		t0 := time.Now()
		done, err := env.App.RunMailDelivery(context.Background())
		elapsed := time.Since(t0)
		b.StopTimer()
		if err != nil || done.Sent != 1 || done.Messages != 100 {
			b.Fatalf("delivery: %+v, %v", done, err)
		}
		var got mmIssue
		must2(b, env.Do("GET", "/api/v1/mail-magazine/issues/"+issue.IssueID, tok, nil)).JSON(b, &got)
		if got.Status != "sent" || got.Recipients != 50_000 || got.Messages != 100 || len(srv.Messages())-before != 100 {
			b.Fatalf("issue %+v, %d messages at the server", got, len(srv.Messages())-before)
		}
		b.ReportMetric(elapsed.Seconds(), "s/issue")
		b.ReportMetric(50_000/elapsed.Seconds(), "recipients/s")
		sendAt = sendAt.Add(time.Hour)
		b.StartTimer()
	}
}

func must2(b *testing.B, r *apptest.Response) *apptest.Response {
	b.Helper()
	if r.Status != http.StatusOK {
		b.Fatalf("status %d: %s", r.Status, r.Body)
	}
	return r
}

// BenchmarkAgentPolicyPolls: 10,000 terminals (2,000 contracts, five terminals each, every
// contract with a policy of a few versions) poll their policy with the ETag they have, over
// HTTP from 64 concurrent clients; every answer is 304 from memory. One iteration is one poll.
//
//	go test ./api/ -run '^$' -bench AgentPolicyPolls -benchtime 200000x
func BenchmarkAgentPolicyPolls(b *testing.B) {
	const contracts, perContract, clients = 2_000, 5, 64
	agents := agentTokens{}
	env := apptest.Start(b, apptest.Embedded, apptest.Options{Configure: func(c *app.Config) {
		c.AgentContracts = agents
		c.RateLimit = -1
	}})
	codec := env.App.Events
	var tokens []string
	for i := range contracts {
		cn := fmt.Sprintf("N%09d", 700_000+i)
		var drafts []event.Draft
		for k, e := range []any{&webfiltering.WebFilteringEnabled{CustomerNumber: cn},
			&webfiltering.WebFilteringEntryAdded{CustomerNumber: cn, EntryID: uuid.New(), List: webfiltering.ListAllow, Item: "dating"},
			&webfiltering.WebFilteringEntryAdded{CustomerNumber: cn, EntryID: uuid.New(), List: webfiltering.ListBlock, URL: fmt.Sprintf("ads%d.example.com", i)}} {
			if k > i%3 {
				break
			}
			data, _ := json.Marshal(e)
			typ := map[int]string{0: "WebFilteringEnabled", 1: "WebFilteringEntryAdded", 2: "WebFilteringEntryAdded"}[k]
			drafts = append(drafts, event.Draft{ID: uuid.New(), Type: typ, SchemaVersion: 1, EffectiveAt: time.Now(), RecordedAt: time.Now(), Actor: "bench", Data: data})
		}
		if _, err := codec.Append(context.Background(), webfiltering.Stream(cn), event.NoStream(), drafts); err != nil {
			b.Fatal(err)
		}
		for t := range perContract {
			token := fmt.Sprintf("yat1.%s.%d", cn, t)
			agents[token] = cn
			tokens = append(tokens, token)
		}
	}
	h, _ := env.App.Events.Head(context.Background())
	if err := env.App.Runner.WaitFor(context.Background(), h); err != nil {
		b.Fatal(err)
	}
	// Each terminal fetches its policy once, then polls with its ETag.
	etags := make([]string, len(tokens))
	client := env.Server.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients
	for i, tok := range tokens {
		r := env.Do("GET", "/agent/v1/policy", tok, nil)
		if r.Status != http.StatusOK {
			b.Fatalf("first poll: %d %s", r.Status, r.Body)
		}
		etags[i] = r.Header.Get("ETag")
	}
	latencies := make([]time.Duration, b.N)
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				mu.Lock()
				k := next
				next++
				mu.Unlock()
				if k >= b.N {
					return
				}
				i := (k * 7919) % len(tokens)
				req, _ := http.NewRequest("GET", env.Server.URL+"/agent/v1/policy", nil)
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				req.Header.Set("If-None-Match", etags[i])
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies[k] = time.Since(t0)
				if resp.StatusCode != http.StatusNotModified {
					b.Errorf("poll answered %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "polls/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}
