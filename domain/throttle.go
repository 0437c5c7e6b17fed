package domain

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// ThrottleHit is one counted event under a throttle key: a failed login of
// an account from an address, a registration from an address. Stored in
// the database so every API process sees the same counts.
type ThrottleHit struct {
	bun.BaseModel `bun:"table:throttle_hits,alias:th"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Key       string    `bun:"key,type:varchar(255),notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Throttled refuses a request for a while: the caller answers 429 with
// Retry-After.
type Throttled struct {
	Reason     string
	RetryAfter time.Duration
}

func (e *Throttled) Error() string {
	return fmt.Sprintf("%s (retry after %s)", e.Reason, e.RetryAfter.Round(time.Second))
}

// hitRetention bounds the table: older hits never count again.
const hitRetention = 24 * time.Hour

// Limit is at most Max hits under Key in any Window; Max 0 is no limit.
type Limit struct {
	Key    string
	Max    int
	Window time.Duration
}

// wait is how long until l admits one more hit: zero while it does.
func (l Limit) wait(ctx context.Context, db bun.IDB, now time.Time) (time.Duration, error) {
	if l.Max <= 0 {
		return 0, nil
	}
	oldest, found, err := nthNewest(ctx, db, l.Key, now.Add(-l.Window), l.Max)
	if err != nil || !found {
		return 0, err
	}
	// Free again when the oldest of the last Max hits leaves the window
	// (a hit a concurrent request recorded after now waits no longer).
	return min(oldest.Add(l.Window).Sub(now), l.Window), nil
}

// Take counts one hit under l's key unless that would pass l: then it
// counts nothing and returns *Throttled with reason. Without a Max it
// does nothing.
func Take(ctx context.Context, db bun.IDB, l Limit, reason string) error {
	if l.Max <= 0 {
		return nil
	}
	_, err := admit(ctx, db, reason, l.wait, []string{l.Key})
	return err
}

// admit records a hit under every key unless wait says to wait. Waiting
// is decided once without a lock, so that a flood already refused costs
// reads only and holds no connection in a queue, then again under the
// keys' locks before counting.
func admit(ctx context.Context, db bun.IDB, reason string,
	wait func(ctx context.Context, db bun.IDB, now time.Time) (time.Duration, error), keys []string) ([]int64, error) {
	refused := func(ctx context.Context, db bun.IDB, now time.Time) error {
		w, err := wait(ctx, db, now)
		if err != nil {
			return err
		}
		if w > 0 {
			return &Throttled{Reason: reason, RetryAfter: w}
		}
		return nil
	}
	if err := refused(ctx, db, Now()); err != nil {
		return nil, err
	}
	var ids []int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockKeys(ctx, tx, keys...); err != nil {
			return err
		}
		now := Now()
		if err := refused(ctx, tx, now); err != nil {
			return err
		}
		var err error
		ids, err = recordHits(ctx, tx, now, keys...)
		return err
	})
	return ids, err
}

// LoginLimits throttle failed logins the way that keeps the owner and the
// neighbours of an attacker in: an account is locked only for the address
// that failed for it, an address only after many failures across
// accounts, and guessing at one account from many addresses meets growing
// delays on the addresses that already failed for it.
type LoginLimits struct {
	Window time.Duration
	// PerAccountAddress failures of one account from one address block
	// that pair.
	PerAccountAddress int
	// PerAddress failures from one address, any accounts, block the address.
	PerAddress int
	// Past DelayAfter failures of an account from anywhere, an address
	// that failed for it waits FirstDelay, doubled for each further
	// failure, at most MaxDelay, after the account's latest failure.
	DelayAfter int
	FirstDelay time.Duration
	MaxDelay   time.Duration
}

// LoginAttempt is a login being checked. It counts as a failure from the
// start, so concurrent guesses cannot slip past a limit together; a
// correct password takes it back with Succeeded.
type LoginAttempt struct {
	pairKey string
	ids     []int64
}

// TooManyLogins is the reason of every login throttle: the same words
// whichever limit applies and whether or not the account exists.
const TooManyLogins = "Too many failed login attempts; try again later"

// BeginLogin admits a login of account (the name as typed, any case) from
// address, or returns *Throttled. The account need not exist: unknown and
// known names are counted alike, so the throttle tells nothing about them.
func BeginLogin(ctx context.Context, db bun.IDB, l LoginLimits, account, address string) (*LoginAttempt, error) {
	account = strings.ToLower(account)
	pair := Limit{Key: "login:pair:" + address + "|" + account, Max: l.PerAccountAddress, Window: l.Window}
	addr := Limit{Key: "login:address:" + address, Max: l.PerAddress, Window: l.Window}
	accountKey := "login:account:" + account
	wait := func(ctx context.Context, db bun.IDB, now time.Time) (time.Duration, error) {
		var longest time.Duration
		for _, lim := range []Limit{pair, addr} {
			w, err := lim.wait(ctx, db, now)
			if err != nil {
				return 0, err
			}
			longest = max(longest, w)
		}
		w, err := l.accountDelay(ctx, db, now, pair.Key, accountKey)
		return max(longest, w), err
	}
	ids, err := admit(ctx, db, TooManyLogins, wait, []string{pair.Key, addr.Key, accountKey})
	if err != nil {
		return nil, err
	}
	return &LoginAttempt{pairKey: truncatedKey(pair.Key), ids: ids}, nil
}

// accountDelay is how long an address that failed for the account waits
// because of the account's failures from everywhere. An address that has
// not failed for it waits for nothing here: the owner signing in from
// their own device is not held back by guesses made elsewhere.
func (l LoginLimits) accountDelay(ctx context.Context, db bun.IDB, now time.Time, pairKey, accountKey string) (time.Duration, error) {
	if l.DelayAfter <= 0 {
		return 0, nil
	}
	since := now.Add(-l.Window)
	_, failedHere, err := nthNewest(ctx, db, pairKey, since, 1)
	if err != nil || !failedHere {
		return 0, err
	}
	var row struct {
		N      int       `bun:"n"`
		Latest time.Time `bun:"latest"`
	}
	err = db.NewSelect().Model((*ThrottleHit)(nil)).ColumnExpr("count(*) AS n, max(created_at) AS latest").
		Where("key = ? AND created_at > ?", truncatedKey(accountKey), since).Scan(ctx, &row)
	if err != nil {
		return 0, fmt.Errorf("count account failures: %w", err)
	}
	if row.N < l.DelayAfter {
		return 0, nil
	}
	d := l.delay(row.N - l.DelayAfter)
	return min(row.Latest.Add(d).Sub(now), d), nil
}

// delay is FirstDelay doubled n times, at most MaxDelay.
func (l LoginLimits) delay(n int) time.Duration {
	d := l.FirstDelay
	for range n {
		if d >= l.MaxDelay {
			break
		}
		d *= 2
	}
	return min(d, l.MaxDelay)
}

// Succeeded takes the attempt back and forgets the earlier failures of the
// account from the same address: the owner's own typing errors. Failures
// from other addresses stay counted.
func (a *LoginAttempt) Succeeded(ctx context.Context, db bun.IDB) error {
	_, err := db.NewDelete().Model((*ThrottleHit)(nil)).
		Where("id IN (?) OR key = ?", bun.List(a.ids), a.pairKey).Exec(ctx)
	if err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

// nthNewest is the time of the n-th newest hit under key after since, if
// there are n.
func nthNewest(ctx context.Context, db bun.IDB, key string, since time.Time, n int) (time.Time, bool, error) {
	var times []time.Time
	err := db.NewSelect().Model((*ThrottleHit)(nil)).Column("created_at").
		Where("key = ? AND created_at > ?", truncatedKey(key), since).
		Order("created_at DESC").Offset(int64(n-1)).Limit(1).Scan(ctx, &times)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("count throttle hits: %w", err)
	}
	if len(times) == 0 {
		return time.Time{}, false, nil
	}
	return times[0], true, nil
}

// recordHits counts one hit under every key and drops the keys' hits too
// old to count again.
func recordHits(ctx context.Context, tx bun.Tx, now time.Time, keys ...string) ([]int64, error) {
	rows := make([]ThrottleHit, len(keys))
	short := make([]string, len(keys))
	for i, k := range keys {
		short[i] = truncatedKey(k)
		rows[i] = ThrottleHit{Key: short[i], CreatedAt: now}
	}
	if _, err := tx.NewInsert().Model(&rows).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("record throttle hit: %w", err)
	}
	_, err := tx.NewDelete().Model((*ThrottleHit)(nil)).
		Where("key IN (?) AND created_at < ?", bun.List(short), now.Add(-hitRetention)).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("drop old throttle hits: %w", err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

// lockKeys serialises the transactions that work under the same keys:
// throttle counts (concurrent requests cannot all pass a limit they reach
// together) and the knowledge base's writes.
// PostgreSQL takes transaction advisory locks, in one order against
// deadlocks; SQLite's write transactions are serial already.
func lockKeys(ctx context.Context, tx bun.Tx, keys ...string) error {
	if tx.Dialect().Name().String() != "pg" {
		return nil
	}
	ids := make([]int64, len(keys))
	for i, k := range keys {
		h := fnv.New64a()
		_, _ = h.Write([]byte(k))
		ids[i] = int64(h.Sum64())
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", id); err != nil {
			return fmt.Errorf("lock key: %w", err)
		}
	}
	return nil
}

func truncatedKey(k string) string {
	if len(k) > 255 {
		return k[:255]
	}
	return k
}
