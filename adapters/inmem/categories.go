package inmem

import (
	"context"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Categories = (*Categories)(nil)

// Categories is an in-memory ports.Categories. Aliases are unique across
// categories.
type Categories struct {
	aliased[domain.Category]
}

// NewCategories returns an empty category store.
func NewCategories() *Categories {
	return &Categories{aliased[domain.Category]{byID: map[domain.ID]*domain.Category{}, kind: aliasedKind[domain.Category]{
		id:       func(c *domain.Category) domain.ID { return c.ID },
		name:     func(c *domain.Category) string { return c.Name },
		aliases:  func(c *domain.Category) []string { return c.Aliases },
		clone:    cloneCategory,
		notFound: domain.ErrCategoryNotFound, taken: domain.ErrCategoryTaken, aliasTaken: domain.ErrCategoryAlias,
	}}}
}

func cloneCategory(c *domain.Category) *domain.Category {
	cp := *c
	cp.Aliases = append([]string(nil), c.Aliases...)
	cp.Created = ms(c.Created)
	return &cp
}

// List returns one page of categories by lower-cased name.
func (s *Categories) List(ctx context.Context, ids []domain.ID, p ports.Page) ([]*domain.Category, int, error) {
	want := idSet(ids)
	return s.list(func(c *domain.Category) bool { return want == nil || want[c.ID] }, p)
}
