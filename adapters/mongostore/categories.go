package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Categories = (*Categories)(nil)

const (
	colCategories    = "categories"
	keyCategoryAlias = "category.alias"
)

// categoryDoc is a category in the categories collection; its aliases are
// unique across categories through unique_keys ("category.alias:<alias>").
type categoryDoc struct {
	ID          bson.ObjectID `bson:"_id"`
	Name        string        `bson:"name"`
	Description string        `bson:"description"`
	Aliases     []string      `bson:"aliases"`
	Created     bson.DateTime `bson:"created"`
}

func toCategoryDoc(c *domain.Category) categoryDoc {
	return categoryDoc{ID: oid(c.ID), Name: c.Name, Description: c.Description, Aliases: lowerAliases(c.Aliases),
		Created: dt(c.Created)}
}

func (d *categoryDoc) category() *domain.Category {
	return &domain.Category{ID: did(d.ID), Name: d.Name, Description: d.Description,
		Aliases: append([]string(nil), d.Aliases...), Created: tm(d.Created)}
}

// Categories is the MongoDB ports.Categories. Use one value per database
// in a process.
type Categories struct {
	*aliased
}

// NewCategories returns the category store of db.
func NewCategories(db *mongo.Database) *Categories {
	return &Categories{aliased: newAliased(db, colCategories, keyCategoryAlias)}
}

// Create inserts c. ErrConflict "category with name already exists".
func (s *Categories) Create(ctx context.Context, c *domain.Category) error {
	d := toCategoryDoc(c)
	return translate(s.create(ctx, d.ID, d.Aliases, d, domain.ErrCategoryTaken), "create category", nil, domain.ErrCategoryTaken)
}

// Get returns a category. ErrNotFound.
func (s *Categories) Get(ctx context.Context, id domain.ID) (*domain.Category, error) {
	var d categoryDoc
	if err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: oid(id)}}).Decode(&d); err != nil {
		return nil, translate(err, "get category", domain.ErrCategoryNotFound, nil)
	}
	return d.category(), nil
}

// FindByAlias matches a lower-cased alias. ErrNotFound.
func (s *Categories) FindByAlias(ctx context.Context, alias string) (*domain.Category, error) {
	var d categoryDoc
	if err := s.findByAlias(ctx, alias, &d); err != nil {
		return nil, translate(err, "find category", domain.ErrCategoryNotFound, nil)
	}
	return d.category(), nil
}

// Update replaces c. ErrNotFound; ErrConflict "category with alias already
// exists".
func (s *Categories) Update(ctx context.Context, c *domain.Category) error {
	d := toCategoryDoc(c)
	err := s.replace(ctx, d.ID, d.Aliases, d, domain.ErrCategoryAlias, domain.ErrCategoryNotFound)
	return translate(err, "update category", domain.ErrCategoryNotFound, domain.ErrCategoryAlias)
}

// Delete removes a category and frees its aliases. ErrNotFound.
func (s *Categories) Delete(ctx context.Context, id domain.ID) error {
	return translate(s.remove(ctx, oid(id)), "delete category", domain.ErrCategoryNotFound, nil)
}

// List returns one page of categories by lower-cased name, then id.
func (s *Categories) List(ctx context.Context, ids []domain.ID, p ports.Page) ([]*domain.Category, int, error) {
	filter := bson.D{}
	if ids != nil {
		if len(ids) == 0 {
			return []*domain.Category{}, 0, nil
		}
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: oids(ids)}}})
	}
	docs, err := findAll[categoryDoc](ctx, s.c, filter, options.Find())
	if err != nil {
		return nil, 0, translate(err, "list categories", nil, nil)
	}
	all := make([]*domain.Category, len(docs))
	for i := range docs {
		all[i] = docs[i].category()
	}
	sortNamed(all, func(c *domain.Category) (string, domain.ID) { return c.Name, c.ID })
	skip, limit := pageOf(p.Page, p.Limit)
	return cut(all, skip, limit), len(all), nil
}
