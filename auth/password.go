// Package auth holds what several parts of aimsg need to authenticate
// people: password hashing and rules, and (with the auth API) tokens.
package auth

import (
	"fmt"
	"runtime"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password length rules. bcrypt reads only the first 72 bytes of its input;
// longer passwords are refused rather than silently cut, so every byte a
// person types counts.
const (
	MinPasswordLen   = 8
	MaxPasswordBytes = 72
	MinBcryptCost    = 10
)

// Password rule violations, worded for the person who typed the password.
var (
	ErrPasswordTooShort = fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	ErrPasswordTooLong  = fmt.Errorf("password must be at most %d bytes", MaxPasswordBytes)
)

// CheckPassword applies the length rules.
func CheckPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return ErrPasswordTooShort
	case len(pw) > MaxPasswordBytes:
		return ErrPasswordTooLong
	}
	return nil
}

// HashPassword checks the rules and hashes pw with bcrypt at cost, which
// may not be below MinBcryptCost.
func HashPassword(pw string, cost int) (string, error) {
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	if cost < MinBcryptCost {
		return "", fmt.Errorf("bcrypt cost %d is below the minimum %d", cost, MinBcryptCost)
	}
	return generate(pw, cost)
}

// generate hashes pw at cost, as given.
func generate(pw string, cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// VerifyPassword reports whether pw matches hash. A password over the length
// limit never matches, so no stored hash can be reached by a truncated input.
func VerifyPassword(hash, pw string) bool {
	if len(pw) > MaxPasswordBytes {
		return false
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
	return err == nil
}

// Passwords hashes and checks passwords at one cost, and spends the same
// time on a login for an unknown user as on a wrong password, so the two
// cannot be told apart by timing.
type Passwords struct {
	// Cost is bcrypt's cost, used as given: a deployment's comes from
	// config, which refuses one below MinBcryptCost, and tests under the
	// race detector hash at bcrypt.MinCost (it needs concurrency, not slow
	// hashes).
	Cost  int
	once  sync.Once
	dummy []byte
}

// hashSlots lets as many bcrypt runs go at once as there are cores: more
// would not finish sooner, only take the CPU from every other request (a
// burst of logins waits its turn instead of stalling the API).
var hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

var extraPs sync.Once

// KeepPsForRequests gives the Go scheduler one P more than it has, once
// per process: while hashing holds one P per core, a request still finds a
// free one, and the OS (hashing threads being nicer) gives its thread the
// core first. Only one more: the GC may use half of all Ps when the heap
// is over its limit, and should not get every core.
func KeepPsForRequests() {
	extraPs.Do(func() { runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1) })
}

// withHashSlot runs fn in a slot, on an OS thread of its own at a lower
// scheduling priority: hashing then takes the CPU that requests leave
// free, and a read arriving during a burst of logins runs at once instead
// of waiting for a core (with KeepPsForRequests).
func withHashSlot[T any](fn func() T) T {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	out := make(chan T, 1)
	go func() {
		// The thread is never unlocked: it ends with this goroutine, and its
		// lowered priority with it, instead of going back to the pool.
		runtime.LockOSThread()
		lowerThreadPriority()
		out <- fn()
	}()
	return <-out
}

// Hash checks the rules and hashes pw.
func (p *Passwords) Hash(pw string) (string, error) {
	type result struct {
		hash string
		err  error
	}
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	r := withHashSlot(func() result {
		h, err := generate(pw, p.Cost)
		return result{h, err}
	})
	return r.hash, r.err
}

// Verify reports whether pw matches hash. An overlong password costs the
// same time as any other before it is refused.
func (p *Passwords) Verify(hash, pw string) bool {
	if len(pw) > MaxPasswordBytes {
		p.Burn(pw)
		return false
	}
	return withHashSlot(func() bool { return VerifyPassword(hash, pw) })
}

// Burn runs a comparison as costly as Verify's, for logins that have no hash.
func (p *Passwords) Burn(pw string) {
	p.once.Do(func() {
		p.dummy, _ = bcrypt.GenerateFromPassword([]byte("no such user, no such password"), p.Cost)
	})
	if len(pw) > MaxPasswordBytes {
		pw = pw[:MaxPasswordBytes]
	}
	withHashSlot(func() error { return bcrypt.CompareHashAndPassword(p.dummy, []byte(pw)) })
}

// hashNice is the niceness of hashing threads (0 normal, 19 lowest): low
// enough that request threads come first, not so low that hashing starves
// behind other processes of the machine.
const hashNice = 10
