package config

import (
	"math"
	"strconv"
	"strings"
)

// LLMPrice is what a model's tokens cost, in US dollars per million.
type LLMPrice struct {
	Prompt     float64
	Completion float64
}

// prices reads LLM_PRICES: "model=prompt/completion" pairs separated by
// commas, in US dollars per million tokens, such as
// "gpt-4o-mini=0.15/0.60,gpt-4o=2.50/10".
func (r *reader) prices(name string) map[string]LLMPrice {
	raw := strings.TrimSpace(r.str(name, ""))
	out := map[string]LLMPrice{}
	if raw == "" {
		return out
	}
	const want = `"model=prompt/completion" pairs separated by commas, in dollars per million tokens (gpt-4o-mini=0.15/0.60)`
	for _, pair := range strings.Split(raw, ",") {
		model, cost, ok := strings.Cut(strings.TrimSpace(pair), "=")
		prompt, completion, ok2 := strings.Cut(cost, "/")
		p, err1 := strconv.ParseFloat(strings.TrimSpace(prompt), 64)
		c, err2 := strconv.ParseFloat(strings.TrimSpace(completion), 64)
		model = strings.TrimSpace(model)
		if !ok || !ok2 || model == "" || err1 != nil || err2 != nil || !(p >= 0 && c >= 0) || math.IsInf(p+c, 0) {
			r.fail(name, "must be "+want+", not "+strconv.Quote(pair))
			return out
		}
		if _, twice := out[model]; twice {
			r.fail(name, "names "+model+" twice")
			return out
		}
		out[model] = LLMPrice{Prompt: p, Completion: c}
	}
	return out
}
