package inmem_test

import (
	"testing"

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
