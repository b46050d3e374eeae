// Package system provides the real clock and the ObjectId source.
//
// Place in the hexagon: an adapter for ports.Clock and ports.IDs. It
// imports the standard library, domain and ports only.
package system

import (
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Clock is the wall clock in UTC.
type Clock struct{}

// Now returns the current UTC time.
func (Clock) Now() time.Time { return time.Now().UTC() }

// IDs makes MongoDB-style ObjectIds: 4 bytes of seconds, 5 random bytes
// chosen per process, and a 3-byte counter.
type IDs struct {
	random  [5]byte
	counter atomic.Uint32
}

// NewIDs returns an id source seeded from the CSPRNG.
func NewIDs() *IDs {
	g := &IDs{}
	var seed [4]byte
	_, _ = rand.Read(g.random[:])
	_, _ = rand.Read(seed[:])
	g.counter.Store(binary.BigEndian.Uint32(seed[:]))
	return g
}

// NewID returns a fresh id.
func (g *IDs) NewID() domain.ID {
	var id domain.ID
	binary.BigEndian.PutUint32(id[0:4], uint32(time.Now().Unix()))
	copy(id[4:9], g.random[:])
	c := g.counter.Add(1)
	id[9], id[10], id[11] = byte(c>>16), byte(c>>8), byte(c)
	return id
}

var (
	_ ports.Clock = Clock{}
	_ ports.IDs   = (*IDs)(nil)
)
