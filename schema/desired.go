package schema

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
)

// table is a domain model with the constraints bun's tags cannot say.
type table struct {
	model       any
	foreignKeys []string
}

// tables is the desired schema, in creation order. New columns go on the
// models in domain/; `make migrate-diff` turns the difference into SQL.
var tables = []table{
	{model: (*domain.User)(nil)},
	{model: (*domain.Role)(nil)},
	{model: (*domain.UserRole)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
		"(role_id) REFERENCES roles (id) ON DELETE CASCADE",
	}},
	{model: (*domain.Session)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
	}},
	{model: (*domain.RefreshToken)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
		"(session_id) REFERENCES sessions (id) ON DELETE CASCADE",
	}},
	{model: (*domain.Message)(nil), foreignKeys: []string{
		"(sender_id) REFERENCES users (id) ON DELETE CASCADE",
		"(recipient_id) REFERENCES users (id) ON DELETE CASCADE",
		"(parent_id) REFERENCES messages (id) ON DELETE SET NULL",
		"(agent_id) REFERENCES users (id) ON DELETE SET NULL",
	}},
	{model: (*domain.Report)(nil), foreignKeys: []string{
		"(reporter_id) REFERENCES users (id) ON DELETE CASCADE",
		"(resolved_by) REFERENCES users (id) ON DELETE SET NULL",
	}},
	{model: (*domain.TelegramLink)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
	}},
	{model: (*domain.ThrottleHit)(nil)},
	{model: (*domain.TelegramLinkCode)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
	}},
	{model: (*domain.EarlyReport)(nil)},
	{model: (*domain.Delivery)(nil), foreignKeys: []string{
		"(message_id) REFERENCES messages (id) ON DELETE CASCADE",
	}},
	{model: (*domain.Attachment)(nil), foreignKeys: []string{
		"(message_id) REFERENCES messages (id) ON DELETE CASCADE",
	}},
	{model: (*domain.Feedback)(nil), foreignKeys: []string{
		"(message_id) REFERENCES messages (id) ON DELETE CASCADE",
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
	}},
	{model: (*domain.MessageCount)(nil)},
	{model: (*domain.ConversationCount)(nil)},
	{model: (*domain.UserConversation)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
	}},
	{model: (*domain.LiveEvent)(nil)},
	{model: (*domain.ConversationState)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
		"(agent_id) REFERENCES users (id) ON DELETE SET NULL",
	}},
	{model: (*domain.EventStream)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
	}},
	{model: (*domain.LLMCall)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
	}},
	{model: (*domain.Memory)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
	}},
	{model: (*domain.AuditEntry)(nil), foreignKeys: []string{
		"(actor_id) REFERENCES users (id) ON DELETE SET NULL",
	}},
	{model: (*domain.WebhookSubscription)(nil), foreignKeys: []string{
		"(created_by) REFERENCES users (id) ON DELETE SET NULL",
	}},
	{model: (*domain.WebhookOutbox)(nil)},
	{model: (*domain.WebhookDelivery)(nil), foreignKeys: []string{
		"(subscription_id) REFERENCES webhook_subscriptions (id) ON DELETE CASCADE",
	}},
	{model: (*domain.Article)(nil), foreignKeys: []string{
		"(updated_by) REFERENCES users (id) ON DELETE SET NULL",
	}},
	{model: (*domain.Passage)(nil), foreignKeys: []string{
		"(article_id) REFERENCES articles (id) ON DELETE CASCADE",
	}},
	{model: (*domain.Agent)(nil), foreignKeys: []string{
		"(updated_by) REFERENCES users (id) ON DELETE SET NULL",
	}},
	{model: (*domain.AgentRevision)(nil)},
	{model: (*domain.ToolApproval)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
		"(decided_by) REFERENCES users (id) ON DELETE SET NULL",
	}},
	{model: (*domain.Episode)(nil), foreignKeys: []string{
		"(user_id) REFERENCES users (id) ON DELETE CASCADE",
		"(csat_message_id) REFERENCES messages (id) ON DELETE SET NULL",
	}},
}

// index is a secondary index; unique constraints are on the models.
type index struct {
	table, name string
	columns     []string
}

// indexes back the foreign keys and every list query (newest first by id).
var indexes = []index{
	{"user_roles", "user_roles_role_id_idx", []string{"role_id"}},
	{"sessions", "sessions_user_id_idx", []string{"user_id"}},
	{"refresh_tokens", "refresh_tokens_user_id_idx", []string{"user_id"}},
	{"refresh_tokens", "refresh_tokens_session_id_idx", []string{"session_id"}},
	{"messages", "messages_sender_id_id_idx", []string{"sender_id", "id"}},
	{"messages", "messages_recipient_id_id_idx", []string{"recipient_id", "id"}},
	{"messages", "messages_conversation_id_id_idx", []string{"conversation_id", "id"}},
	{"messages", "messages_parent_id_idx", []string{"parent_id"}},
	{"messages", "messages_turn_status_id_idx", []string{"turn_status", "id"}},
	{"messages", "messages_agent_id_idx", []string{"agent_id"}},
	{"messages", "messages_address_id_idx", []string{"address", "id"}},
	{"conversation_states", "conversation_states_user_id_idx", []string{"user_id"}},
	{"conversation_states", "conversation_states_agent_id_idx", []string{"agent_id"}},
	{"reports", "reports_reporter_id_id_idx", []string{"reporter_id", "id"}},
	{"reports", "reports_status_id_idx", []string{"status", "id"}},
	{"reports", "reports_resolved_by_idx", []string{"resolved_by"}},
	{"throttle_hits", "throttle_hits_key_created_at_idx", []string{"key", "created_at"}},
	{"event_streams", "event_streams_user_id_idx", []string{"user_id"}},
	{"event_streams", "event_streams_address_idx", []string{"address"}},
	{"event_streams", "event_streams_process_idx", []string{"process"}},
	{"llm_calls", "llm_calls_user_id_created_at_idx", []string{"user_id", "created_at"}},
	{"conversation_memories", "conversation_memories_user_id_idx", []string{"user_id"}},
	{"audit_log", "audit_log_actor_id_id_idx", []string{"actor_id", "id"}},
	{"audit_log", "audit_log_action_id_idx", []string{"action", "id"}},
	{"telegram_link_codes", "telegram_link_codes_user_id_idx", []string{"user_id"}},
	{"webhook_subscriptions", "webhook_subscriptions_created_by_idx", []string{"created_by"}},
	{"webhook_deliveries", "webhook_deliveries_subscription_id_id_idx", []string{"subscription_id", "id"}},
	{"webhook_deliveries", "webhook_deliveries_started_at_idx", []string{"started_at"}},
	{"articles", "articles_collection_id_idx", []string{"collection", "id"}},
	{"articles", "articles_updated_by_idx", []string{"updated_by"}},
	{"agents", "agents_updated_by_idx", []string{"updated_by"}},
	{"tool_approvals", "tool_approvals_conversation_id_status_idx", []string{"conversation_id", "status"}},
	{"tool_approvals", "tool_approvals_user_id_idx", []string{"user_id"}},
	{"tool_approvals", "tool_approvals_decided_by_idx", []string{"decided_by"}},
	// Analytics read a period's episodes and find a rated message's
	// episode by conversation; a message's survey is found by its message.
	{"episodes", "episodes_ended_at_idx", []string{"ended_at"}},
	{"episodes", "episodes_conversation_id_first_message_id_idx", []string{"conversation_id", "first_message_id"}},
	{"episodes", "episodes_csat_message_id_idx", []string{"csat_message_id"}},
	{"episodes", "episodes_user_id_idx", []string{"user_id"}},
}

// expressionIndex is a unique index on an expression.
type expressionIndex struct {
	table, name, expr string
}

// expressionIndexes hold what a column's unique tag cannot: usernames are
// unique whatever their case (domain.UsernameKey).
var expressionIndexes = []expressionIndex{
	{"users", "users_username_fold_key", "lower(username)"},
}

// createDesired builds the schema the models expect in an empty database.
func createDesired(ctx context.Context, db bun.IDB) error {
	for _, t := range tables {
		q := db.NewCreateTable().Model(t.model)
		for _, fk := range t.foreignKeys {
			q = q.ForeignKey(fk)
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("create table for %T: %w", t.model, err)
		}
	}
	for _, ix := range indexes {
		if _, err := db.NewCreateIndex().Table(ix.table).Index(ix.name).Column(ix.columns...).Exec(ctx); err != nil {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
	}
	for _, ix := range expressionIndexes {
		if _, err := db.NewCreateIndex().Unique().Table(ix.table).Index(ix.name).ColumnExpr(ix.expr).Exec(ctx); err != nil {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
	}
	for _, stmt := range searchStructures[database.Dialect(db)] {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create search structure: %w", err)
		}
	}
	return nil
}

// searchStructures are the full-text search structures of each dialect
// that no model declares: the tables, columns and indexes the schema
// comparison sees. The triggers that fill them are in the migrations
// (20261207160000_knowledge.sql); docs/knowledge.md says how they work.
var searchStructures = map[config.Dialect][]string{
	config.Postgres: {
		// pg_trgm lives in schema public, shared by every schema of the
		// database; the migration says why.
		pgTrgm,
		`ALTER TABLE article_passages ADD COLUMN search tsvector NOT NULL`,
		`CREATE INDEX article_passages_search_idx ON article_passages USING gin (search)`,
		`CREATE TABLE knowledge_lexemes (lexeme text NOT NULL, passages bigint NOT NULL, PRIMARY KEY (lexeme))`,
		`CREATE INDEX knowledge_lexemes_trgm_idx ON knowledge_lexemes USING gist (lower(lexeme) public.gist_trgm_ops)`,
	},
	config.SQLite: {
		"CREATE VIRTUAL TABLE article_passages_fts USING fts5(title, heading_path, text, " +
			"content='article_passages', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
		"CREATE VIRTUAL TABLE article_passages_vocab USING fts5vocab(article_passages_fts, 'row')",
	},
}

// pgTrgm installs pg_trgm in schema public unless it is there.
const pgTrgm = `DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm' AND extnamespace <> 'public'::regnamespace) THEN
    RAISE EXCEPTION 'pg_trgm is installed in another schema than public: ALTER EXTENSION pg_trgm SET SCHEMA public';
  END IF;
  CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
EXCEPTION WHEN unique_violation OR duplicate_object THEN
  NULL;
END
$$`
