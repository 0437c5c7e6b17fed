package domain_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestOnlyTheBuiltInRoleGrantsPermissions(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		user, agent, labelled, root := newUser(t, db, "user", false), newUser(t, db, "agent", false),
			newUser(t, db, "labelled", false), newUser(t, db, "root", true)
		roles, err := domain.ListRoles(ctx, db)
		require.NoError(t, err)
		require.Len(t, roles, 1, "the migrations make the agent role")
		custom, err := domain.CreateRole(ctx, db, "billing", nil)
		require.NoError(t, err)
		_, err = domain.SetUserRoles(ctx, db, agent.ID, []int64{roles[0].ID})
		require.NoError(t, err)
		_, err = domain.SetUserRoles(ctx, db, labelled.ID, []int64{custom.ID})
		require.NoError(t, err)
		for _, tc := range []struct {
			u    *domain.User
			want bool
		}{{user, false}, {agent, true}, {labelled, false}, {root, true}} {
			for _, perm := range []domain.Permission{domain.PermSupport, domain.PermTriageReports} {
				ok, err := domain.Can(ctx, db, tc.u, perm)
				require.NoError(t, err)
				assert.Equal(t, tc.want, ok, "%s %s", tc.u.Username, perm)
			}
		}
		assert.ErrorIs(t, domain.DeleteRole(ctx, db, roles[0].ID), domain.ErrConflict)
	})
}

func TestTheSupportInbox(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann, ben, agent := newUser(t, db, "ann", false), newUser(t, db, "ben", false), newUser(t, db, "agent", false)
		a := assistant(t, db)
		ask := func(u *domain.User, text string) *domain.Message {
			m, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: text})
			require.NoError(t, err)
			return m
		}
		ask(ann, "one")
		ask(ben, "two")
		last := ask(ann, "three")
		_, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: ann.ID, RecipientID: ben.ID, Content: "not for the inbox"})
		require.NoError(t, err)

		human, ai := domain.ModeHuman, domain.ModeAI
		since := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
		require.NoError(t, domain.RecordMode(ctx, db, domain.ModeChange{ConversationID: domain.AIConversationID(ann.ID),
			UserID: ann.ID, Mode: human, Reason: "asked", AgentID: agent.ID, Since: since}))

		all, total, err := domain.SupportInbox(ctx, db, domain.InboxFilter{Page: domain.Page{Limit: 10}})
		require.NoError(t, err)
		require.Equal(t, 2, total)
		assert.Equal(t, domain.AIConversationID(ann.ID), all[0].ConversationID, "latest message first")
		assert.Equal(t, last.ID, all[0].LastMessage.ID)
		assert.EqualValues(t, 2, all[0].UnreadCount)
		assert.Equal(t, "ann", all[0].User.Username)
		assert.Equal(t, human, all[0].Mode)
		assert.Equal(t, since, all[0].HandedOffAt.UTC())
		assert.Equal(t, "asked", *all[0].Reason)
		assert.Equal(t, agent.ID, *all[0].AgentID)
		assert.Equal(t, ai, all[1].Mode, "never handed off")

		only, total, err := domain.SupportInbox(ctx, db, domain.InboxFilter{Mode: &ai, Page: domain.Page{Limit: 10}})
		require.NoError(t, err)
		require.Equal(t, 1, total)
		assert.Equal(t, domain.AIConversationID(ben.ID), only[0].ConversationID)

		require.NoError(t, domain.MarkAgentRead(ctx, db, domain.AIConversationID(ann.ID), ann.ID, last.ID))
		require.NoError(t, domain.MarkAgentRead(ctx, db, domain.AIConversationID(ann.ID), ann.ID, 1), "never backwards")
		only, _, err = domain.SupportInbox(ctx, db, domain.InboxFilter{Mode: &human, Page: domain.Page{Limit: 10}})
		require.NoError(t, err)
		require.Len(t, only, 1)
		assert.EqualValues(t, 0, only[0].UnreadCount)

		require.NoError(t, domain.RecordMode(ctx, db, domain.ModeChange{ConversationID: domain.AIConversationID(ann.ID),
			UserID: ann.ID, Mode: ai, Since: since.Add(time.Hour)}))
		st, err := domain.StateOf(ctx, db, domain.AIConversationID(ann.ID))
		require.NoError(t, err)
		assert.Equal(t, ai, st.Mode)
		assert.Nil(t, st.HandedOffAt, "back with the AI: no handoff")
		assert.EqualValues(t, last.ID, st.AgentReadUpTo, "what the team read stays")
	})
}

func TestANoticeIsSavedOnceAndGoesWhereTheUserLastWrote(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u := newUser(t, db, "texter", false)
		a := assistant(t, db)
		addr, sid := "+14155552671", "SM1"
		_, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: "HUMAN",
			Channel: domain.ChannelTwilio, Address: &addr, ExternalID: &sid})
		require.NoError(t, err)
		first, err := domain.SaveOutbound(ctx, db, domain.Outbound{UserID: u.ID, Content: "A person will answer.", Key: "handoff:1"})
		require.NoError(t, err)
		again, err := domain.SaveOutbound(ctx, db, domain.Outbound{UserID: u.ID, Content: "A person will answer.", Key: "handoff:1"})
		require.NoError(t, err)
		assert.Equal(t, first.ID, again.ID)
		assert.Equal(t, domain.ChannelTwilio, first.Channel)
		assert.Equal(t, addr, *first.Address)
		assert.Equal(t, a.ID, first.SenderID)
		assert.Nil(t, first.AgentID)
		_, err = domain.SaveOutbound(ctx, db, domain.Outbound{UserID: u.ID, Content: "", AgentID: a.ID})
		assert.ErrorIs(t, err, domain.ErrInvalid)
	})
}

func TestTheKeywordThatAsksForAPerson(t *testing.T) {
	for _, yes := range []string{"HUMAN", "human", " Agent. ", "AGENT!"} {
		assert.True(t, domain.AsksForHuman(yes), yes)
	}
	for _, no := range []string{"I want a human", "agents", "", "HUMANS"} {
		assert.False(t, domain.AsksForHuman(no), no)
	}
}

// Requests for a person, phrased the way people text them, and messages
// that only talk about people or agents.
func TestAMessageThatAsksForAPersonInWords(t *testing.T) {
	for _, yes := range []string{
		"I need a human please",
		"can I speak to a real person",
		"Let me talk to someone",
		"talk to an agent",
		"pls connect me to a representative",
		"I want to speak with a human",
		"get me a person!!",
		"is there a live agent? I'd like to chat with a live agent",
		"Real person, please",
		"transfer me to an operator",
		"I want a human",
		"could I talk with your support team",
	} {
		assert.True(t, domain.WantsPerson(yes), yes)
	}
	for _, no := range []string{
		"how do your agents work?",
		"what does a human resources manager do",
		"my order never arrived",
		"Can a person return an item after 30 days?",
		"the agent I talked to yesterday was great, thanks",
		"is this a bot or a human",
		"",
		"I want a refund for the broken chair I ordered last month, and also I need to talk to someone about the delivery driver who was rude to me at the door",
	} {
		assert.False(t, domain.WantsPerson(no), no)
	}
}
