package mongostore

import "sync"

// guard serialises this process's writes to one collection: a write to one
// document holds the collection lock shared and the document's lock; a
// write to many documents holds the collection lock alone. FerretDB v1
// updates are read-modify-write without isolation, so without this two
// concurrent updates of one document may lose one (see doc.go).
type guard struct {
	all  sync.RWMutex
	mu   sync.Mutex
	keys map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

// one locks the document key and returns its unlock.
func (g *guard) one(key string) func() {
	g.all.RLock()
	g.mu.Lock()
	if g.keys == nil {
		g.keys = map[string]*keyLock{}
	}
	l := g.keys[key]
	if l == nil {
		l = &keyLock{}
		g.keys[key] = l
	}
	l.refs++
	g.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		g.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(g.keys, key)
		}
		g.mu.Unlock()
		g.all.RUnlock()
	}
}

// many locks the whole collection and returns its unlock.
func (g *guard) many() func() {
	g.all.Lock()
	return g.all.Unlock
}
