// Package workflows holds aimsg's Temporal workflows: deterministic code that
// orders the steps of a conversation turn and holds no I/O of its own.
package workflows

import "go.temporal.io/sdk/temporal"

// Search attributes of aimsg's workflows, for `temporal workflow list
// --query` and the Web UI. They carry ids and enums only, never personal data.
var (
	UserIDKey         = temporal.NewSearchAttributeKeyKeyword("AimsgUserId")
	ChannelKey        = temporal.NewSearchAttributeKeyKeyword("AimsgChannel")
	ConversationIDKey = temporal.NewSearchAttributeKeyKeyword("AimsgConversationId")
	OutcomeKey        = temporal.NewSearchAttributeKeyKeyword("AimsgOutcome")
)

// SearchAttributeKeys lists every custom search attribute, for registration.
func SearchAttributeKeys() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{UserIDKey, ChannelKey, ConversationIDKey, OutcomeKey}
}
