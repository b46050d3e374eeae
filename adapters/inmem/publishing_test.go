package inmem_test

import (
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

func TestChannels(t *testing.T) {
	porttest.Channels(t, func(*testing.T) ports.Channels { return inmem.NewChannels() })
}

func TestCategories(t *testing.T) {
	porttest.Categories(t, func(*testing.T) ports.Categories { return inmem.NewCategories() })
}

func TestVotes(t *testing.T) {
	porttest.Votes(t, func(*testing.T) ports.Votes { return inmem.NewVotes() })
}

func TestComments(t *testing.T) {
	porttest.Comments(t, func(*testing.T) ports.Comments { return inmem.NewComments() })
}

func TestImageTags(t *testing.T) {
	porttest.ImageTags(t, func(*testing.T) porttest.ImageTagStore { return inmem.NewImages() })
}

func TestDraftTags(t *testing.T) {
	porttest.DraftTags(t, func(*testing.T) porttest.DraftTagStore { return inmem.NewDrafts() })
}

// stepClock is a clock tests move by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *stepClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestFeedCache(t *testing.T) {
	porttest.FeedCache(t, func(*testing.T) (ports.FeedCache, func(time.Duration)) {
		clock := &stepClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		return inmem.NewFeedCache(clock), clock.advance
	})
}
