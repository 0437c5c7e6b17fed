// Package domain holds aimsg's entities (users, roles, sessions, messages,
// conversations, reports), their rules and the queries that read and write
// them. Queries take a bun.IDB so that one function runs alone or inside a
// transaction, on PostgreSQL and SQLite alike. Nothing here knows about HTTP,
// Temporal or the messaging providers.
package domain
