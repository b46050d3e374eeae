package app

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// ChannelInfo is a channel with its count of listed images.
type ChannelInfo struct {
	*domain.Channel
	Count int
}

// CategoryInfo is a category with its count of channels.
type CategoryInfo struct {
	*domain.Category
	Count int
}

// ChannelListInput is the query of GET /channels (spec §6.3). Name,
// Category and Channel are nil when absent.
type ChannelListInput struct {
	Name, Category, Channel *string
	// Sort is "" (name, or the shared count when Channel is given),
	// "name" or "-count".
	Sort string
	ports.Page
}

// ListChannels lists channels with the filters combined (spec §6.3).
func (a *App) ListChannels(ctx context.Context, in ChannelListInput) ([]ChannelInfo, int, error) {
	if in.Sort != "" && in.Sort != "name" && in.Sort != "-count" {
		return nil, 0, domain.E(domain.ErrInvalid, "sort must be one of name, -count")
	}
	var q ports.ChannelQuery
	if in.Name != nil {
		ch, err := a.findChannel(ctx, *in.Name)
		if err != nil {
			return nil, 0, err
		}
		if ch == nil {
			return []ChannelInfo{}, 0, nil
		}
		q.IDs = []domain.ID{ch.ID}
	}
	if in.Category != nil {
		cat, err := a.findCategory(ctx, *in.Category)
		if err != nil {
			return nil, 0, err
		}
		if cat == nil {
			return []ChannelInfo{}, 0, nil
		}
		q.Category = cat.ID
	}
	var shared map[domain.ID]int
	if in.Channel != nil {
		ch, err := a.findChannel(ctx, *in.Channel)
		if err != nil {
			return nil, 0, err
		}
		if ch == nil {
			return []ChannelInfo{}, 0, nil
		}
		if shared, err = a.ImageTags.ChannelCounts(ctx, ch.ID, q.IDs); err != nil {
			return nil, 0, err
		}
		q.IDs = []domain.ID{}
		for id, n := range shared {
			if n > 0 && id != ch.ID {
				q.IDs = append(q.IDs, id)
			}
		}
	}
	if shared == nil && in.Sort != "-count" {
		// By name: the store pages.
		q.Page = in.Page
		chans, total, err := a.Channels.List(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		out, err := a.withCounts(ctx, chans)
		return out, total, err
	}
	chans, total, err := a.Channels.List(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	all, err := a.withCounts(ctx, chans)
	if err != nil {
		return nil, 0, err
	}
	key := func(c ChannelInfo) int { return c.Count }
	if shared != nil && in.Sort != "-count" && in.Sort != "name" {
		key = func(c ChannelInfo) int { return shared[c.ID] }
	}
	if in.Sort != "name" {
		// The store's order (name, then id) breaks ties.
		sort.SliceStable(all, func(i, j int) bool { return key(all[i]) > key(all[j]) })
	}
	return pageOf(all, in.Page), total, nil
}

// pageOf cuts one page out of items; a limit of 0 means all.
func pageOf[T any](items []T, p ports.Page) []T {
	if p.Limit <= 0 {
		return items
	}
	start := p.Page * p.Limit
	if start >= len(items) || start < 0 {
		return []T{}
	}
	return items[start:min(start+p.Limit, len(items))]
}

// withCounts adds each channel's count of listed images.
func (a *App) withCounts(ctx context.Context, chans []*domain.Channel) ([]ChannelInfo, error) {
	return withCounts(ctx, chans, a.channelKind().id, func(ctx context.Context, ids []domain.ID) (map[domain.ID]int, error) {
		return a.ImageTags.ChannelCounts(ctx, domain.NilID, ids)
	}, func(c *domain.Channel, n int) ChannelInfo { return ChannelInfo{Channel: c, Count: n} })
}

func (a *App) channelInfo(ctx context.Context, c *domain.Channel) (*ChannelInfo, error) {
	return first(a.withCounts(ctx, []*domain.Channel{c}))
}

// findChannel resolves a name through aliases; nil when none matches.
func (a *App) findChannel(ctx context.Context, name string) (*domain.Channel, error) {
	return a.channelKind().find(ctx, name)
}

// findCategory resolves a name through aliases; nil when none matches.
func (a *App) findCategory(ctx context.Context, name string) (*domain.Category, error) {
	return a.categoryKind().find(ctx, name)
}

// loadChannel finds a channel by its hex id; malformed ids are "channel not
// found".
func (a *App) loadChannel(ctx context.Context, id string) (*domain.Channel, error) {
	return a.channelKind().load(ctx, id)
}

// GetChannel returns one channel with its count (any caller).
func (a *App) GetChannel(ctx context.Context, id string) (*ChannelInfo, error) {
	ch, err := a.loadChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.channelInfo(ctx, ch)
}

// CreateChannel makes a channel (moderators).
func (a *App) CreateChannel(ctx context.Context, caller *domain.User, name, description *string) (*ChannelInfo, error) {
	ch, err := a.channelKind().create(ctx, a, caller, name, description)
	if err != nil {
		return nil, err
	}
	return &ChannelInfo{Channel: ch}, nil
}

// UpdateChannel renames or re-describes a channel (moderators). A rename
// keeps the old aliases and renames the tags pointing to the channel.
func (a *App) UpdateChannel(ctx context.Context, caller *domain.User, id string, name, description *string) (*ChannelInfo, error) {
	var info *ChannelInfo
	err := a.channelKind().rename(ctx, a, caller, id, name, description, func(ch *domain.Channel, renamed bool) (err error) {
		if renamed {
			if err := a.ImageTags.RenameTagsOfChannel(ctx, ch.ID, ch.Name); err != nil {
				return err
			}
			if err := a.DraftTags.RenameTagsOfChannel(ctx, ch.ID, ch.Name); err != nil {
				return err
			}
		}
		info, err = a.channelInfo(ctx, ch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

// DeleteChannel removes a channel and every tag pointing to it; images
// left without tags become unpublished (moderators).
func (a *App) DeleteChannel(ctx context.Context, caller *domain.User, id string) error {
	return a.channelKind().remove(ctx, caller, id, func(ctx context.Context, ch *domain.Channel) error {
		if _, err := a.ImageTags.RemoveTagsOfChannel(ctx, ch.ID); err != nil {
			return err
		}
		_, err := a.DraftTags.RemoveTagsOfChannel(ctx, ch.ID)
		return err
	})
}

// SetChannelAliases replaces a channel's aliases (moderators) and returns
// the final list.
func (a *App) SetChannelAliases(ctx context.Context, caller *domain.User, id string, aliases []string) ([]string, error) {
	return a.channelKind().replaceAliases(ctx, a, caller, id, aliases)
}

// ListChannelTags returns a channel's category tags (any caller).
func (a *App) ListChannelTags(ctx context.Context, id string) ([]domain.CategoryTag, error) {
	ch, err := a.loadChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	return ch.Tags, nil
}

// GetChannelTag returns one category tag of a channel (any caller).
func (a *App) GetChannelTag(ctx context.Context, id, tagID string) (domain.CategoryTag, error) {
	ch, err := a.loadChannel(ctx, id)
	if err != nil {
		return domain.CategoryTag{}, err
	}
	tid, ok := domain.ParseHex(tagID)
	if !ok {
		return domain.CategoryTag{}, domain.ErrTagNotFound
	}
	return ch.CategoryTag(tid)
}

// TagChannel tags a channel with the category called name, creating the
// category when no alias matches (moderators).
func (a *App) TagChannel(ctx context.Context, caller *domain.User, id string, name *string) (domain.CategoryTag, error) {
	k := a.channelKind()
	ch, err := k.access(ctx, caller, id)
	if err != nil {
		return domain.CategoryTag{}, err
	}
	if name == nil {
		return domain.CategoryTag{}, domain.ErrTagNameMissing
	}
	if _, err := domain.ValidateTagName(*name); err != nil {
		return domain.CategoryTag{}, err
	}
	cat, err := a.ensureCategory(ctx, *name)
	if err != nil {
		return domain.CategoryTag{}, err
	}
	var tag domain.CategoryTag
	err = k.relocked(ctx, a, id, ch, func(ch *domain.Channel) (err error) {
		if tag, err = ch.AddCategoryTag(cat, a.IDs.NewID()); err != nil {
			return err
		}
		return notFound(a.Channels.Update(ctx, ch), domain.ErrChannelNotFound)
	})
	if err != nil {
		return domain.CategoryTag{}, err
	}
	return tag, nil
}

// UntagChannel removes a category tag from a channel (moderators).
func (a *App) UntagChannel(ctx context.Context, caller *domain.User, id, tagID string) error {
	return a.channelKind().change(ctx, a, caller, id, func(ch *domain.Channel) error {
		tid, ok := domain.ParseHex(tagID)
		if !ok {
			return domain.ErrTagNotFound
		}
		if err := ch.RemoveCategoryTag(tid); err != nil {
			return err
		}
		return notFound(a.Channels.Update(ctx, ch), domain.ErrChannelNotFound)
	})
}

// ensureCategory finds a category by alias or creates it; concurrent
// callers with one new name end up with the same category.
func (a *App) ensureCategory(ctx context.Context, name string) (*domain.Category, error) {
	return findOrCreate(ctx, func() (*domain.Category, bool, error) {
		c, err := a.findCategory(ctx, name)
		return c, c != nil, err
	}, func() (*domain.Category, error) {
		n := strings.TrimSpace(name)
		c, err := domain.NewCategory(a.IDs.NewID(), &n, nil, a.now())
		if err != nil {
			return nil, err
		}
		return c, a.Categories.Create(ctx, c)
	}, domain.ErrCategoryTaken)
}

// ListCategories lists categories by name; name filters by alias (spec
// §6.4).
func (a *App) ListCategories(ctx context.Context, name *string, p ports.Page) ([]CategoryInfo, int, error) {
	var ids []domain.ID
	if name != nil {
		c, err := a.findCategory(ctx, *name)
		if err != nil {
			return nil, 0, err
		}
		if c == nil {
			return []CategoryInfo{}, 0, nil
		}
		ids = []domain.ID{c.ID}
	}
	cats, total, err := a.Categories.List(ctx, ids, p)
	if err != nil {
		return nil, 0, err
	}
	out, err := a.categoryCounts(ctx, cats)
	return out, total, err
}

func (a *App) categoryCounts(ctx context.Context, cats []*domain.Category) ([]CategoryInfo, error) {
	return withCounts(ctx, cats, a.categoryKind().id, a.Channels.CountByCategory,
		func(c *domain.Category, n int) CategoryInfo { return CategoryInfo{Category: c, Count: n} })
}

func (a *App) categoryInfo(ctx context.Context, c *domain.Category) (*CategoryInfo, error) {
	return first(a.categoryCounts(ctx, []*domain.Category{c}))
}

// GetCategory returns one category with its count (any caller).
func (a *App) GetCategory(ctx context.Context, id string) (*CategoryInfo, error) {
	c, err := a.categoryKind().load(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.categoryInfo(ctx, c)
}

// CreateCategory makes a category (moderators).
func (a *App) CreateCategory(ctx context.Context, caller *domain.User, name, description *string) (*CategoryInfo, error) {
	c, err := a.categoryKind().create(ctx, a, caller, name, description)
	if err != nil {
		return nil, err
	}
	return &CategoryInfo{Category: c}, nil
}

// UpdateCategory renames or re-describes a category (moderators); a rename
// renames the channel tags pointing to it.
func (a *App) UpdateCategory(ctx context.Context, caller *domain.User, id string, name, description *string) (*CategoryInfo, error) {
	var info *CategoryInfo
	err := a.categoryKind().rename(ctx, a, caller, id, name, description, func(c *domain.Category, renamed bool) (err error) {
		if renamed {
			if err := a.Channels.RenameCategoryTags(ctx, c.ID, c.Name); err != nil {
				return err
			}
		}
		info, err = a.categoryInfo(ctx, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

// DeleteCategory removes a category and the channel tags pointing to it
// (moderators).
func (a *App) DeleteCategory(ctx context.Context, caller *domain.User, id string) error {
	return a.categoryKind().remove(ctx, caller, id, func(ctx context.Context, c *domain.Category) error {
		return a.Channels.RemoveCategoryTags(ctx, c.ID)
	})
}

// SetCategoryAliases replaces a category's aliases (moderators) and
// returns the final list.
func (a *App) SetCategoryAliases(ctx context.Context, caller *domain.User, id string, aliases []string) ([]string, error) {
	return a.categoryKind().replaceAliases(ctx, a, caller, id, aliases)
}

// conflict maps a store's ErrConflict to the given public error and keeps
// other errors.
func conflict(err error, public *domain.Error) error {
	if errors.Is(err, domain.ErrConflict) {
		return public
	}
	return err
}

// CheckChannelAccess runs the checks of a moderator's change to a channel
// that come before its input (spec §1.5): the level, then the channel.
func (a *App) CheckChannelAccess(ctx context.Context, caller *domain.User, id string) error {
	_, err := a.channelKind().access(ctx, caller, id)
	return err
}

// CheckCategoryAccess is CheckChannelAccess for categories.
func (a *App) CheckCategoryAccess(ctx context.Context, caller *domain.User, id string) error {
	_, err := a.categoryKind().access(ctx, caller, id)
	return err
}
