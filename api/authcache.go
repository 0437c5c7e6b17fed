package api

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/aimsg/aimsg/domain"
)

// sessionCache lets an API instance trust, for a moment, that a session it
// checked in the database is still live, so that a burst of requests with
// one token costs one query. Every change to a user or their sessions made
// through this instance forgets that user at once (forget); changes made
// through another instance show here within the TTL.
type sessionCache struct {
	// entries expire when read past their time (no sweeper waking up the
	// process a hundred times a second); the LRU bound keeps the rest.
	entries *lru.Cache[string, cachedSession]
	ttl     time.Duration
	mu      sync.Mutex
	// epochs count the forgets of each user: an entry read before a forget
	// (even one that lands while the read runs) is never served after it.
	epochs map[int64]uint64
}

type cachedSession struct {
	session domain.Session
	user    domain.User
	epoch   uint64
	expires time.Time
}

// maxCachedSessions bounds the cache (a few hundred bytes each).
const maxCachedSessions = 50_000

// newSessionCache is nil, which caches nothing, when ttl is zero.
func newSessionCache(ttl time.Duration) *sessionCache {
	if ttl <= 0 {
		return nil
	}
	entries, err := lru.New[string, cachedSession](maxCachedSessions)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &sessionCache{entries: entries, ttl: ttl, epochs: map[int64]uint64{}}
}

// epoch is the user's forget count; read it before the database.
func (c *sessionCache) epoch(userID int64) uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epochs[userID]
}

// get returns copies of a live cached session and its user.
func (c *sessionCache) get(token string, userID int64) (*domain.Session, *domain.User, bool) {
	if c == nil {
		return nil, nil, false
	}
	e, ok := c.entries.Get(token)
	if ok && time.Now().After(e.expires) {
		c.entries.Remove(token)
		ok = false
	}
	if !ok || e.user.ID != userID || e.epoch != c.epoch(userID) {
		return nil, nil, false
	}
	return &e.session, &e.user, true
}

// put remembers a session read from the database at epoch.
func (c *sessionCache) put(token string, s *domain.Session, u *domain.User, epoch uint64) {
	if c == nil {
		return
	}
	c.entries.Add(token, cachedSession{session: *s, user: *u, epoch: epoch, expires: time.Now().Add(c.ttl)})
}

// forget drops everything cached about a user.
func (c *sessionCache) forget(userID int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.epochs[userID]++
	c.mu.Unlock()
}
