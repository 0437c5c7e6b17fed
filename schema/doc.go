// Package schema owns the database schema: the versioned SQL migrations of
// each dialect (embedded, with their atlas.sum), the code that applies them
// under a lock, one transaction per file, and the desired schema derived from
// the domain models, from which new migrations are planned.
package schema
