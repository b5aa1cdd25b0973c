package bench

import (
	"errors"
	"sort"
	"sync"
)

// ErrIncomplete is returned by Run, after the report is written, when a
// connection failed or dropped, a publish failed, or a delivery was missing
// or duplicated: the server did not do everything asked of it.
var ErrIncomplete = errors.New("bench: incomplete run")

// ErrInterrupted is returned by Run, after the partial report is written,
// when its context ended before the run finished. It wraps the context's
// cause too.
var ErrInterrupted = errors.New("bench: interrupted")

// maxExample bounds the example error message kept per kind.
const maxExample = 200

// errorLog counts errors by kind and keeps the first message of each as an
// example. Kinds are short fixed strings (plus a status or close code) so
// the report groups them; the message says what exactly happened.
type errorLog struct {
	mu     sync.Mutex
	byKind map[string]*ErrorCount
}

// add counts one error of kind.
func (l *errorLog) add(kind string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byKind == nil {
		l.byKind = make(map[string]*ErrorCount)
	}
	e, ok := l.byKind[kind]
	if !ok {
		e = &ErrorCount{Kind: kind}
		if err != nil {
			e.Example = err.Error()
			if len(e.Example) > maxExample {
				e.Example = e.Example[:maxExample] + "…"
			}
		}
		l.byKind[kind] = e
	}
	e.Count++
}

// list returns the counts, most frequent first.
func (l *errorLog) list() []ErrorCount {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ErrorCount, 0, len(l.byKind))
	for _, e := range l.byKind {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}
