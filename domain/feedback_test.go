package domain_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestTheRecipientRatesTheAssistantsAnswers(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann, bob, root := newUser(t, db, "ann", false), newUser(t, db, "bob", false), newUser(t, db, "root", true)
		ai := assistant(t, db)
		sub, err := domain.CreateWebhook(ctx, db, "https://receiver.example/feedback",
			domain.EventList{domain.EventFeedbackCreated}, "s", root.ID)
		require.NoError(t, err)
		q, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: ann.ID, RecipientID: ai.ID, Content: "where is my parcel"})
		require.NoError(t, err)
		answer, err := domain.SaveReply(ctx, db, domain.Reply{ConversationID: *q.ConversationID, UserID: ann.ID,
			AnswersUpTo: q.ID, Content: "in the locker"})
		require.NoError(t, err)

		up, err := domain.RateAnswer(ctx, db, ann.ID, answer.ID, domain.RatingUp, nil)
		require.NoError(t, err)
		assert.Equal(t, domain.RatingUp, up.Rating)
		why := "the locker was empty"
		down, err := domain.RateAnswer(ctx, db, ann.ID, answer.ID, domain.RatingDown, &why)
		require.NoError(t, err)
		assert.Equal(t, up.ID, down.ID, "the second rating replaces the first")
		m, err := domain.MessageFor(ctx, db, ann.ID, answer.ID)
		require.NoError(t, err)
		require.NotNil(t, m.Feedback)
		assert.Equal(t, domain.RatingDown, m.Feedback.Rating)
		assert.Equal(t, why, *m.Feedback.Comment)

		// Nobody else rates it; nobody rates their own words or a person's.
		_, err = domain.RateAnswer(ctx, db, bob.ID, answer.ID, domain.RatingUp, nil)
		assert.ErrorIs(t, err, domain.ErrNotFound)
		_, err = domain.RateAnswer(ctx, db, ann.ID, q.ID, domain.RatingUp, nil)
		assert.ErrorIs(t, err, domain.ErrInvalid)
		dm, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: bob.ID, RecipientID: ann.ID, Content: "hi ann"})
		require.NoError(t, err)
		_, err = domain.RateAnswer(ctx, db, ann.ID, dm.ID, domain.RatingUp, nil)
		assert.ErrorIs(t, err, domain.ErrInvalid)
		long := string(make([]rune, domain.MaxFeedbackComment+1))
		_, err = domain.RateAnswer(ctx, db, ann.ID, answer.ID, domain.RatingDown, &long)
		assert.ErrorIs(t, err, domain.ErrInvalid)

		// Each rating told the webhooks, with the answer it rates.
		_, err = domain.FanOutWebhooks(ctx, db, 100)
		require.NoError(t, err)
		got := deliveriesOf(t, db, sub.ID)
		require.Len(t, got, 2)
		var env struct {
			Type string `json:"type"`
			Data struct {
				Feedback *domain.Feedback `json:"feedback"`
				Message  domain.Message   `json:"message"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(got[1].Body), &env))
		assert.Equal(t, "feedback.created", env.Type)
		assert.Equal(t, domain.RatingDown, env.Data.Feedback.Rating)
		assert.Equal(t, "in the locker", env.Data.Message.Content)

		require.NoError(t, domain.TakeBackRating(ctx, db, ann.ID, answer.ID))
		m, err = domain.MessageFor(ctx, db, ann.ID, answer.ID)
		require.NoError(t, err)
		assert.Nil(t, m.Feedback)
		assert.ErrorIs(t, domain.TakeBackRating(ctx, db, ann.ID, answer.ID), domain.ErrNotFound)
		assert.ErrorIs(t, domain.TakeBackRating(ctx, db, bob.ID, answer.ID), domain.ErrNotFound)
	})
}
