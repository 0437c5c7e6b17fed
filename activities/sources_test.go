package activities_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
)

func TestSMSSegmentsCountsLikeCarriers(t *testing.T) {
	assert.Equal(t, 1, activities.SMSSegments(strings.Repeat("a", 160)))
	assert.Equal(t, 2, activities.SMSSegments(strings.Repeat("a", 161)))
	assert.Equal(t, 2, activities.SMSSegments(strings.Repeat("a", 306)))
	assert.Equal(t, 3, activities.SMSSegments(strings.Repeat("a", 307)))
	assert.Equal(t, 2, activities.SMSSegments(strings.Repeat("[", 81)), "an extended character takes two")
	assert.Equal(t, 1, activities.SMSSegments(strings.Repeat("ж", 70)))
	assert.Equal(t, 2, activities.SMSSegments(strings.Repeat("ж", 71)), "one character outside GSM-7 makes it UCS-2")
}

func TestSMSRepliesEndWithTheirSourcesWithinOneMoreSegment(t *testing.T) {
	url := "https://www.help.example.com/lockers"
	long := "https://help.example.com/articles/2026/how-long-does-a-locker-keep-a-parcel"
	reply := &domain.Message{Content: "A locker keeps your parcel for 72 hours [1]; returns are free [2].",
		Citations: []domain.Citation{{N: 1, Title: "Parcel lockers", URL: &url}, {N: 2, Title: "Returns", URL: &long}}}
	got := activities.SMSText(reply)
	assert.Equal(t, reply.Content+"\n\nSources: [1] Parcel lockers help.example.com/lockers; [2] Returns", got,
		"short links shown, a long one left out")

	// A text that fills its segments: the sources cost one more at most.
	reply.Content = strings.Repeat("a", 140) + " [1] [2]"
	reply.Citations[0].Title = strings.Repeat("A very long title of an article ", 6)
	got = activities.SMSText(reply)
	assert.LessOrEqual(t, activities.SMSSegments(got), activities.SMSSegments(reply.Content)+1)
	assert.Equal(t, 2, activities.SMSSegments(got))
	assert.Contains(t, got, "Sources: [1] A very long title of...; [2] Returns")

	reply.Citations = nil
	assert.Equal(t, reply.Content, activities.SMSText(reply), "nothing cited, nothing added")
}

func TestTelegramRepliesListTheirSourcesWithLinks(t *testing.T) {
	url := "https://help.example.com/lockers"
	reply := &domain.Message{Content: "72 hours [1].",
		Citations: []domain.Citation{{N: 1, Title: "Parcel lockers", Heading: "How long a parcel stays", URL: &url}}}
	assert.Equal(t, "72 hours [1].\n\nSources:\n[1] Parcel lockers — How long a parcel stays https://help.example.com/lockers",
		activities.TelegramText(reply))
}
