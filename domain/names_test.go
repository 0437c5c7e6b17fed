package domain_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestUsernameNormalisation(t *testing.T) {
	for in, want := range map[string]string{
		"boss":        "boss",
		"Boss":        "Boss",
		"ａｓｓｉｓｔａｎｔ":   "assistant",
		"ＢＯＳＳ":        "BOSS",
		"ﬁona":        "fiona", // a ligature
		"jane.doe-42": "jane.doe-42",
	} {
		assert.Equal(t, want, domain.NormalizeUsername(in), in)
	}
	for _, same := range []string{"Boss", "BOSS", "bOsS", "ｂｏｓｓ", "ＢＯＳＳ"} {
		assert.Equal(t, "boss", domain.UsernameKey(same), same)
	}
	assert.Equal(t, "ＢＯＳＳ@example.com", domain.LoginName("ＢＯＳＳ@example.com"), "an email address is looked up as typed")
	assert.Equal(t, "BOSS", domain.LoginName("ＢＯＳＳ"))
}

func TestCheckUsername(t *testing.T) {
	for name, ok := range map[string]bool{
		"alice": true, "bob_99": true, "jane.doe-42": true, "Boss": true,
		"ai_chan": true, "staffan": true, "joe.root": true, "botha": true, "assistant2": false,
		// The assistant's own name is taken, not reserved: asking for it
		// meets the account (a conflict), in any case.
		"assistant": true, "ASSISTANT": true,
		"ai_assistant": false, "the-assistant": false, "Support": false, "support.team": false,
		"admin": false, "Administrator": false, "root": false, "sysadmin": false, "helpdesk": false,
		"aimsg": false, "aimsg_help": false, "bot": false, "the.bot": false, "security-team": false,
		"moderator": false, "official": false, "operator": false, "system": false, "staff": false,
		"jo": false, "has space": false, "emoji🙂": false, "ünïcode": false,
	} {
		err := domain.CheckUsername(domain.NormalizeUsername(name))
		if ok {
			assert.NoError(t, err, name)
		} else {
			assert.ErrorIs(t, err, domain.ErrInvalid, name)
		}
	}
	// Normalised first, fullwidth look-alikes meet the same rules.
	assert.ErrorIs(t, domain.CheckUsername(domain.NormalizeUsername("ａｄｍｉｎ")), domain.ErrInvalid)
	assert.NoError(t, domain.CheckUsername(domain.NormalizeUsername("ａｌｉｃｅ")))
	// The operator's own accounts (createsuperuser) may use system words.
	assert.NoError(t, domain.CheckUsernameForm("admin"))
	assert.ErrorContains(t, domain.CheckUsername("admin"), "Username is reserved")
}

func TestCheckDisplayName(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		problem   string // "" accepted; else part of the reason
	}{
		{"José Núñez", "accents", ""},
		{"李雷", "Han", ""},
		{"O'Brien-Smith", "apostrophe and hyphen", ""},
		{"Mary Ann", "a space", ""},
		{"Ai Tanaka", "Ai is a name", ""},
		{"Joe Root", "contains a system word", ""},
		{"Assistant Manager", "a job, not the assistant", ""},
		{"Zoë 🙂", "an emoji", ""},
		{"Ali ❤️", "an emoji with its variation selector", ""},
		{"محمد", "right-to-left script, no control", ""},
		{"", "no name at all", ""},

		{"AI Assistant", "the assistant's display name", "reserved"},
		{"A.I. assistant", "punctuation dropped", "reserved"},
		{"Assistant", "the assistant", "reserved"},
		{"ASSISTANT", "any case", "reserved"},
		{"ａｓｓｉｓｔａｎｔ", "fullwidth", "reserved"},
		{"Аssistant", "a Cyrillic A", "reserved"},
		{"Assistánt", "an accent", "reserved"},
		{"Ｓｕｐｐｏｒｔ", "fullwidth support", "reserved"},
		{"Support Team", "the team", "reserved"},
		{"support 24/7", "digits dropped", "reserved"},
		{"Administrator", "admin", "reserved"},
		{"The aimsg Team", "the service", "reserved"},
		{"Help Desk", "two words", "reserved"},
		{"Security", "security", "reserved"},

		{"Bob\u202eenilno", "right-to-left override", "U+202E"},
		{"Bo\u200bb", "zero-width space", "U+200B"},
		{"\u2066Bob\u2069", "left-to-right isolate", "U+2066"},
		{"\ufeffBob", "byte order mark", "U+FEFF"},
		{"Bob\u200dAlice", "zero-width joiner", "U+200D"},
		{"Bob\u200fs", "right-to-left mark", "U+200F"},
		{"Bob\tSmith", "a tab", "U+0009"},
		{"Bob\nSmith", "a newline", "U+000A"},
		{"Bob\u2028Smith", "line separator", "U+2028"},
		{"Bob\u00adby", "soft hyphen", "U+00AD"},
		{"Bob\u3164", "Hangul filler", "U+3164"},
		{"\ue000Bob", "private use", "U+E000"},
		{"AI\u200bAssistant", "invisible, and reserved once it is dropped", "U+200B"},
		{"   ", "nothing to see", "visible"},
	} {
		err := domain.CheckDisplayName(tc.name)
		if tc.problem == "" {
			assert.NoError(t, err, tc.why)
			continue
		}
		if assert.ErrorIs(t, err, domain.ErrInvalid, tc.why) {
			assert.Contains(t, domain.Reason(err), tc.problem, tc.why)
			assert.Contains(t, domain.Reason(err), "Full name", tc.why)
		}
	}
}

// Usernames are unique whatever their case and however they are typed: the
// database refuses a second spelling of an account, with the conflict that
// does not say which field is taken, and login finds the account from any.
func TestUsernamesAreUniqueInAnyCase(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		boss := newUser(t, db, "boss", false)
		for i, name := range []string{"Boss", "BOSS", "ｂｏｓｓ", "Assistant", "ASSISTANT", "ａｓｓｉｓｔａｎｔ"} {
			_, err := domain.CreateUser(ctx, db, domain.NewUser{Username: name,
				Email: "other" + string(rune('a'+i)) + "@example.com", HashedPassword: "x"})
			require.ErrorIs(t, err, domain.ErrConflict, name)
			assert.Equal(t, "username, email or phone number already registered", domain.Reason(err), name)
		}
		for _, login := range []string{"boss", "BOSS", "Boss", "ｂｏｓｓ"} {
			u, err := domain.UserByLogin(ctx, db, login)
			require.NoError(t, err, login)
			assert.Equal(t, boss.ID, u.ID, login)
		}
		_, err := domain.UserByLogin(ctx, db, "Assistant")
		assert.ErrorIs(t, err, domain.ErrNotFound, "nobody logs in as the assistant")

		// Stored in NFKC form, as typed otherwise.
		u, err := domain.CreateUser(ctx, db, domain.NewUser{Username: "Ｃａｒｏｌ", Email: "carol@example.com", HashedPassword: "x"})
		require.NoError(t, err)
		assert.Equal(t, "Carol", u.Username)
		found, err := domain.UserByUsername(ctx, db, "carol")
		require.NoError(t, err)
		assert.Equal(t, u.ID, found.ID)

		// createsuperuser's account is found again in another case.
		again, created, err := domain.EnsureSuperuser(ctx, db, domain.SuperuserInput{Username: "BOSS", Email: "boss@example.com", HashedPassword: "y"})
		require.NoError(t, err)
		assert.False(t, created)
		assert.Equal(t, boss.ID, again.ID)
		assert.Equal(t, "boss", again.Username)
	})
}

// The conversation list marks the assistant and staff (superusers, the
// agent role) with a badge the server sets; a name cannot make one.
func TestConversationBadges(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		me := newUser(t, db, "me", false)
		super := newUser(t, db, "chief", true)
		agent := newUser(t, db, "helper1", false)
		plain := newUser(t, db, "plain", false)
		name := "Staff ✓"
		_, err := domain.UpdateProfile(ctx, db, plain.ID, domain.ProfileUpdate{FullName: &name})
		require.NoError(t, err)
		roles, err := domain.ListRoles(ctx, db)
		require.NoError(t, err)
		for _, r := range roles {
			if r.Name == domain.AgentRole {
				_, err = domain.SetUserRoles(ctx, db, agent.ID, []int64{r.ID})
				require.NoError(t, err)
			}
		}
		for _, from := range []*domain.User{super, agent, plain} {
			_, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: from.ID, RecipientID: me.ID, Content: "hi"})
			require.NoError(t, err)
		}

		list, total, err := domain.Conversations(ctx, db, me.ID, domain.Page{Limit: 10})
		require.NoError(t, err)
		require.Equal(t, 4, total)
		badges := map[int64]domain.Badge{}
		for _, c := range list {
			badges[c.OtherUser.ID] = c.OtherUser.Badge
		}
		assert.Equal(t, map[int64]domain.Badge{
			assistant(t, db).ID: domain.BadgeAssistant,
			super.ID:            domain.BadgeStaff,
			agent.ID:            domain.BadgeStaff,
			plain.ID:            "",
		}, badges)
	})
}
