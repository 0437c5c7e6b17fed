package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aimsg/aimsg/domain"
)

func TestCitedNumbersReadsTheWaysModelsCite(t *testing.T) {
	for text, want := range map[string][]int{
		"A locker keeps it for 72 hours [1].":         {1},
		"Yes [2][1], and returns are free [2].":       {2, 1},
		"See [1, 3] and [ 4 ].":                       {1, 3, 4},
		"Founded in [2020]... no, [x], [], [0], [-1]": nil,
		"An open [1 with no end":                      nil,
		"[1000] is too high, [999] is not":            {999},
		"[1] then [a, 2] then [2]":                    {1, 2},
	} {
		assert.Equal(t, want, domain.CitedNumbers(text), text)
	}
}

func TestCitedKeepsOnlySourcesTheTextNames(t *testing.T) {
	url := "https://help.example.com/lockers"
	shown := []domain.Citation{{N: 1, ArticleID: 7, Title: "Lockers", URL: &url}, {N: 2, ArticleID: 9, Title: "Returns"}}
	assert.Equal(t, []domain.Citation{shown[1], shown[0]}, domain.Cited("Returns [2], lockers [1], and [5].", shown))
	assert.Empty(t, domain.Cited("Made up [3].", shown), "a number no passage had cites nothing")
	assert.Empty(t, domain.Cited("No sources at all.", shown))
}
