package mongostore

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Users = (*Users)(nil)

var (
	errEmailTaken    = domain.E(domain.ErrConflict, "user with email already exists")
	errUsernameTaken = domain.E(domain.ErrConflict, "user with username already exists")
	errUserExists    = domain.E(domain.ErrConflict, "user already exists")
)

// userDoc is a user in the users collection. Anonymous users have no
// email or username fields at all, so the sparse unique indexes on the
// lower-cased copies never see them.
type userDoc struct {
	ID           bson.ObjectID `bson:"_id"`
	Username     string        `bson:"username,omitempty"`
	UsernameLC   string        `bson:"username_lc,omitempty"`
	Email        string        `bson:"email,omitempty"`
	EmailLC      string        `bson:"email_lc,omitempty"`
	PasswordHash string        `bson:"password_hash,omitempty"`
	Level        int           `bson:"level"`
	Created      bson.DateTime `bson:"created"`
	Deleted      bool          `bson:"deleted"`
	System       bool          `bson:"system"`
	Runs         int           `bson:"runs"`
	Views        int           `bson:"views"`
	Copies       int           `bson:"copies"`
	Cuts         int           `bson:"cuts"`
	Pastes       int           `bson:"pastes"`
}

func toUserDoc(u *domain.User) userDoc {
	return userDoc{
		ID:           oid(u.ID),
		Username:     u.Username,
		UsernameLC:   strings.ToLower(u.Username),
		Email:        u.Email,
		EmailLC:      strings.ToLower(u.Email),
		PasswordHash: u.PasswordHash,
		Level:        int(u.Level),
		Created:      dt(u.Created),
		Deleted:      u.Deleted,
		System:       u.System,
		Runs:         u.Stats.Runs,
		Views:        u.Stats.Views,
		Copies:       u.Stats.Copies,
		Cuts:         u.Stats.Cuts,
		Pastes:       u.Stats.Pastes,
	}
}

func (d *userDoc) user() *domain.User {
	return &domain.User{
		ID:           did(d.ID),
		Username:     d.Username,
		Email:        d.Email,
		PasswordHash: d.PasswordHash,
		Level:        domain.Level(d.Level),
		Created:      tm(d.Created),
		Deleted:      d.Deleted,
		System:       d.System,
		Stats:        d.stats(),
	}
}

func (d *userDoc) stats() domain.Stats {
	return domain.Stats{Runs: d.Runs, Views: d.Views, Copies: d.Copies, Cuts: d.Cuts, Pastes: d.Pastes}
}

// Users is the MongoDB ports.Users. Emails and usernames are unique
// case-insensitively through unique_keys (see doc.go). Use one value per
// database in a process.
type Users struct {
	c    *mongo.Collection
	srv  *server
	keys *uniqueKeys
	g    guard
}

// NewUsers returns the user store of db.
func NewUsers(db *mongo.Database) *Users {
	s := &Users{c: db.Collection(colUsers), srv: &server{db: db}}
	s.keys = &uniqueKeys{c: db.Collection(colUniqueKeys), holds: s.holds, now: time.Now}
	return s
}

// holds reports whether user ref still carries the value of a key.
func (s *Users) holds(ctx context.Context, kind string, ref bson.ObjectID, value string) (bool, error) {
	d, err := s.get(ctx, ref)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if kind == keyEmail {
		return d.EmailLC == value, nil
	}
	return d.UsernameLC == value, nil
}

func (s *Users) get(ctx context.Context, id bson.ObjectID) (*userDoc, error) {
	var d userDoc
	if err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, err
	}
	return &d, nil
}

// claimAll reserves the user's email then username, releasing what it
// took when one is held by another user.
func (s *Users) claimAll(ctx context.Context, d *userDoc, old *userDoc) error {
	type want struct {
		kind, value string
		taken       error
	}
	var wants []want
	if d.EmailLC != "" && (old == nil || old.EmailLC != d.EmailLC) {
		wants = append(wants, want{keyEmail, d.EmailLC, errEmailTaken})
	}
	if d.UsernameLC != "" && (old == nil || old.UsernameLC != d.UsernameLC) {
		wants = append(wants, want{keyUsername, d.UsernameLC, errUsernameTaken})
	}
	for i, w := range wants {
		ok, err := s.keys.claim(ctx, w.kind, w.value, d.ID)
		if err == nil && !ok {
			err = w.taken
		}
		if err != nil {
			for _, done := range wants[:i] {
				_ = s.keys.release(context.WithoutCancel(ctx), done.kind, done.value, d.ID)
			}
			return err
		}
	}
	return nil
}

// releaseOld frees the values old had that d no longer has.
func (s *Users) releaseOld(ctx context.Context, d, old *userDoc) {
	ctx = context.WithoutCancel(ctx)
	if old.EmailLC != "" && old.EmailLC != d.EmailLC {
		_ = s.keys.release(ctx, keyEmail, old.EmailLC, d.ID)
	}
	if old.UsernameLC != "" && old.UsernameLC != d.UsernameLC {
		_ = s.keys.release(ctx, keyUsername, old.UsernameLC, d.ID)
	}
}

// conflictOf names the field of a unique index violation that got past
// the unique keys (a backstop; see doc.go). MongoDB's message names the
// index; FerretDB's insert error does not, so the users are asked.
func (s *Users) conflictOf(ctx context.Context, err error, d *userDoc) error {
	if !isDuplicate(err) {
		return nil
	}
	switch msg := err.Error(); {
	case strings.Contains(msg, "email_lc"):
		return errEmailTaken
	case strings.Contains(msg, "username_lc"):
		return errUsernameTaken
	}
	other := bson.D{{Key: "$ne", Value: d.ID}}
	if d.EmailLC != "" {
		n, cerr := s.c.CountDocuments(ctx, bson.D{{Key: "email_lc", Value: d.EmailLC}, {Key: "_id", Value: other}})
		if cerr == nil && n > 0 {
			return errEmailTaken
		}
	}
	if d.UsernameLC != "" {
		n, cerr := s.c.CountDocuments(ctx, bson.D{{Key: "username_lc", Value: d.UsernameLC}, {Key: "_id", Value: other}})
		if cerr == nil && n > 0 {
			return errUsernameTaken
		}
	}
	return errUserExists
}

// Create inserts u. ErrConflict naming the email or the username when
// another user has it, case-insensitively.
func (s *Users) Create(ctx context.Context, u *domain.User) error {
	d := toUserDoc(u)
	defer s.g.one(d.ID.Hex())()
	if err := s.claimAll(ctx, &d, nil); err != nil {
		return translate(err, "create user", nil, nil)
	}
	_, err := s.c.InsertOne(ctx, d)
	if err == nil {
		return nil
	}
	keep := &userDoc{ID: d.ID}
	conflict := s.conflictOf(ctx, err, &d)
	if ex, gerr := s.get(ctx, d.ID); isDuplicate(err) && gerr == nil {
		keep, conflict = ex, errUserExists // the id is taken: keep its keys
	}
	s.releaseOld(ctx, keep, &d)
	return translate(err, "create user", nil, conflict)
}

// Get returns the user, deleted ones included. ErrNotFound.
func (s *Users) Get(ctx context.Context, id domain.ID) (*domain.User, error) {
	d, err := s.get(ctx, oid(id))
	if err != nil {
		return nil, translate(err, "get user", domain.ErrUserNotFound, nil)
	}
	return d.user(), nil
}

// Update replaces u, counters included. ErrNotFound; ErrConflict as
// Create.
func (s *Users) Update(ctx context.Context, u *domain.User) error {
	d := toUserDoc(u)
	defer s.g.one(d.ID.Hex())()
	old, err := s.get(ctx, d.ID)
	if err != nil {
		return translate(err, "update user", domain.ErrUserNotFound, nil)
	}
	if err := s.claimAll(ctx, &d, old); err != nil {
		return translate(err, "update user", nil, nil)
	}
	res, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d)
	if err == nil && res.MatchedCount == 0 {
		err = mongo.ErrNoDocuments
	}
	if err != nil {
		s.releaseOld(ctx, old, &d) // give back what this update claimed
		return translate(err, "update user", domain.ErrUserNotFound, s.conflictOf(ctx, err, &d))
	}
	s.releaseOld(ctx, &d, old)
	return nil
}

// findBy resolves a unique key to its user, checking that the user still
// carries the value.
func (s *Users) findBy(ctx context.Context, kind, value string) (*domain.User, error) {
	if value == "" {
		return nil, domain.ErrUserNotFound
	}
	ref, ok, err := s.keys.owner(ctx, kind, value)
	if err != nil {
		return nil, translate(err, "find user", nil, nil)
	}
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	d, err := s.get(ctx, ref)
	if err != nil {
		return nil, translate(err, "find user", domain.ErrUserNotFound, nil)
	}
	if (kind == keyEmail && d.EmailLC != value) || (kind == keyUsername && d.UsernameLC != value) {
		return nil, domain.ErrUserNotFound // a stale claim
	}
	return d.user(), nil
}

// FindByEmail matches case-insensitively, deleted users included.
// ErrNotFound.
func (s *Users) FindByEmail(ctx context.Context, email string) (*domain.User, error) {
	return s.findBy(ctx, keyEmail, strings.ToLower(email))
}

// FindByUsername matches case-insensitively, deleted users included.
// ErrNotFound.
func (s *Users) FindByUsername(ctx context.Context, username string) (*domain.User, error) {
	return s.findBy(ctx, keyUsername, strings.ToLower(username))
}

// List returns non-deleted users whose id is in ids (when ids is not nil)
// and whose username matches (when not ""), ordered by creation, and the
// total before paging.
func (s *Users) List(ctx context.Context, ids []domain.ID, username string, p ports.Page) ([]*domain.User, int, error) {
	if ids != nil && len(ids) == 0 {
		return []*domain.User{}, 0, nil
	}
	if username != "" {
		// One key lookup instead of a scan; at most one user matches.
		u, err := s.FindByUsername(ctx, username)
		if errors.Is(err, domain.ErrNotFound) {
			return []*domain.User{}, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if u.Deleted || (ids != nil && !containsID(ids, u.ID)) {
			return []*domain.User{}, 0, nil
		}
		skip, _ := pageOf(p.Page, p.Limit)
		if skip > 0 {
			return []*domain.User{}, 1, nil
		}
		return []*domain.User{u}, 1, nil
	}
	if ids != nil && len(ids) <= maxLookups && s.srv.isFerretDB(ctx) {
		return s.listByLookups(ctx, ids, p)
	}
	filter := bson.D{{Key: "deleted", Value: false}}
	if ids != nil {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: oids(ids)}}})
	}
	skip, limit := pageOf(p.Page, p.Limit)
	docs, total, err := findPage[userDoc](ctx, s.srv, s.c, filter, bson.D{{Key: "created", Value: 1}, {Key: "_id", Value: 1}}, skip, limit)
	if err != nil {
		return nil, 0, translate(err, "list users", nil, nil)
	}
	return mapDocs(docs, (*userDoc).user), total, nil
}

// All returns every user, deleted ones included: the load of the
// in-memory mirror (adapters/mirror). Not part of ports.Users.
func (s *Users) All(ctx context.Context) ([]*domain.User, error) {
	docs, err := findAll[userDoc](ctx, s.c, bson.D{}, options.Find())
	if err != nil {
		return nil, translate(err, "all users", nil, nil)
	}
	return mapDocs(docs, (*userDoc).user), nil
}

// maxLookups bounds the _id lookups a listing by ids makes instead of a
// scan on FerretDB (each about 0.4 ms; a scan of 1,000 users about 20 ms).
const maxLookups = 100

// listByLookups lists the users of ids with one _id lookup each.
func (s *Users) listByLookups(ctx context.Context, ids []domain.ID, p ports.Page) ([]*domain.User, int, error) {
	seen := map[domain.ID]bool{}
	var all []*domain.User
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		d, err := s.get(ctx, oid(id))
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, 0, translate(err, "list users", nil, nil)
		}
		if !d.Deleted {
			all = append(all, d.user())
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].Created.Equal(all[j].Created) {
			return all[i].Created.Before(all[j].Created)
		}
		return bytes.Compare(all[i].ID[:], all[j].ID[:]) < 0
	})
	skip, limit := pageOf(p.Page, p.Limit)
	n := int64(len(all))
	start, end := min(skip, n), n
	if limit > 0 {
		end = min(start+limit, n)
	}
	return all[start:end], len(all), nil
}

func containsID(ids []domain.ID, id domain.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// AddStat atomically adds n to the named counter and returns the new
// counters. ErrNotFound.
func (s *Users) AddStat(ctx context.Context, id domain.ID, stat string, n int) (domain.Stats, error) {
	if !domain.ValidStat(stat) {
		return domain.Stats{}, domain.Ef(domain.ErrInvalid, "unknown stat %q", stat)
	}
	defer s.g.one(id.Hex())()
	var d userDoc
	err := s.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: oid(id)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: stat, Value: n}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return domain.Stats{}, translate(err, "add user stat", domain.ErrUserNotFound, nil)
	}
	return d.stats(), nil
}
