package store

import "strings"

// MaxSearchQuery bounds a full-text query.
const MaxSearchQuery = 256

// NormalizeQuery trims q and checks its length.
func NormalizeQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return "", Invalid("q", "must not be empty")
	case len(q) > MaxSearchQuery:
		return "", Invalid("q", "longer than %d bytes", MaxSearchQuery)
	}
	return q, nil
}
