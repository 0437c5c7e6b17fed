package domain_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestKeywordsAreTheSameOnEveryChannel(t *testing.T) {
	for text, want := range map[string]domain.Keyword{
		"STOP": domain.KeywordStop, " stop. ": domain.KeywordStop, "Unsubscribe": domain.KeywordStop,
		"start": domain.KeywordStart, "HELP?": domain.KeywordHelp, "agent!": domain.KeywordHuman, "Human": domain.KeywordHuman,
		"stop it": domain.KeywordNone, "helpful": domain.KeywordNone, "": domain.KeywordNone,
	} {
		assert.Equal(t, want, domain.KeywordOf(text), "%q", text)
	}
}

func TestReceiveStoresOnceAndAppliesKeywords(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, a := newUser(t, db, "texter", false), assistant(t, db)
		receive := func(id, text string) *domain.Received {
			t.Helper()
			r, err := domain.Receive(ctx, db, u.ID, a.ID, domain.Inbound{Channel: "chirp", Address: "texter",
				ExternalID: id, Text: text}, domain.InboundLimit{PerMinute: 3})
			require.NoError(t, err)
			return r
		}
		first := receive("m1", "hello")
		assert.True(t, first.Dispatch())
		again := receive("m1", "hello")
		assert.True(t, again.Repeated)
		assert.False(t, again.Dispatch(), "a repeat is not handed over again")
		assert.Equal(t, first.Message.ID, again.Message.ID)

		stop := receive("m2", "STOP")
		assert.Equal(t, domain.StopText, stop.Answer)
		assert.True(t, stop.OptOutChanged)
		assert.False(t, stop.Dispatch())
		kept := receive("m3", "are you there?")
		assert.False(t, kept.Dispatch(), "an opted-out user's message is kept, not answered")
		assert.True(t, receive("m4", "start").OptOutChanged)
		// The STOP sent again changes nothing and is answered as before.
		retried := receive("m2", "STOP")
		assert.True(t, retried.Repeated)
		assert.False(t, retried.OptOutChanged)
		assert.Equal(t, domain.StopText, retried.Answer)
		u2, err := domain.UserByID(ctx, db, u.ID)
		require.NoError(t, err)
		assert.False(t, u2.SMSOptOut)

		// The limit: 3 a minute counted (m1 and m3 were not counted: m3
		// was kept without a turn), then one notice, then silence.
		assert.True(t, receive("m5", "two").Dispatch())
		assert.True(t, receive("m6", "three").Dispatch())
		over := receive("m7", "four")
		assert.True(t, over.Limited)
		assert.False(t, over.Dispatch())
		assert.Equal(t, domain.InboundLimitNotice, over.Answer)
		assert.Empty(t, receive("m8", "five").Answer, "one notice a minute")
		assert.Empty(t, receive("m7", "four").Answer, "a retried message past the limit is not told again")

		empty := receive("m9", "  ")
		assert.Equal(t, "(empty message)", empty.Message.Content)
		assert.False(t, empty.Dispatch())
		_, err = domain.Receive(ctx, db, u.ID, a.ID, domain.Inbound{Channel: "chirp", Address: "texter", Text: "no id"},
			domain.InboundLimit{})
		assert.ErrorIs(t, err, domain.ErrInvalid)
	})
}

// A STOP whose message cannot be stored changes no opt-out, and the
// other way round: both are written in one transaction.
func TestAnOptOutIsWrittenWithItsMessage(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, a := newUser(t, db, "texter", false), assistant(t, db)
		refuseOptOuts(t, db)
		_, err := domain.Receive(ctx, db, u.ID, a.ID, domain.Inbound{Channel: domain.ChannelTwilio, Address: "+14155552671",
			ExternalID: "SM1", Text: "STOP"}, domain.InboundLimit{})
		require.Error(t, err)
		n, err := db.NewSelect().Model((*domain.Message)(nil)).Where("external_id = ?", "SM1").Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "the STOP was not stored without its opt-out")
	})
}

// refuseOptOuts makes every change of a user's opt-out fail, as a
// database that breaks mid-request would.
func refuseOptOuts(t *testing.T, db *bun.DB) {
	t.Helper()
	ctx := context.Background()
	if database.Dialect(db) == config.Postgres {
		_, err := db.ExecContext(ctx, `CREATE FUNCTION refuse_opt_out() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'opt-out refused'; END $$`)
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, `CREATE TRIGGER refuse_opt_out BEFORE UPDATE OF sms_opt_out ON users
			FOR EACH ROW EXECUTE FUNCTION refuse_opt_out()`)
		require.NoError(t, err)
		return
	}
	_, err := db.ExecContext(ctx, `CREATE TRIGGER refuse_opt_out BEFORE UPDATE OF sms_opt_out ON users
		BEGIN SELECT RAISE(ABORT, 'opt-out refused'); END`)
	require.NoError(t, err)
}
