package domain

import (
	"strconv"
	"strings"
)

// Citation is a source a reply cites: a knowledge base passage the
// assistant was shown under the number N and referred to as [N] in its
// text. It keeps the article's title and url as they were when the reply
// was written, so an article edited or deleted since still shows where
// the answer came from.
type Citation struct {
	N         int     `json:"n"`
	ArticleID int64   `json:"article_id"`
	Title     string  `json:"title"`
	URL       *string `json:"url"`
	// Heading is the passage's heading path ("" for the article's top).
	Heading string `json:"heading"`
}

// CitedNumbers are the source numbers a text refers to, in the order they
// first appear: [1], [2][3] and [1, 4] all count. Numbers are 1 to 999;
// "[2020]" or "[x]" is no reference.
func CitedNumbers(text string) []int {
	var out []int
	seen := map[int]bool{}
	for rest := text; ; {
		open := strings.IndexByte(rest, '[')
		if open < 0 {
			return out
		}
		rest = rest[open+1:]
		end := strings.IndexByte(rest, ']')
		if end < 0 || end > 40 {
			continue
		}
		var nums []int
		for part := range strings.SplitSeq(rest[:end], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || n < 1 || n > 999 {
				nums = nil
				break
			}
			nums = append(nums, n)
		}
		for _, n := range nums {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		rest = rest[end+1:]
	}
}

// Cited keeps the sources of shown that text refers to, in the order it
// first refers to them; a number no source has is left out (a model that
// invents a reference cites nothing).
func Cited(text string, shown []Citation) []Citation {
	var out []Citation
	for _, n := range CitedNumbers(text) {
		for _, c := range shown {
			if c.N == n {
				out = append(out, c)
				break
			}
		}
	}
	return out
}
