package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// An episode is one request of a person to the assistant, from their
// first message to its outcome: the AI answered and they went quiet, or a
// person took it over and either gave it back or heard nothing more. The
// conversation workflow decides when an episode ends; RecordEpisode
// writes it down, once, with what it cost; analytics.go reads them.

// Outcome is how an episode ended.
type Outcome string

// The outcomes of an episode.
const (
	// OutcomeResolvedByAI: no handoff, the AI answered and the person was
	// quiet for the episode's window, having rated no answer down.
	OutcomeResolvedByAI Outcome = "resolved_by_ai"
	// OutcomeHandedOff: handed to a person, and back to the AI with no
	// person's answer (HANDOFF_IDLE_MINUTES passed).
	OutcomeHandedOff Outcome = "handed_off"
	// OutcomeResolvedByPerson: a person had it and gave it back to the AI.
	OutcomeResolvedByPerson Outcome = "resolved_by_person"
	// OutcomeAbandoned: the person left unresolved: quiet after rating an
	// answer down, or while a person had the conversation and had
	// answered, until it went back to the AI by itself.
	OutcomeAbandoned Outcome = "abandoned"
)

// Outcomes lists every outcome, for metrics and analytics.
var Outcomes = []Outcome{OutcomeResolvedByAI, OutcomeHandedOff, OutcomeResolvedByPerson, OutcomeAbandoned}

// Episode is an episode that ended, as recorded.
type Episode struct {
	bun.BaseModel `bun:"table:episodes,alias:ep"`

	ID int64 `bun:"id,pk,autoincrement" json:"id"`
	// Key names the episode within its conversation (EpisodeKey): it is
	// recorded once, however often its workflow asks.
	Key            string  `bun:"key,type:varchar(160),notnull,unique" json:"-"`
	ConversationID string  `bun:"conversation_id,type:varchar(100),notnull" json:"conversation_id"`
	UserID         int64   `bun:"user_id,notnull" json:"user_id"`
	Channel        Channel `bun:"channel,type:varchar(20),notnull" json:"channel"`
	Outcome        Outcome `bun:"outcome,type:varchar(24),notnull" json:"outcome"`
	// Agent is the configured agent that answered last ("" when the
	// built-in assistant did); Agents every one that answered, in order,
	// comma-separated.
	Agent  string `bun:"agent,type:varchar(48),notnull,default:''" json:"agent"`
	Agents string `bun:"agents,type:varchar(500),notnull,default:''" json:"agents"`
	// FirstMessageID and LastMessageID bound the episode's messages.
	FirstMessageID int64     `bun:"first_message_id,notnull" json:"first_message_id"`
	LastMessageID  int64     `bun:"last_message_id,notnull" json:"last_message_id"`
	StartedAt      time.Time `bun:"started_at,notnull" json:"started_at"`
	EndedAt        time.Time `bun:"ended_at,notnull" json:"ended_at"`
	// Day is EndedAt's UTC day (YYYY-MM-DD): daily figures group by it
	// the same way on both databases.
	Day         string     `bun:"day,type:varchar(10),notnull" json:"day"`
	HandedOffAt *time.Time `bun:"handed_off_at" json:"handed_off_at"`
	// FirstReplyMS is the time from the first message to the AI's first
	// reply; PersonReplyMS from the handoff to a person's first answer.
	FirstReplyMS  *int64 `bun:"first_reply_ms" json:"first_reply_ms"`
	PersonReplyMS *int64 `bun:"person_reply_ms" json:"person_reply_ms"`
	Turns         int    `bun:"turns,notnull" json:"turns"`
	// Tokens and cost of the LLM calls made for the episode (CostUSD by
	// LLM_PRICES when it ended).
	PromptTokens     int64   `bun:"prompt_tokens,notnull" json:"prompt_tokens"`
	CompletionTokens int64   `bun:"completion_tokens,notnull" json:"completion_tokens"`
	CostUSD          float64 `bun:"cost_usd,notnull" json:"cost_usd"`
	// The satisfaction survey: the question's message, when it was asked,
	// and the score (1–5) the person gave.
	CSATMessageID  *int64     `bun:"csat_message_id" json:"csat_message_id"`
	CSATAskedAt    *time.Time `bun:"csat_asked_at" json:"csat_asked_at"`
	CSATScore      *int       `bun:"csat_score" json:"csat_score"`
	CSATAnsweredAt *time.Time `bun:"csat_answered_at" json:"csat_answered_at"`
	// CSATResponseID is the message that gave the score by SMS or
	// Telegram: a provider that sends it again is thanked again.
	CSATResponseID *int64 `bun:"csat_response_id" json:"-"`
}

// EpisodeKey names an episode: its conversation and its first message,
// or the time it began when a person began it.
func EpisodeKey(conversationID string, firstMessageID int64, began time.Time) string {
	if firstMessageID > 0 {
		return conversationID + ":" + strconv.FormatInt(firstMessageID, 10)
	}
	return conversationID + ":t" + strconv.FormatInt(began.UnixNano(), 10)
}

// EpisodeEnding is what ended an episode, as its workflow saw it.
type EpisodeEnding string

// The endings of an episode.
const (
	// EndQuiet: the AI answered and the person wrote nothing for the
	// episode's window.
	EndQuiet EpisodeEnding = "quiet"
	// EndResumed: a person gave the conversation back to the AI.
	EndResumed EpisodeEnding = "resume"
	// EndIdle: the conversation went back to the AI by itself, no person
	// having answered for HANDOFF_IDLE_MINUTES.
	EndIdle EpisodeEnding = "idle"
)

// EpisodeEnd is an episode that ended, as its workflow tells it.
type EpisodeEnd struct {
	Key            string
	ConversationID string
	UserID         int64
	Channel        Channel
	// FirstMessageID is 0 for an episode a person began.
	FirstMessageID int64
	Start, End     time.Time
	HandedOffAt    time.Time
	PersonAnswered bool
	Ending         EpisodeEnding
	Turns          int
	Agents         []string
	// Survey, when set, is the question asked: "How did we do?".
	Survey string
}

// RecordEpisode writes an episode down with its outcome, its reply times
// and its cost, and with a survey, saves the question (delivered by the
// caller), in one transaction. An episode recorded before is returned as
// it was (recorded false): its workflow asked again.
func RecordEpisode(ctx context.Context, db *bun.DB, prices Prices, e EpisodeEnd) (ep *Episode, recorded bool, err error) {
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ep = new(Episode)
		err := tx.NewSelect().Model(ep).Where("key = ?", e.Key).Scan(ctx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ep, err = measureEpisode(ctx, tx, prices, e)
		if err != nil {
			return err
		}
		if e.Survey != "" && e.Ending != EndIdle {
			q, err := SaveOutbound(ctx, tx, Outbound{UserID: e.UserID, Content: e.Survey, Key: surveyKeyPrefix + e.Key})
			if err != nil {
				return err
			}
			asked := Now()
			ep.CSATMessageID, ep.CSATAskedAt = &q.ID, &asked
			ep.LastMessageID = max(ep.LastMessageID, q.ID)
		}
		if _, err := tx.NewInsert().Model(ep).Exec(ctx); err != nil {
			return err
		}
		recorded = true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("record episode %s: %w", e.Key, err)
	}
	return ep, recorded, nil
}

// measureEpisode reads from the conversation what the episode was: its
// messages, reply times, ratings, and LLM calls.
func measureEpisode(ctx context.Context, db bun.IDB, prices Prices, e EpisodeEnd) (*Episode, error) {
	end := e.End.UTC().Truncate(time.Microsecond)
	ep := &Episode{Key: e.Key, ConversationID: e.ConversationID, UserID: e.UserID, Channel: e.Channel,
		StartedAt: e.Start.UTC().Truncate(time.Microsecond), EndedAt: end, Day: end.Format(time.DateOnly),
		Turns: e.Turns, Agents: strings.Join(e.Agents, ",")}
	if n := len(e.Agents); n > 0 {
		ep.Agent = e.Agents[n-1]
	}
	if !e.HandedOffAt.IsZero() {
		h := e.HandedOffAt.UTC().Truncate(time.Microsecond)
		ep.HandedOffAt = &h
	}
	msgs := db.NewSelect().Model((*Message)(nil)).Where("conversation_id = ?", e.ConversationID)
	first := new(Message)
	q := db.NewSelect().Model(first).Column("id", "created_at").Where("conversation_id = ?", e.ConversationID)
	if e.FirstMessageID > 0 {
		q = q.Where("id = ?", e.FirstMessageID)
	} else {
		q = q.Where("created_at >= ?", ep.StartedAt).Order("id").Limit(1)
	}
	if err := q.Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("first message: %w", err)
	}
	ep.FirstMessageID = first.ID
	if err := msgs.ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &ep.LastMessageID); err != nil {
		return nil, fmt.Errorf("last message: %w", err)
	}
	if first.ID > 0 {
		var reply Message
		err := db.NewSelect().Model(&reply).Column("created_at").
			Where("conversation_id = ? AND id > ? AND model IS NOT NULL", e.ConversationID, first.ID).
			Order("id").Limit(1).Scan(ctx)
		if err == nil {
			ep.FirstReplyMS = millis(reply.CreatedAt.Sub(first.CreatedAt))
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("first reply: %w", err)
		}
	}
	if ep.HandedOffAt != nil {
		var answer Message
		err := db.NewSelect().Model(&answer).Column("created_at").
			Where("conversation_id = ? AND agent_id IS NOT NULL AND created_at >= ?", e.ConversationID, *ep.HandedOffAt).
			Order("id").Limit(1).Scan(ctx)
		if err == nil {
			ep.PersonReplyMS = millis(answer.CreatedAt.Sub(*ep.HandedOffAt))
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("first answer of a person: %w", err)
		}
	}
	down := false
	if e.Ending == EndQuiet && first.ID > 0 {
		var err error
		down, err = db.NewSelect().Model((*Feedback)(nil)).
			Join("JOIN messages AS m ON m.id = mf.message_id").
			Where("m.conversation_id = ? AND m.id >= ? AND mf.rating = ?", e.ConversationID, first.ID, RatingDown).
			Exists(ctx)
		if err != nil {
			return nil, fmt.Errorf("ratings: %w", err)
		}
	}
	ep.Outcome = outcomeOf(e, down)
	var use []struct {
		Model            string
		PromptTokens     int64
		CompletionTokens int64
	}
	err := db.NewSelect().Model((*LLMCall)(nil)).
		Column("model").ColumnExpr("SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens").
		Where("user_id = ? AND conversation_id = ? AND created_at >= ? AND created_at <= ?",
			e.UserID, e.ConversationID, ep.StartedAt, end).
		Group("model").Order("model").Scan(ctx, &use)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	for _, u := range use {
		ep.PromptTokens += u.PromptTokens
		ep.CompletionTokens += u.CompletionTokens
		ep.CostUSD += prices.Cost(u.Model, u.PromptTokens, u.CompletionTokens)
	}
	return ep, nil
}

// outcomeOf is how an episode that ended as e did came out; down says
// the person rated one of its answers down.
func outcomeOf(e EpisodeEnd, down bool) Outcome {
	switch {
	case e.Ending == EndResumed:
		return OutcomeResolvedByPerson
	case e.Ending == EndIdle && e.PersonAnswered:
		return OutcomeAbandoned
	case e.Ending == EndIdle:
		return OutcomeHandedOff
	case down:
		return OutcomeAbandoned
	}
	return OutcomeResolvedByAI
}

func millis(d time.Duration) *int64 {
	ms := max(d.Milliseconds(), 0)
	return &ms
}

// Survey is the satisfaction question a message asks, and the answer.
type Survey struct {
	Score *int `json:"score"`
}

// surveyKeyPrefix starts the key of a survey's question message.
const surveyKeyPrefix = "csat:"

// SurveyQuestion is the satisfaction survey, asked once per episode
// (CSAT_ENABLED); the web app shows buttons under it.
const SurveyQuestion = "How did we do? Reply with a number from 1 (poor) to 5 (great)."

// SurveyThanks answers a score.
const SurveyThanks = "Thank you for telling us."

// MaxSurveyWait is how long after the question a bare number still
// answers it.
const MaxSurveyWait = 7 * 24 * time.Hour

// withSurvey marks the messages that ask the survey, with its answer.
func withSurvey(ctx context.Context, db bun.IDB, msgs []Message) error {
	var ids []int64
	for _, m := range msgs {
		if isSurvey(&m) {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var eps []Episode
	if err := db.NewSelect().Model(&eps).Column("csat_message_id", "csat_score").
		Where("csat_message_id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return fmt.Errorf("read surveys: %w", err)
	}
	for i := range msgs {
		for _, ep := range eps {
			if ep.CSATMessageID != nil && *ep.CSATMessageID == msgs[i].ID {
				msgs[i].Survey = &Survey{Score: ep.CSATScore}
			}
		}
	}
	return nil
}

func isSurvey(m *Message) bool {
	return m.ExternalID != nil && strings.HasPrefix(*m.ExternalID, surveyKeyPrefix)
}

// SurveyScore reads a survey answer: a number from 1 to 5 alone (a
// trailing "/5", stars or punctuation aside), or 0 when text is not one.
func SurveyScore(text string) int {
	t := strings.TrimSpace(text)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "/5"), " / 5")
	t = strings.TrimRight(t, ".!*⭐ ")
	if len(t) == 1 && t[0] >= '1' && t[0] <= '5' {
		return int(t[0] - '0')
	}
	return 0
}

// openSurvey is the episode of userID's conversation with the assistant
// whose survey a message the person writes now answers: the last one
// asked, unanswered, within MaxSurveyWait, and nothing written since.
func openSurvey(ctx context.Context, db bun.IDB, userID int64, now time.Time) (*Episode, error) {
	ep := new(Episode)
	err := db.NewSelect().Model(ep).
		Where("conversation_id = ? AND csat_message_id IS NOT NULL", AIConversationID(userID)).
		OrderExpr("csat_message_id DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open survey: %w", err)
	}
	if ep.CSATScore != nil || ep.CSATAskedAt == nil || now.Sub(*ep.CSATAskedAt) > MaxSurveyWait {
		return nil, nil
	}
	since, err := db.NewSelect().Model((*Message)(nil)).
		Where("conversation_id = ? AND id > ? AND sender_id = ?", ep.ConversationID, *ep.CSATMessageID, userID).
		Exists(ctx)
	if err != nil || since {
		return nil, err
	}
	return ep, nil
}

// scoreSurvey records an episode's score.
func scoreSurvey(ctx context.Context, db bun.IDB, ep *Episode, score int) error {
	now := Now()
	res, err := db.NewUpdate().Model((*Episode)(nil)).
		Set("csat_score = ?, csat_answered_at = ?", score, now).
		Where("id = ? AND csat_score IS NULL", ep.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record score: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("this survey was answered already")
	}
	ep.CSATScore, ep.CSATAnsweredAt = &score, &now
	return nil
}

// AnswerSurvey records the score userID gives the episode whose survey
// messageID asked: someone else's message, or none, is ErrNotFound; a
// message that asks no survey is invalid; a second answer a conflict.
func AnswerSurvey(ctx context.Context, db bun.IDB, userID, messageID int64, score int) (*Episode, error) {
	if score < 1 || score > 5 {
		return nil, invalid("score must be a whole number from 1 to 5")
	}
	m, err := MessageFor(ctx, db, userID, messageID)
	if err != nil {
		return nil, err
	}
	if m.RecipientID != userID || !isSurvey(m) {
		return nil, invalid("this message asks no survey")
	}
	ep := new(Episode)
	err = db.NewSelect().Model(ep).Where("csat_message_id = ?", messageID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, invalid("this message asks no survey")
	}
	if err != nil {
		return nil, fmt.Errorf("read survey: %w", err)
	}
	if err := scoreSurvey(ctx, db, ep, score); err != nil {
		return nil, err
	}
	return ep, nil
}

// EpisodeByKey reads a recorded episode.
func EpisodeByKey(ctx context.Context, db bun.IDB, key string) (*Episode, error) {
	ep := new(Episode)
	err := db.NewSelect().Model(ep).Where("key = ?", key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read episode: %w", err)
	}
	return ep, nil
}

// EpisodesOf lists a conversation's recorded episodes, oldest first.
func EpisodesOf(ctx context.Context, db bun.IDB, conversationID string) ([]Episode, error) {
	var eps []Episode
	if err := db.NewSelect().Model(&eps).Where("conversation_id = ?", conversationID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("episodes of %s: %w", conversationID, err)
	}
	return eps, nil
}

// AppendAgent adds a configured agent to the list of those that
// answered, unless it answered last already ("": the built-in assistant,
// not listed).
func AppendAgent(agents []string, agent string) []string {
	if n := len(agents); agent == "" || n > 0 && agents[n-1] == agent {
		return agents
	}
	return append(slices.Clip(agents), agent)
}

// answeredSurvey says whether message m (no turn, sent by a channel)
// gave a survey its score.
func answeredSurvey(ctx context.Context, db bun.IDB, m *Message) (bool, error) {
	if m.TurnStatus != nil || m.ConversationID == nil || SurveyScore(m.Content) == 0 {
		return false, nil
	}
	ok, err := db.NewSelect().Model((*Episode)(nil)).
		Where("conversation_id = ? AND csat_response_id = ?", *m.ConversationID, m.ID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("survey answered: %w", err)
	}
	return ok, nil
}
