package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
)

// scaleScenario: the same reads and writes with 10,000 messages stored and
// with 1,000,000 (1,000 users, ten conversations each), each right after
// the writes, so that a cost growing with the data shows as a difference.
func scaleScenario(ctx context.Context, st *stack, o options) ([]result, error) {
	sizes := []int{10_000, 1_000_000}
	if o.quick {
		sizes = []int{10_000, 50_000}
	}
	us, err := st.users(ctx, 1000)
	if err != nil {
		return nil, err
	}
	var out []result
	stored := 0
	for _, size := range sizes {
		start := time.Now()
		if err := st.seedSpread(ctx, us, stored, size); err != nil {
			return nil, err
		}
		out = append(out, result{Name: fmt.Sprintf("store %d messages in transactions of 50,000", size-stored),
			Value: float64(size-stored) / time.Since(start).Seconds(), Unit: "messages/s"})
		stored = size
		loads, err := st.scaleLoads(ctx, us, fmt.Sprintf("%d messages", size), o)
		if err != nil {
			return nil, err
		}
		out = append(out, loads...)
	}
	return out, nil
}

// seedSpread stores messages number from to to-1 of the scenario's
// pattern: user k%1000 writes to one of its ten neighbours.
func (st *stack) seedSpread(ctx context.Context, us []benchUser, from, to int) error {
	const perStatement, perTx = 5_000, 50_000
	for txStart := from; txStart < to; txStart += perTx {
		err := st.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			batch := make([]domain.Message, 0, perStatement)
			for k := txStart; k < min(txStart+perTx, to); k++ {
				a := us[k%len(us)]
				b := us[(k%len(us)+1+(k/len(us))%10)%len(us)]
				conv := domain.DirectConversationID(a.ID, b.ID)
				batch = append(batch, domain.Message{SenderID: a.ID, RecipientID: b.ID, Content: "spread " + strconv.Itoa(k),
					ConversationID: &conv, Channel: domain.ChannelWeb})
				if len(batch) == cap(batch) {
					if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
						return err
					}
					batch = batch[:0]
				}
			}
			if len(batch) > 0 {
				_, err := tx.NewInsert().Model(&batch).Exec(ctx)
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed messages: %w", err)
		}
	}
	return nil
}

// scaleLoads reads lists of users in turn, posts messages, then deletes
// what it posted, 64 connections each.
func (st *stack) scaleLoads(ctx context.Context, us []benchUser, label string, o options) ([]result, error) {
	const conns = 64
	list, listCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conns, o.duration, func(ctx context.Context, _, i int) error {
			_, err := st.call(ctx, "GET", "/messages?limit=50", us[i%len(us)].token, nil, http.StatusOK)
			return err
		})
	})
	convs, convsCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conns, o.duration, func(ctx context.Context, _, i int) error {
			_, err := st.call(ctx, "GET", "/auth/conversations?limit=50", us[i%len(us)].token, nil, http.StatusOK)
			return err
		})
	})
	type posted struct {
		id    int64
		token string
	}
	var (
		mu   sync.Mutex
		mine []posted
	)
	post, postCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conns, o.duration, func(ctx context.Context, _, i int) error {
			from, to := us[i%len(us)], us[(i+1)%len(us)]
			body, _ := json.Marshal(map[string]any{"recipient_id": to.ID, "content": "scale message " + strconv.Itoa(i)})
			b, err := st.call(ctx, "POST", "/messages", from.token, body, http.StatusCreated)
			if err != nil {
				return err
			}
			var m struct{ ID int64 }
			if err := json.Unmarshal(b, &m); err != nil {
				return err
			}
			mu.Lock()
			mine = append(mine, posted{m.ID, from.token})
			mu.Unlock()
			return nil
		})
	})
	// Deletes run for half the time, so they do not run out of the
	// messages just posted.
	del, delCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conns, o.duration/2, func(ctx context.Context, _, _ int) error {
			mu.Lock()
			if len(mine) == 0 {
				mu.Unlock()
				return errors.New("nothing left to delete")
			}
			p := mine[len(mine)-1]
			mine = mine[:len(mine)-1]
			mu.Unlock()
			_, err := st.call(ctx, "DELETE", "/messages/"+strconv.FormatInt(p.id, 10), p.token, nil, http.StatusOK)
			return err
		})
	})
	return []result{
		{Name: "GET /messages?limit=50, 1,000 users in turn, " + label, Load: &list, CPU: listCPU},
		{Name: "GET /auth/conversations?limit=50, 1,000 users in turn, " + label, Load: &convs, CPU: convsCPU},
		{Name: "POST /messages, " + label, Load: &post, CPU: postCPU},
		{Name: "DELETE /messages/{id}, " + label, Load: &del, CPU: delCPU},
	}, nil
}
