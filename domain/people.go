package domain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// People search lets a signed-in person find someone to write to by
// name, username or email without learning more than a conversation
// would show them (id, username, full name: never an email or a phone)
// and without walking the whole table: at least MinPeopleQuery
// characters, at most MaxPeopleResults answers, an exact address for an
// email, and PeopleSearchLimit searches a minute.

// Bounds of a people search.
const (
	MinPeopleQuery   = 2
	MaxPeopleQuery   = 100
	MaxPeopleResults = 10
)

// PeopleSearchLimit bounds one person's searches.
func PeopleSearchLimit(userID int64) Limit {
	return Limit{Key: "people-search:user:" + strconv.FormatInt(userID, 10), Max: 30, Window: time.Minute}
}

// SearchPeople finds active people other than the searcher: usernames
// and full names that start with q (or have a word that does), in any
// case, or the one whose email is exactly q. The best matches come
// first: an exact username, then usernames, then names.
func SearchPeople(ctx context.Context, db bun.IDB, searcher int64, q string) ([]Participant, error) {
	q = strings.TrimSpace(q)
	if n := utf8.RuneCountInString(q); n < MinPeopleQuery || n > MaxPeopleQuery {
		return nil, invalid(fmt.Sprintf("q must be %d to %d characters", MinPeopleQuery, MaxPeopleQuery))
	}
	if err := checkStorable("q", q); err != nil {
		return nil, err
	}
	if err := Take(ctx, db, PeopleSearchLimit(searcher), "Too many searches; wait a minute"); err != nil {
		return nil, err
	}
	var users []User
	query := db.NewSelect().Model(&users).Column("id", "username", "full_name").
		Where("is_active = ? AND is_system = ? AND id <> ?", true, false, searcher)
	if strings.Contains(q, "@") {
		query = query.Where("email = ?", strings.ToLower(q))
	} else {
		key := UsernameKey(q)
		prefix := likePrefix(key)
		query = query.WhereGroup(" AND ", func(g *bun.SelectQuery) *bun.SelectQuery {
			return g.Where("lower(username) LIKE ? ESCAPE '\\'", prefix).
				WhereOr("lower(full_name) LIKE ? ESCAPE '\\'", likePrefix(strings.ToLower(q))).
				WhereOr("lower(full_name) LIKE ? ESCAPE '\\'", "% "+likePrefix(strings.ToLower(q)))
		}).
			OrderExpr("CASE WHEN lower(username) = ? THEN 0 WHEN lower(username) LIKE ? ESCAPE '\\' THEN 1 ELSE 2 END", key, prefix)
	}
	if err := query.OrderExpr("lower(username)").Limit(MaxPeopleResults).Scan(ctx); err != nil {
		return nil, fmt.Errorf("search people: %w", err)
	}
	out := make([]Participant, 0, len(users))
	for i := range users {
		out = append(out, *participantOf(&users[i]))
	}
	return out, nil
}

// likePrefix is a LIKE pattern for what starts with s, its wildcards
// taken literally.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}
