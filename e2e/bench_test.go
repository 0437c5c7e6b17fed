package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/faketwilio"
	"github.com/aimsg/aimsg/internal/testenv"
)

// BenchmarkTurnLatency measures one conversation's turns, one after the
// other, from the POST of a message to its reply being in the database,
// with an LLM that answers at once: what aimsg adds above the LLM.
//
//	go test ./e2e -run '^$' -bench TurnLatency -benchtime 200x
func BenchmarkTurnLatency(b *testing.B) {
	for _, url := range testenv.DatabaseURLs(b) {
		d, _, _ := config.ParseDatabaseURL(url)
		b.Run(string(d), func(b *testing.B) {
			s := newBenchStack(b, url)
			u := s.User("bench")
			conv := "/auth/conversations/" + domain.AIConversationID(u.UserID()) + "/messages"
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				w := s.Call("POST", conv, map[string]any{"content": "ping"}, u.AccessToken)
				if w.Code != http.StatusCreated {
					b.Fatalf("post: %d %s", w.Code, w.Body.String())
				}
				awaitReply(b, []*apitest.Client{s.Client}, u, apitest.ID(apitest.Decode(b, w)), 30*time.Second, time.Millisecond)
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
		})
	}
}

func newBenchStack(b *testing.B, url string) *stack {
	return newStack(b, url, fakellm.Echo, nil)
}

// BenchmarkTurnThroughput runs turns in 50 conversations at once and
// reports the rate the worker sustains.
//
//	go test ./e2e -run '^$' -bench TurnThroughput -benchtime 1000x
func BenchmarkTurnThroughput(b *testing.B) {
	for _, url := range testenv.DatabaseURLs(b) {
		d, _, _ := config.ParseDatabaseURL(url)
		b.Run(string(d), func(b *testing.B) {
			s := newBenchStack(b, url)
			const conversations = 50
			users := make(chan apitest.Tokens, conversations)
			for i := range conversations {
				users <- s.User("bench" + strconv.Itoa(i))
			}
			b.SetParallelism(conversations / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				u := <-users
				conv := "/auth/conversations/" + domain.AIConversationID(u.UserID()) + "/messages"
				for pb.Next() {
					w := s.Call("POST", conv, map[string]any{"content": "ping"}, u.AccessToken)
					if w.Code != http.StatusCreated {
						b.Errorf("post: %d %s", w.Code, w.Body.String())
						return
					}
					// Fifty pollers at 20 ms stay light beside the system measured.
					awaitReply(b, []*apitest.Client{s.Client}, u, apitest.ID(apitest.Decode(b, w)), 30*time.Second, 20*time.Millisecond)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
		})
	}
}

// BenchmarkWebhookAck posts signed Twilio webhooks over real HTTP at a
// fixed 200 requests/s (b.N requests; -benchtime 2000x is 10 s) while the
// worker answers them, and reports how fast Twilio gets its acknowledgement.
//
//	go test ./e2e -run '^$' -bench WebhookAck -benchtime 2000x
func BenchmarkWebhookAck(b *testing.B) {
	const rate = 200
	for _, url := range testenv.DatabaseURLs(b) {
		d, _, _ := config.ParseDatabaseURL(url)
		b.Run(string(d), func(b *testing.B) {
			s := newSMSStack(b, url, fakellm.Echo, nil)
			srv := httptest.NewUnstartedServer(s.H)
			srv.Config = api.NewHTTPServer(s.H)
			srv.Start()
			defer srv.Close()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
			lat := make([]time.Duration, b.N)
			var failed atomic.Int64
			var wg sync.WaitGroup
			tick := time.NewTicker(time.Second / rate)
			defer tick.Stop()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				<-tick.C
				form := inbound(fmt.Sprintf("SM%032d", i+1), userPhone, "load "+strconv.Itoa(i))
				req, _ := http.NewRequest("POST", srv.URL+"/twilio_webhook", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", faketwilio.Sign(twilioToken, publicURL+"/twilio_webhook", form))
				wg.Go(func() {
					start := time.Now()
					resp, err := hc.Do(req)
					lat[i] = time.Since(start)
					if err != nil || resp.StatusCode != http.StatusOK {
						failed.Add(1)
					}
					if resp != nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
			b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
			b.ReportMetric(float64(failed.Load()), "errors")
		})
	}
}

// BenchmarkLLMCostPerTurn measures what a turn asks of the LLM in a
// conversation past the window (100 messages of about 200 characters):
// requests, prompt characters (the size of what is sent; the fake LLM
// reports fixed token counts) and recorded tokens, without the summary
// and with it refreshed every 20 messages (summaries of 200 words).
//
//	go test ./e2e -run '^$' -bench LLMCostPerTurn -benchtime 60x
func BenchmarkLLMCostPerTurn(b *testing.B) {
	line := strings.Repeat("about the report on the broken heater in flat 4B, ", 4)
	for _, every := range []string{"0", "20"} {
		b.Run("summary_every="+every, func(b *testing.B) {
			// Summaries as long as the prompt allows (200 words, about 1,200 characters).
			script := func(n int, req fakellm.Request) fakellm.Response {
				r := memoryScript(n, req)
				if strings.HasPrefix(r.Content, "SUMMARY") {
					r.Content += strings.Repeat(" remembered", 110)
				}
				return r
			}
			s := newStack(b, "sqlite:///:memory:", script, map[string]string{"CHAT_SUMMARY_EVERY": every})
			u := s.User("bench")
			s.seedConversation(u, 100, func(i int) string { return fmt.Sprintf("%d %s", i, line) })
			conv := "/auth/conversations/" + domain.AIConversationID(u.UserID()) + "/messages"
			b.ResetTimer()
			for b.Loop() {
				w := s.Call("POST", conv, map[string]any{"content": line}, u.AccessToken)
				if w.Code != http.StatusCreated {
					b.Fatalf("post: %d %s", w.Code, w.Body.String())
				}
				awaitReply(b, []*apitest.Client{s.Client}, u, apitest.ID(apitest.Decode(b, w)), 30*time.Second, time.Millisecond)
			}
			b.StopTimer()
			reqs := s.llm.Requests()
			chars, summaries := 0, 0
			for _, r := range reqs {
				for _, m := range r.Messages {
					chars += len(m.Text())
				}
				if strings.HasPrefix(r.Messages[0].Text(), "You keep the memory") {
					summaries++
				}
			}
			var tokens int64
			if err := s.db.NewSelect().Model((*domain.LLMCall)(nil)).ColumnExpr("COALESCE(SUM(total_tokens), 0)").
				Scan(context.Background(), &tokens); err != nil {
				b.Fatal(err)
			}
			n := float64(b.N)
			b.ReportMetric(float64(len(reqs))/n, "requests/turn")
			b.ReportMetric(float64(summaries)/n, "summaries/turn")
			b.ReportMetric(float64(chars)/n, "prompt-chars/turn")
			b.ReportMetric(float64(tokens)/n, "tokens/turn")
		})
	}
}
