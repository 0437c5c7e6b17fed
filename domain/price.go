package domain

// Price is what a model's tokens cost, in US dollars per million.
type Price struct {
	Prompt     float64
	Completion float64
}

// Prices are the prices of models by name (LLM_PRICES); a model without
// one costs nothing, as far as aimsg can tell.
type Prices map[string]Price

// Cost is what a model's tokens cost, in US dollars.
func (p Prices) Cost(model string, prompt, completion int64) float64 {
	price, ok := p[model]
	if !ok {
		return 0
	}
	return (float64(prompt)*price.Prompt + float64(completion)*price.Completion) / 1e6
}

// PricesOf are the prices of the configuration (config.LLMPrices), which
// has its own type of the same shape.
func PricesOf[P ~struct{ Prompt, Completion float64 }](m map[string]P) Prices {
	out := make(Prices, len(m))
	for model, p := range m {
		out[model] = Price(p)
	}
	return out
}
