package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
)

func TestConversationIDScheme(t *testing.T) {
	assert.Equal(t, "dm:3:7", domain.DirectConversationID(7, 3))
	assert.Equal(t, domain.DirectConversationID(3, 7), domain.DirectConversationID(7, 3))
	assert.Equal(t, "ai:42", domain.AIConversationID(42))

	c, err := domain.ParseConversationID("dm:3:7")
	require.NoError(t, err)
	assert.True(t, c.Has(3) && c.Has(7) && !c.Has(4))
	assert.EqualValues(t, 7, c.Other(3, 1))
	assert.Equal(t, "dm:3:7", c.ID())

	ai, err := domain.ParseConversationID("ai:42")
	require.NoError(t, err)
	assert.True(t, ai.AI && ai.Has(42) && !ai.Has(1))
	assert.EqualValues(t, 1, ai.Other(42, 1), "the assistant is the other side")

	for _, bad := range []string{"", "ai", "ai:", "ai:-1", "ai:+4", "dm:7:3", "dm:3:3", "dm:3", "dm:a:b", "xx:1:2", "dm:03:7"} {
		_, err := domain.ParseConversationID(bad)
		assert.ErrorIs(t, err, domain.ErrInvalid, bad)
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+1 (415) 555-2671": "+14155552671",
		"0014155552671":     "+14155552671",
		"+44 20 7946 0958":  "+442079460958",
		" +4915123456789 ":  "+4915123456789",
	} {
		got, err := domain.NormalizePhone(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"4155552671", "+1 555", "+999 1234", "phone"} {
		_, err := domain.NormalizePhone(bad)
		assert.ErrorIs(t, err, domain.ErrInvalid, bad)
	}
}
