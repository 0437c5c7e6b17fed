package domain

// Page is a window of a list: at most Limit rows after skipping Offset.
type Page struct {
	Limit  int
	Offset int
}

// Page sizes for every list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)
