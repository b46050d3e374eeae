package app_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// pubEnv is newEnv plus the publishing stores.
type pubEnv struct {
	*env
	channels   *inmem.Channels
	categories *inmem.Categories
	votes      *inmem.Votes
	comments   *inmem.Comments
	feed       *inmem.FeedCache
}

func newPubEnv(t *testing.T, mutate ...func(*app.Config)) *pubEnv {
	t.Helper()
	e := newEnv(t, mutate...)
	// Keep newEnv's channel store: the template's tag points into it.
	chans, ok := e.app.Channels.(*inmem.Channels)
	if !ok {
		t.Fatalf("newEnv's channel store is a %T, want *inmem.Channels", e.app.Channels)
	}
	p := &pubEnv{env: e, channels: chans, categories: inmem.NewCategories(), votes: inmem.NewVotes(),
		comments: inmem.NewComments()}
	e.app.ImageTags, e.app.DraftTags = e.images, e.drafts
	e.app.Categories, e.app.Votes, e.app.Comments = p.categories, p.votes, p.comments
	return p
}

// withFeedCache adds an in-memory feed cache on the env's clock.
func (p *pubEnv) withFeedCache() *pubEnv {
	p.feed = inmem.NewFeedCache(p.clock)
	p.app.FeedCache = p.feed
	return p
}

var memberSeq struct {
	sync.Mutex
	n int
}

// member registers a user (level 1) with a unique name based on name.
func (p *pubEnv) member(t *testing.T, name string) *domain.User {
	t.Helper()
	memberSeq.Lock()
	memberSeq.n++
	n := memberSeq.n
	memberSeq.Unlock()
	username := fmt.Sprintf("%s%d", name, n)
	email := username + "@example.com"
	u, _, err := p.app.CreateUser(t.Context(), app.UserInput{Email: &email, Username: &username, Password: str("secret1")})
	if err != nil {
		t.Fatal(err)
	}
	return u.User
}

// mod registers a moderator.
func (p *pubEnv) mod(t *testing.T) *domain.User {
	t.Helper()
	u := p.member(t, "mod")
	u.Level = domain.LevelModerator
	if err := p.users.Update(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// image makes a version-1 image owned by u.
func (p *pubEnv) image(t *testing.T, u *domain.User, name string) *domain.Image {
	t.Helper()
	img, err := p.app.CreateFromTemplate(t.Context(), u, str(name), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func (p *pubEnv) reload(t *testing.T, img *domain.Image) *domain.Image {
	t.Helper()
	got, err := p.images.Get(t.Context(), img.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (p *pubEnv) tag(t *testing.T, u *domain.User, img *domain.Image, name string) domain.Tag {
	t.Helper()
	tag, err := p.app.TagImage(t.Context(), u, img.ID.Short(), str(name))
	if err != nil {
		t.Fatalf("tag %s with %q: %v", img.Name, name, err)
	}
	return tag
}

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want none", what, err)
	}
}

func TestTagImageRules(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	owner, stranger, mod := p.member(t, "owner"), p.member(t, "stranger"), p.mod(t)
	anonOwner, _ := p.anon(t)
	img := p.image(t, owner, "tagged")
	anonImg := p.image(t, anonOwner, "anon image")

	_, err := p.app.TagImage(ctx, anonOwner, anonImg.ID.Short(), str("js"))
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.TagImage(ctx, anonOwner, "nonexistent-id!!", str("js"))
	wantMsg(t, err, domain.ErrForbidden, "permission denied") // level before the path
	_, err = p.app.TagImage(ctx, stranger, "nonexistent-id!!", str("js"))
	wantMsg(t, err, domain.ErrNotFound, "runnable not found")
	_, err = p.app.TagImage(ctx, stranger, img.ID.Short(), str("js"))
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.TagImage(ctx, stranger, img.ID.Short(), nil)
	wantMsg(t, err, domain.ErrForbidden, "permission denied") // ownership before input
	_, err = p.app.TagImage(ctx, owner, img.ID.Short(), nil)
	wantMsg(t, err, domain.ErrInvalid, "tag must include a name field")
	_, err = p.app.TagImage(ctx, owner, img.ID.Short(), str("  "))
	wantMsg(t, err, domain.ErrInvalid, "name must be 1 to 50 characters")

	fb := p.tag(t, mod, img, "Facebook") // a moderator may tag anyone's image
	if fb.Name != "Facebook" {
		t.Fatalf("got name %q, want Facebook", fb.Name)
	}
	_, err = p.app.TagImage(ctx, owner, img.ID.Hex(), str(" facebook "))
	wantMsg(t, err, domain.ErrConflict, "runnable already tagged with Facebook")

	// The canonical name comes back, whatever case was sent.
	other := p.image(t, owner, "other")
	if got := p.tag(t, owner, other, "FACEBOOK"); got.Name != "Facebook" || got.Channel != fb.Channel {
		t.Fatalf("got %+v, want the Facebook channel %s", got, fb.Channel.Hex())
	}

	for i := 1; i < domain.MaxTags; i++ {
		p.tag(t, owner, img, fmt.Sprintf("c%d", i))
	}
	_, err = p.app.TagImage(ctx, owner, img.ID.Short(), str("eleventh"))
	wantMsg(t, err, domain.ErrInvalid, "too many tags")
	if _, err := p.channels.FindByAlias(ctx, "eleventh"); err == nil {
		t.Fatal("a refused eleventh tag created its channel")
	}
	if got := p.reload(t, img); len(got.Tags) != domain.MaxTags || !got.Published() {
		t.Fatalf("got %d tags (published %v), want %d", len(got.Tags), got.Published(), domain.MaxTags)
	}

	tags, err := p.app.ListImageTags(ctx, stranger, img.ID.Short())
	noErr(t, err, "list tags")
	if len(tags) != domain.MaxTags || tags[0] != fb {
		t.Fatalf("got %d tags starting %+v, want %d starting %+v", len(tags), tags[0], domain.MaxTags, fb)
	}
	got, err := p.app.GetImageTag(ctx, stranger, img.ID.Short(), fb.ID.Hex())
	if err != nil || got != fb {
		t.Fatalf("get tag: got %+v, %v, want %+v", got, err, fb)
	}
	_, err = p.app.GetImageTag(ctx, stranger, img.ID.Short(), "zz")
	wantMsg(t, err, domain.ErrNotFound, "tag not found")
}

func TestUntagImage(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	owner, stranger, mod := p.member(t, "owner"), p.member(t, "stranger"), p.mod(t)
	img := p.image(t, owner, "img")
	a, b := p.tag(t, owner, img, "a"), p.tag(t, owner, img, "b")

	wantMsg(t, p.app.UntagImage(ctx, stranger, img.ID.Short(), a.ID.Hex()), domain.ErrForbidden, "permission denied")
	wantMsg(t, p.app.UntagImage(ctx, stranger, img.ID.Short(), "bad"), domain.ErrForbidden, "permission denied")
	wantMsg(t, p.app.UntagImage(ctx, owner, img.ID.Short(), domain.ID{9}.Hex()), domain.ErrNotFound, "tag not found")
	wantMsg(t, p.app.UntagImage(ctx, owner, "AAAAAAAAAAAAAAAA", a.ID.Hex()), domain.ErrNotFound, "runnable not found")
	noErr(t, p.app.UntagImage(ctx, owner, img.ID.Short(), a.ID.Hex()), "owner untags")
	wantMsg(t, p.app.UntagImage(ctx, owner, img.ID.Short(), a.ID.Hex()), domain.ErrNotFound, "tag not found")
	noErr(t, p.app.UntagImage(ctx, mod, img.ID.Short(), b.ID.Hex()), "moderator untags")
	if got := p.reload(t, img); got.Published() {
		t.Fatalf("image with no tags left: got published, want unpublished")
	}
	// An anonymous owner may untag (but not tag) their image.
	anon, _ := p.anon(t)
	anonImg := p.image(t, anon, "anon img")
	tag := p.tag(t, mod, anonImg, "given")
	noErr(t, p.app.UntagImage(ctx, anon, anonImg.ID.Short(), tag.ID.Hex()), "anonymous owner untags")
}

func TestConcurrentTaggingCreatesOneChannelWithExactCount(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	const n = 12
	owner := p.member(t, "owner")
	imgs := make([]*domain.Image, n)
	for i := range imgs {
		imgs[i] = p.image(t, owner, fmt.Sprintf("img %d", i))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	tags := make([]domain.Tag, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Different spellings of one new name.
			name := []string{"Docker", "docker", "DOCKER"}[i%3]
			tags[i], errs[i] = p.app.TagImage(ctx, owner, imgs[i].ID.Short(), &name)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		noErr(t, err, fmt.Sprintf("tagging %d", i))
		if tags[i].Channel != tags[0].Channel || tags[i].Name != tags[0].Name {
			t.Fatalf("tag %d: got %+v, want the channel of %+v", i, tags[i], tags[0])
		}
	}
	chans, total, err := p.app.ListChannels(ctx, app.ChannelListInput{Page: ports.Page{Limit: 100}})
	noErr(t, err, "list channels")
	if total != 2 || len(chans) != 2 || chans[0].Name != tags[0].Name || chans[0].Count != n || chans[1].Name != "shell" {
		t.Fatalf("got %d channels (total %d), want the new one with count %d and the template's shell", len(chans), total, n)
	}
	// Same image, different names at once: no tag is lost.
	img := p.image(t, owner, "busy")
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.app.TagImage(ctx, owner, img.ID.Short(), str(fmt.Sprintf("t%d", i)))
		}()
	}
	wg.Wait()
	for i := range 8 {
		noErr(t, errs[i], "concurrent tag")
	}
	if got := p.reload(t, img); len(got.Tags) != 8 {
		t.Fatalf("got %d tags, want 8", len(got.Tags))
	}
}

func TestDraftTags(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	owner, stranger, mod := p.member(t, "owner"), p.member(t, "stranger"), p.mod(t)
	anon, _ := p.anon(t)
	d, err := p.app.Fork(ctx, owner, p.template.ID.Short(), nil, nil)
	noErr(t, err, "fork")
	if len(d.Tags) != 0 {
		t.Fatalf("fork of a tagged template: got tags %+v, want none", d.Tags)
	}
	anonDraft, err := p.app.Fork(ctx, anon, p.template.ID.Short(), nil, nil)
	noErr(t, err, "fork")

	_, err = p.app.TagDraft(ctx, anon, "", anonDraft.ID.Short(), str("x"))
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.TagDraft(ctx, stranger, "", d.ID.Short(), str("x"))
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.TagDraft(ctx, stranger, owner.ID.Hex(), d.ID.Short(), str("x"))
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.TagDraft(ctx, owner, domain.ID{7}.Hex(), d.ID.Short(), str("x"))
	wantMsg(t, err, domain.ErrNotFound, "user not found")
	_, err = p.app.TagDraft(ctx, owner, "", p.template.ID.Short(), str("x"))
	wantMsg(t, err, domain.ErrNotFound, "runnable not found") // an image id is no draft

	tag, err := p.app.TagDraft(ctx, owner, "me", d.ID.Short(), str("Python"))
	noErr(t, err, "owner tags draft")
	_, err = p.app.TagDraft(ctx, mod, owner.ID.Hex(), d.ID.Short(), str("python"))
	wantMsg(t, err, domain.ErrConflict, "runnable already tagged with Python")
	modTag, err := p.app.TagDraft(ctx, mod, owner.ID.Hex(), d.ID.Short(), str("REPL"))
	noErr(t, err, "moderator tags draft")

	_, err = p.app.ListDraftTags(ctx, stranger, d.ID.Short())
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	tags, err := p.app.ListDraftTags(ctx, mod, d.ID.Short())
	if err != nil || len(tags) != 2 || tags[0] != tag || tags[1] != modTag {
		t.Fatalf("draft tags: got %+v, %v, want [%+v %+v]", tags, err, tag, modTag)
	}
	_, err = p.app.GetDraftTag(ctx, stranger, d.ID.Short(), tag.ID.Hex())
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	wantMsg(t, p.app.UntagDraft(ctx, stranger, d.ID.Short(), tag.ID.Hex()), domain.ErrForbidden, "permission denied")
	noErr(t, p.app.UntagDraft(ctx, owner, d.ID.Short(), modTag.ID.Hex()), "untag draft")
	_, err = p.app.GetDraftTag(ctx, owner, d.ID.Short(), modTag.ID.Hex())
	wantMsg(t, err, domain.ErrNotFound, "tag not found")

	// A save to a new image copies the draft's tags: the image is published.
	res, err := p.app.SaveDraft(ctx, owner, d.ID.Short(), str("saved python"), nil)
	noErr(t, err, "save")
	if !res.Done || len(res.Image.Tags) != 1 || res.Image.Tags[0].Channel != tag.Channel || !res.Image.Published() {
		t.Fatalf("saved image: got %+v, want published with the Python tag", res.Image)
	}
	chans, _, err := p.app.ListChannels(ctx, app.ChannelListInput{Name: str("PYTHON"), Page: ports.Page{Limit: 25}})
	if err != nil || len(chans) != 1 || chans[0].Count != 1 {
		t.Fatalf("python channel: got %+v, %v, want count 1", chans, err)
	}
}

func TestChannelsCRUD(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	member, mod := p.member(t, "member"), p.mod(t)

	_, err := p.app.CreateChannel(ctx, member, str("Go"), nil)
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.CreateChannel(ctx, mod, nil, str("no name"))
	wantMsg(t, err, domain.ErrInvalid, "name required")
	_, err = p.app.CreateChannel(ctx, mod, str("\x07bell"), nil)
	wantMsg(t, err, domain.ErrInvalid, "name must be 1 to 50 characters")
	goCh, err := p.app.CreateChannel(ctx, mod, str(" Go "), str("the language"))
	noErr(t, err, "create")
	if goCh.Name != "Go" || goCh.Description != "the language" || goCh.Count != 0 || len(goCh.Aliases) != 1 || goCh.Aliases[0] != "go" {
		t.Fatalf("created: got %+v", goCh)
	}
	_, err = p.app.CreateChannel(ctx, mod, str("GO"), nil)
	wantMsg(t, err, domain.ErrConflict, "channel with name already exists")

	got, err := p.app.GetChannel(ctx, goCh.ID.Hex())
	if err != nil || got.Name != "Go" {
		t.Fatalf("get: got %+v, %v", got, err)
	}
	_, err = p.app.GetChannel(ctx, "nope")
	wantMsg(t, err, domain.ErrNotFound, "channel not found")
	_, err = p.app.UpdateChannel(ctx, member, goCh.ID.Hex(), str("Golang"), nil)
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.UpdateChannel(ctx, mod, domain.ID{1}.Hex(), str("Golang"), nil)
	wantMsg(t, err, domain.ErrNotFound, "channel not found")
	_, err = p.app.UpdateChannel(ctx, mod, goCh.ID.Hex(), nil, nil)
	wantMsg(t, err, domain.ErrInvalid, "must provide name or description")

	// Tag images, then rename: old aliases keep working, tags follow.
	owner := p.member(t, "owner")
	img := p.image(t, owner, "gopher")
	p.tag(t, owner, img, "go")
	d, err := p.app.Fork(ctx, owner, img.ID.Short(), nil, nil)
	noErr(t, err, "fork")
	_, err = p.app.TagDraft(ctx, owner, "", d.ID.Short(), str("GO"))
	noErr(t, err, "tag draft")
	renamed, err := p.app.UpdateChannel(ctx, mod, goCh.ID.Hex(), str("Golang"), nil)
	noErr(t, err, "rename")
	if renamed.Name != "Golang" || fmt.Sprint(renamed.Aliases) != "[go golang]" || renamed.Count != 1 {
		t.Fatalf("renamed: got %+v", renamed)
	}
	if tags := p.reload(t, img).Tags; tags[0].Name != "Golang" {
		t.Fatalf("image tag after rename: got %q, want Golang", tags[0].Name)
	}
	if dd, _ := p.drafts.Get(ctx, d.ID); dd.Tags[0].Name != "Golang" {
		t.Fatalf("draft tag after rename: got %q, want Golang", dd.Tags[0].Name)
	}
	imgs, _, err := p.app.ListImages(ctx, owner, app.ImageListInput{Channels: []string{"go"}, Page: pageAll})
	if err != nil || len(imgs) != 1 {
		t.Fatalf("list by old alias: got %d, %v, want 1", len(imgs), err)
	}
	other, err := p.app.CreateChannel(ctx, mod, str("Rust"), nil)
	noErr(t, err, "create rust")
	_, err = p.app.UpdateChannel(ctx, mod, other.ID.Hex(), str("GO"), nil)
	wantMsg(t, err, domain.ErrConflict, "channel with name already exists")

	// Aliases.
	_, err = p.app.SetChannelAliases(ctx, mod, goCh.ID.Hex(), []string{"golang", "rust"})
	wantMsg(t, err, domain.ErrConflict, "channel with alias already exists")
	list, err := p.app.SetChannelAliases(ctx, mod, goCh.ID.Hex(), []string{" GO ", "gopher", "gopher"})
	if err != nil || fmt.Sprint(list) != "[golang go gopher]" {
		t.Fatalf("aliases: got %v, %v, want [golang go gopher]", list, err)
	}
	_, err = p.app.SetChannelAliases(ctx, member, goCh.ID.Hex(), nil)
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.SetChannelAliases(ctx, mod, goCh.ID.Hex(), make([]string, 21))
	wantMsg(t, err, domain.ErrInvalid, "aliases must be an array of strings")

	// Delete: tags disappear from images and drafts; the image is unpublished.
	wantMsg(t, p.app.DeleteChannel(ctx, member, goCh.ID.Hex()), domain.ErrForbidden, "permission denied")
	noErr(t, p.app.DeleteChannel(ctx, mod, goCh.ID.Hex()), "delete")
	wantMsg(t, p.app.DeleteChannel(ctx, mod, goCh.ID.Hex()), domain.ErrNotFound, "channel not found")
	if got := p.reload(t, img); len(got.Tags) != 0 || got.Published() {
		t.Fatalf("image after channel deletion: got tags %+v", got.Tags)
	}
	if dd, _ := p.drafts.Get(ctx, d.ID); len(dd.Tags) != 0 {
		t.Fatalf("draft after channel deletion: got tags %+v", dd.Tags)
	}
	// The name is free again.
	again := p.tag(t, owner, img, "go")
	if again.Channel == goCh.ID {
		t.Fatal("tagging after deletion reused the deleted channel")
	}
}

func TestListChannels(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	owner, mod := p.member(t, "owner"), p.mod(t)
	// js on 3 images, css on 2 (both with js), html on 1 (with js), sql alone.
	for i, chans := range [][]string{{"js", "css"}, {"js", "css", "html"}, {"js"}, {"sql"}} {
		img := p.image(t, owner, fmt.Sprintf("img%d", i))
		for _, c := range chans {
			p.tag(t, owner, img, c)
		}
	}
	_, err := p.app.CreateChannel(ctx, mod, str("Empty"), nil)
	noErr(t, err, "create")
	_, err = p.app.TagChannel(ctx, mod, mustChannel(t, p, "css").ID.Hex(), str("Web"))
	noErr(t, err, "tag css")
	_, err = p.app.TagChannel(ctx, mod, mustChannel(t, p, "html").ID.Hex(), str("web"))
	noErr(t, err, "tag html")

	names := func(cs []app.ChannelInfo) string {
		s := ""
		for _, c := range cs {
			s += fmt.Sprintf("%s:%d ", c.Name, c.Count)
		}
		return s
	}
	page := ports.Page{Limit: 25}
	tests := []struct {
		name      string
		in        app.ChannelListInput
		want      string
		wantTotal int
	}{
		{"by name", app.ChannelListInput{Page: page}, "css:2 Empty:0 html:1 js:3 shell:1 sql:1 ", 6},
		{"by name, paged", app.ChannelListInput{Page: ports.Page{Page: 1, Limit: 2}}, "html:1 js:3 ", 6},
		{"by count", app.ChannelListInput{Sort: "-count", Page: page}, "js:3 css:2 html:1 shell:1 sql:1 Empty:0 ", 6},
		{"by count, paged", app.ChannelListInput{Sort: "-count", Page: ports.Page{Page: 1, Limit: 2}}, "html:1 shell:1 ", 6},
		{"name alias", app.ChannelListInput{Name: str("JS"), Page: page}, "js:3 ", 1},
		{"unknown name", app.ChannelListInput{Name: str("cobol"), Page: page}, "", 0},
		{"category", app.ChannelListInput{Category: str("WEB"), Page: page}, "css:2 html:1 ", 2},
		{"unknown category", app.ChannelListInput{Category: str("games"), Page: page}, "", 0},
		{"related", app.ChannelListInput{Channel: str("js"), Page: page}, "css:2 html:1 ", 2},
		{"related by count", app.ChannelListInput{Channel: str("html"), Sort: "-count", Page: page}, "js:3 css:2 ", 2},
		{"related by name", app.ChannelListInput{Channel: str("html"), Sort: "name", Page: page}, "css:2 js:3 ", 2},
		{"related and category", app.ChannelListInput{Channel: str("js"), Category: str("web"), Page: page}, "css:2 html:1 ", 2},
		{"related and name", app.ChannelListInput{Channel: str("js"), Name: str("html"), Page: page}, "html:1 ", 1},
		{"related of a loner", app.ChannelListInput{Channel: str("sql"), Page: page}, "", 0},
		{"related of unknown", app.ChannelListInput{Channel: str("cobol"), Page: page}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := p.app.ListChannels(ctx, tt.in)
			noErr(t, err, "list")
			if names(got) != tt.want || total != tt.wantTotal {
				t.Fatalf("got %q (total %d), want %q (total %d)", names(got), total, tt.want, tt.wantTotal)
			}
		})
	}
	_, _, err = p.app.ListChannels(ctx, app.ChannelListInput{Sort: "count", Page: page})
	wantMsg(t, err, domain.ErrInvalid, "sort must be one of name, -count")
}

func mustChannel(t *testing.T, p *pubEnv, alias string) *domain.Channel {
	t.Helper()
	ch, err := p.channels.FindByAlias(t.Context(), alias)
	if err != nil {
		t.Fatalf("channel %q: %v", alias, err)
	}
	return ch
}

func TestCategoriesAndChannelTags(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	member, mod := p.member(t, "member"), p.mod(t)
	js, err := p.app.CreateChannel(ctx, mod, str("js"), nil)
	noErr(t, err, "create js")

	_, err = p.app.CreateCategory(ctx, member, str("Web"), nil)
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.CreateCategory(ctx, mod, nil, nil)
	wantMsg(t, err, domain.ErrInvalid, "name required")
	web, err := p.app.CreateCategory(ctx, mod, str("Web"), str("front"))
	noErr(t, err, "create web")
	_, err = p.app.CreateCategory(ctx, mod, str("WEB"), nil)
	wantMsg(t, err, domain.ErrConflict, "category with name already exists")

	// Tagging a channel with a category name, case-insensitively.
	_, err = p.app.TagChannel(ctx, member, js.ID.Hex(), str("web"))
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.TagChannel(ctx, mod, js.ID.Hex(), nil)
	wantMsg(t, err, domain.ErrInvalid, "tag must include a name field")
	_, err = p.app.TagChannel(ctx, mod, domain.ID{3}.Hex(), str("web"))
	wantMsg(t, err, domain.ErrNotFound, "channel not found")
	ct, err := p.app.TagChannel(ctx, mod, js.ID.Hex(), str("WEB"))
	noErr(t, err, "tag channel")
	if ct.Category != web.ID || ct.Name != "Web" {
		t.Fatalf("category tag: got %+v, want the Web category", ct)
	}
	_, err = p.app.TagChannel(ctx, mod, js.ID.Hex(), str("web"))
	wantMsg(t, err, domain.ErrConflict, "channel already tagged with Web")
	// An unknown category is created.
	langs, err := p.app.TagChannel(ctx, mod, js.ID.Hex(), str("Languages"))
	noErr(t, err, "tag with a new category")
	cats, total, err := p.app.ListCategories(ctx, nil, ports.Page{Limit: 25})
	if err != nil || total != 2 || cats[0].Name != "Languages" || cats[1].Name != "Web" || cats[1].Count != 1 {
		t.Fatalf("categories: got %+v (total %d), %v", cats, total, err)
	}
	got, err := p.app.GetChannelTag(ctx, js.ID.Hex(), ct.ID.Hex())
	if err != nil || got != ct {
		t.Fatalf("get channel tag: got %+v, %v", got, err)
	}
	_, err = p.app.GetChannelTag(ctx, js.ID.Hex(), "x")
	wantMsg(t, err, domain.ErrNotFound, "tag not found")

	// Rename a category: channel tags follow; aliases keep the old name.
	_, err = p.app.UpdateCategory(ctx, mod, web.ID.Hex(), nil, nil)
	wantMsg(t, err, domain.ErrInvalid, "must provide name or description")
	upd, err := p.app.UpdateCategory(ctx, mod, web.ID.Hex(), str("Frontend"), nil)
	if err != nil || fmt.Sprint(upd.Aliases) != "[web frontend]" || upd.Description != "front" || upd.Count != 1 {
		t.Fatalf("rename category: got %+v, %v", upd, err)
	}
	tags, _ := p.app.ListChannelTags(ctx, js.ID.Hex())
	if tags[0].Name != "Frontend" {
		t.Fatalf("channel tag after rename: got %q, want Frontend", tags[0].Name)
	}
	_, err = p.app.UpdateCategory(ctx, mod, langs.Category.Hex(), str("web"), nil)
	wantMsg(t, err, domain.ErrConflict, "category with name already exists")
	_, err = p.app.SetCategoryAliases(ctx, mod, langs.Category.Hex(), []string{"frontend"})
	wantMsg(t, err, domain.ErrConflict, "category with alias already exists")
	al, err := p.app.SetCategoryAliases(ctx, mod, web.ID.Hex(), []string{"www"})
	if err != nil || fmt.Sprint(al) != "[frontend www]" {
		t.Fatalf("category aliases: got %v, %v", al, err)
	}
	byName, _, err := p.app.ListCategories(ctx, str("WWW"), ports.Page{Limit: 25})
	if err != nil || len(byName) != 1 || byName[0].ID != web.ID {
		t.Fatalf("categories by alias: got %+v, %v", byName, err)
	}

	// Untag, then delete a category: its channel tags go.
	wantMsg(t, p.app.UntagChannel(ctx, mod, js.ID.Hex(), domain.ID{5}.Hex()), domain.ErrNotFound, "tag not found")
	noErr(t, p.app.UntagChannel(ctx, mod, js.ID.Hex(), langs.ID.Hex()), "untag channel")
	_, err = p.app.TagChannel(ctx, mod, js.ID.Hex(), str("Languages"))
	noErr(t, err, "tag again")
	wantMsg(t, p.app.DeleteCategory(ctx, member, web.ID.Hex()), domain.ErrForbidden, "permission denied")
	noErr(t, p.app.DeleteCategory(ctx, mod, web.ID.Hex()), "delete category")
	_, err = p.app.GetCategory(ctx, web.ID.Hex())
	wantMsg(t, err, domain.ErrNotFound, "category not found")
	tags, _ = p.app.ListChannelTags(ctx, js.ID.Hex())
	if len(tags) != 1 || tags[0].Name != "Languages" {
		t.Fatalf("channel tags after deleting a category: got %+v, want only Languages", tags)
	}
}

func TestVotes(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	owner, voter, mod := p.member(t, "owner"), p.member(t, "voter"), p.mod(t)
	anon, _ := p.anon(t)
	img := p.image(t, owner, "votable")

	_, err := p.app.Vote(ctx, voter, nil)
	wantMsg(t, err, domain.ErrInvalid, "must include runnable to vote on")
	_, err = p.app.Vote(ctx, voter, str(""))
	wantMsg(t, err, domain.ErrInvalid, "must include runnable to vote on")
	_, err = p.app.Vote(ctx, voter, str("garbage"))
	wantMsg(t, err, domain.ErrNotFound, "runnable not found")
	_, err = p.app.Vote(ctx, owner, str(img.ID.Short()))
	wantMsg(t, err, domain.ErrForbidden, "cannot vote for own runnables")
	d, err := p.app.Fork(ctx, voter, img.ID.Short(), nil, nil)
	noErr(t, err, "fork")
	_, err = p.app.Vote(ctx, owner, str(d.ID.Short()))
	wantMsg(t, err, domain.ErrNotFound, "runnable not found") // a draft id

	v, err := p.app.Vote(ctx, voter, str(img.ID.Hex()))
	noErr(t, err, "vote")
	_, err = p.app.Vote(ctx, voter, str(img.ID.Short()))
	wantMsg(t, err, domain.ErrConflict, "cannot vote on runnable more than once")
	_, err = p.app.Vote(ctx, anon, str(img.ID.Short()))
	noErr(t, err, "anonymous users vote")
	if n, _ := p.app.CountVotes(ctx, voter, img.ID.Short()); n != 2 {
		t.Fatalf("count: got %d, want 2", n)
	}
	if got := p.reload(t, img); got.Votes != 2 {
		t.Fatalf("votes counter: got %d, want 2", got.Votes)
	}

	vs, total, err := p.app.ListVotes(ctx, voter, "me", pageAll)
	if err != nil || total != 1 || vs[0].ID != v.ID || vs[0].Image != img.ID {
		t.Fatalf("my votes: got %+v (total %d), %v", vs, total, err)
	}
	_, _, err = p.app.ListVotes(ctx, owner, voter.ID.Hex(), pageAll)
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, _, err = p.app.ListVotes(ctx, mod, voter.ID.Hex(), pageAll)
	noErr(t, err, "moderator lists votes")
	_, _, err = p.app.ListVotes(ctx, mod, domain.ID{9}.Hex(), pageAll)
	wantMsg(t, err, domain.ErrNotFound, "user not found")

	wantMsg(t, p.app.RemoveVote(ctx, owner, v.ID.Hex()), domain.ErrNotFound, "vote not found")
	wantMsg(t, p.app.RemoveVote(ctx, mod, v.ID.Hex()), domain.ErrNotFound, "vote not found")
	wantMsg(t, p.app.RemoveVote(ctx, voter, "x"), domain.ErrNotFound, "vote not found")
	noErr(t, p.app.RemoveVote(ctx, voter, v.ID.Hex()), "remove")
	wantMsg(t, p.app.RemoveVote(ctx, voter, v.ID.Hex()), domain.ErrNotFound, "vote not found")
	if got := p.reload(t, img); got.Votes != 1 {
		t.Fatalf("votes counter after removal: got %d, want 1", got.Votes)
	}
	_, err = p.app.Vote(ctx, voter, str(img.ID.Short()))
	noErr(t, err, "vote again after removing")

	// A failing counter undoes the vote.
	third := p.member(t, "third")
	p.images.FailNext("AddStat", domain.E(domain.ErrUnavailable, "service unavailable"))
	_, err = p.app.Vote(ctx, third, str(img.ID.Short()))
	wantMsg(t, err, domain.ErrUnavailable, "service unavailable")
	if n, _ := p.app.CountVotes(ctx, third, img.ID.Short()); n != 2 {
		t.Fatalf("count after a failed counter: got %d, want 2", n)
	}
}

func TestConcurrentVotesAreExact(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	img := p.image(t, p.member(t, "owner"), "popular")
	const voters = 10
	users := make([]*domain.User, voters)
	for i := range users {
		users[i] = p.member(t, "v")
	}
	var wg sync.WaitGroup
	votes := make([]*domain.Vote, voters)
	for i := range voters {
		for range 3 { // each user tries three times at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				if v, err := p.app.Vote(ctx, users[i], str(img.ID.Short())); err == nil {
					votes[i] = v
				}
			}()
		}
	}
	wg.Wait()
	if got := p.reload(t, img).Votes; got != voters {
		t.Fatalf("votes counter: got %d, want %d", got, voters)
	}
	for i := range voters {
		for range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); _ = p.app.RemoveVote(ctx, users[i], votes[i].ID.Hex()) }()
		}
	}
	wg.Wait()
	got := p.reload(t, img).Votes
	n, _ := p.app.CountVotes(ctx, users[0], img.ID.Short())
	if got != 0 || n != 0 {
		t.Fatalf("after removing every vote twice at once: counter %d, count %d, want 0 0", got, n)
	}
}

func TestStats(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	owner, user := p.member(t, "owner"), p.member(t, "user")
	img, other := p.image(t, owner, "a"), p.image(t, owner, "b")
	_, err := p.app.AddStat(ctx, user, img.ID.Short(), "votes")
	wantMsg(t, err, domain.ErrInvalid, "not a valid stat")
	_, err = p.app.GetStat(ctx, user, "AAAAAAAAAAAAAAAA", "nope")
	wantMsg(t, err, domain.ErrNotFound, "runnable not found")
	for _, id := range []domain.ID{img.ID, img.ID, other.ID} {
		_, err := p.app.AddStat(ctx, user, id.Short(), "runs")
		noErr(t, err, "add stat")
	}
	u, _ := p.users.Get(ctx, user.ID)
	got, err := p.app.GetStat(ctx, u, img.ID.Short(), "runs")
	if err != nil || got != (app.StatCounts{Image: 2, User: 3}) {
		t.Fatalf("get stat: got %+v, %v, want image 2 user 3", got, err)
	}
	got, err = p.app.AddStat(ctx, u, other.ID.Short(), "views")
	if err != nil || got != (app.StatCounts{Image: 1, User: 1}) {
		t.Fatalf("add views: got %+v, %v", got, err)
	}
	// Concurrent increments are all counted.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = p.app.AddStat(ctx, user, img.ID.Short(), "copies") }()
	}
	wg.Wait()
	u, _ = p.users.Get(ctx, user.ID)
	if got := p.reload(t, img).Stats.Copies; got != 20 || u.Stats.Copies != 20 {
		t.Fatalf("copies: image %d user %d, want 20 20", got, u.Stats.Copies)
	}
}

func TestComments(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	owner, alice, bob, mod := p.member(t, "owner"), p.member(t, "alice"), p.member(t, "bob"), p.mod(t)
	anon, _ := p.anon(t)
	img := p.image(t, owner, "discussed")

	_, err := p.app.PostComment(ctx, anon, "bad id", str("hi"))
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = p.app.PostComment(ctx, alice, "AAAAAAAAAAAAAAAA", str("hi"))
	wantMsg(t, err, domain.ErrNotFound, "runnable not found")
	_, err = p.app.PostComment(ctx, alice, img.ID.Short(), nil)
	wantMsg(t, err, domain.ErrInvalid, "comment must include a text field")
	_, err = p.app.PostComment(ctx, alice, img.ID.Short(), str(string(make([]byte, 2001))))
	if err == nil {
		t.Fatal("a 2001-character comment was accepted")
	}

	c1, err := p.app.PostComment(ctx, alice, img.ID.Short(), str("  first  "))
	noErr(t, err, "comment")
	if c1.Text != "first" || c1.Author.ID != alice.ID {
		t.Fatalf("comment: got %+v", c1.Comment)
	}
	p.clock.Advance(time.Second)
	c2, err := p.app.PostComment(ctx, bob, img.ID.Short(), str("second"))
	noErr(t, err, "comment")
	p.clock.Advance(time.Second)
	c3, err := p.app.PostComment(ctx, alice, img.ID.Short(), str("third"))
	noErr(t, err, "comment")

	list, total, err := p.app.ListComments(ctx, anon, img.ID.Short(), ports.Page{Limit: 2})
	if err != nil || total != 3 || len(list) != 2 || list[0].ID != c1.ID || list[1].ID != c2.ID || list[1].Author.Username != bob.Username {
		t.Fatalf("list: got %d (total %d), %v", len(list), total, err)
	}
	got, err := p.app.GetComment(ctx, anon, img.ID.Short(), c2.ID.Hex())
	if err != nil || got.Text != "second" {
		t.Fatalf("get: got %+v, %v", got, err)
	}
	other := p.image(t, owner, "elsewhere")
	_, err = p.app.GetComment(ctx, anon, other.ID.Short(), c2.ID.Hex())
	wantMsg(t, err, domain.ErrNotFound, "comment not found")

	wantMsg(t, p.app.DeleteComment(ctx, bob, img.ID.Short(), c1.ID.Hex()), domain.ErrForbidden, "permission denied")
	wantMsg(t, p.app.DeleteComment(ctx, owner, img.ID.Short(), c1.ID.Hex()), domain.ErrForbidden, "permission denied")
	noErr(t, p.app.DeleteComment(ctx, alice, img.ID.Short(), c1.ID.Hex()), "author deletes")
	noErr(t, p.app.DeleteComment(ctx, mod, img.ID.Short(), c3.ID.Hex()), "moderator deletes")
	wantMsg(t, p.app.DeleteComment(ctx, mod, img.ID.Short(), c3.ID.Hex()), domain.ErrNotFound, "comment not found")

	// Deleting a user hides their comments from listings, totals and reads.
	c4, err := p.app.PostComment(ctx, alice, img.ID.Short(), str("fourth"))
	noErr(t, err, "comment")
	noErr(t, p.app.DeleteUser(ctx, bob, "me"), "delete bob")
	list, total, err = p.app.ListComments(ctx, anon, img.ID.Short(), ports.Page{Limit: 10})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != c4.ID {
		t.Fatalf("list after deleting bob: got %d (total %d), %v, want only alice's", len(list), total, err)
	}
	_, err = p.app.GetComment(ctx, anon, img.ID.Short(), c2.ID.Hex())
	wantMsg(t, err, domain.ErrNotFound, "comment not found")
	wantMsg(t, p.app.DeleteComment(ctx, mod, img.ID.Short(), c2.ID.Hex()), domain.ErrNotFound, "comment not found")
}

func TestDeletingAnImageRemovesItsVotesAndComments(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	owner, fan := p.member(t, "owner"), p.member(t, "fan")
	img := p.image(t, owner, "doomed")
	keep := p.image(t, owner, "kept")
	for _, i := range []*domain.Image{img, keep} {
		_, err := p.app.Vote(ctx, fan, str(i.ID.Short()))
		noErr(t, err, "vote")
		_, err = p.app.PostComment(ctx, fan, i.ID.Short(), str("nice"))
		noErr(t, err, "comment")
	}
	noErr(t, p.app.DeleteImage(ctx, owner, img.ID.Short()), "delete image")
	if n, _ := p.votes.CountByImage(ctx, img.ID); n != 0 {
		t.Fatalf("votes left: %d", n)
	}
	if _, n, _ := p.comments.List(ctx, ports.CommentQuery{Image: img.ID}); n != 0 {
		t.Fatalf("comments left: %d", n)
	}
	vs, total, _ := p.app.ListVotes(ctx, fan, "me", pageAll)
	if total != 1 || vs[0].Image != keep.ID {
		t.Fatalf("fan's votes: got %+v, want only the kept image's", vs)
	}
}

func TestFeed(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache=%v", cached), func(t *testing.T) {
			p := newPubEnv(t)
			if cached {
				p.withFeedCache()
			}
			ctx := t.Context()
			owner := p.member(t, "owner")
			// The template (tagged shell) is published too: drop its tag.
			noErr(t, p.app.DeleteChannel(ctx, p.mod(t), mustChannel(t, p, "shell").ID.Hex()), "delete shell")

			old := p.image(t, owner, "old")
			p.tag(t, owner, old, "go")
			p.clock.Advance(5 * time.Hour)
			for range 10 {
				_, err := p.app.AddStat(ctx, owner, old.ID.Short(), "runs")
				noErr(t, err, "run")
			}
			fresh := p.image(t, owner, "fresh")
			p.tag(t, owner, fresh, "js")
			twin := p.image(t, owner, "twin") // same score and created as fresh, higher id
			p.tag(t, owner, twin, "js")
			p.tag(t, owner, twin, "go")
			p.image(t, owner, "unpublished")

			items, total, err := p.app.Feed(ctx, owner, nil, ports.Page{Limit: 10})
			noErr(t, err, "feed")
			if total != 3 || len(items) != 3 || items[0].ID != twin.ID || items[1].ID != fresh.ID || items[2].ID != old.ID {
				t.Fatalf("feed: got %v (total %d), want twin, fresh, old", feedNames(items), total)
			}
			if s := items[2].Score; s < 0.7018 || s > 0.7020 {
				t.Fatalf("score of 10 runs at 5 hours: got %.4f, want 0.7019", s)
			}
			items, total, err = p.app.Feed(ctx, owner, []string{"GO"}, ports.Page{Page: 1, Limit: 1})
			if err != nil || total != 2 || len(items) != 1 || items[0].ID != old.ID {
				t.Fatalf("feed of go, page 1: got %v (total %d), %v, want old", feedNames(items), total, err)
			}
			items, total, err = p.app.Feed(ctx, owner, []string{"js", "go", "cobol"}, ports.Page{Limit: 10})
			if err != nil || total != 3 || feedNames(items) != "twin fresh old" {
				t.Fatalf("feed of js and go: got %v (total %d), %v", feedNames(items), total, err)
			}
			items, total, err = p.app.Feed(ctx, owner, []string{"cobol"}, ports.Page{Limit: 10})
			if err != nil || total != 0 || len(items) != 0 {
				t.Fatalf("feed of an unknown channel: got %v (total %d), %v, want []", feedNames(items), total, err)
			}

			// Runs move the ranking: at once without a cache, after the ttl with one.
			for range 40 {
				_, err := p.app.AddStat(ctx, owner, old.ID.Short(), "runs")
				noErr(t, err, "run")
			}
			items, _, _ = p.app.Feed(ctx, owner, nil, ports.Page{Limit: 10})
			want := "old twin fresh"
			if cached {
				want = "twin fresh old"
			}
			if feedNames(items) != want {
				t.Fatalf("feed after 40 runs: got %q, want %q", feedNames(items), want)
			}
			p.clock.Advance(p.app.Config().FeedCacheTTL)
			items, _, _ = p.app.Feed(ctx, owner, nil, ports.Page{Limit: 10})
			if feedNames(items) != "old twin fresh" {
				t.Fatalf("feed after the ttl: got %q, want old first", feedNames(items))
			}
			// A deleted image leaves the feed at once, cached or not.
			noErr(t, p.app.DeleteImage(ctx, owner, twin.ID.Short()), "delete")
			items, _, _ = p.app.Feed(ctx, owner, []string{"js"}, ports.Page{Limit: 10})
			if feedNames(items) != "fresh" {
				t.Fatalf("js feed after deleting twin: got %q, want fresh", feedNames(items))
			}
		})
	}
}

func feedNames(items []app.FeedItem) string {
	s := ""
	for i, it := range items {
		if i > 0 {
			s += " "
		}
		s += it.Name
	}
	return s
}

func TestFeedCacheRebuildTakesTheLock(t *testing.T) {
	p := newPubEnv(t).withFeedCache()
	ctx := t.Context()
	owner := p.member(t, "owner")
	img := p.image(t, owner, "x")
	p.tag(t, owner, img, "go")
	// Another replica is rebuilding: this one ranks directly, caching nothing.
	lock, ok, err := p.app.Locks.Acquire(ctx, "lock:feed", time.Minute)
	if err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	items, total, err := p.app.Feed(ctx, owner, nil, ports.Page{Limit: 10})
	if err != nil || total != 2 || len(items) != 2 {
		t.Fatalf("feed while locked: got %d (total %d), %v, want 2", len(items), total, err)
	}
	if _, _, cachedNow, _ := p.feed.Range(ctx, "global", 0, -1); cachedNow {
		t.Fatal("a replica without the lock stored the feed")
	}
	noErr(t, lock.Release(ctx), "release")
	_, _, err = p.app.Feed(ctx, owner, []string{"go"}, ports.Page{Limit: 10})
	noErr(t, err, "feed")
	ch := mustChannel(t, p, "go")
	if _, n, cachedNow, _ := p.feed.Range(ctx, "channel:"+ch.ID.Hex(), 0, -1); !cachedNow || n != 1 {
		t.Fatalf("go feed after a request: cached %v with %d entries, want cached with 1", cachedNow, n)
	}
	// A broken cache degrades to ranking at request time.
	p.clock.Advance(time.Hour)
	p.feed.FailNext("Range", domain.E(domain.ErrUnavailable, "service unavailable"))
	items, _, err = p.app.Feed(ctx, owner, nil, ports.Page{Limit: 10})
	if err != nil || len(items) != 2 {
		t.Fatalf("feed with a failing cache: got %d, %v, want 2", len(items), err)
	}
}

func TestImagePage(t *testing.T) {
	p := newPubEnv(t)
	ctx := t.Context()
	owner, fan, other := p.member(t, "owner"), p.member(t, "fan"), p.member(t, "other")
	img := p.image(t, owner, "page")
	p.tag(t, owner, img, "go")
	v, err := p.app.Vote(ctx, fan, str(img.ID.Short()))
	noErr(t, err, "vote")
	for i := range app.PageComments + 2 {
		_, err := p.app.PostComment(ctx, other, img.ID.Short(), str(fmt.Sprintf("c%d", i)))
		noErr(t, err, "comment")
	}
	pg, err := p.app.GetImagePage(ctx, fan, img.ID.Short())
	noErr(t, err, "page")
	if pg.Image.ID != img.ID || len(pg.Image.Tags) != 1 || pg.Owner == nil || pg.Owner.Username != owner.Username ||
		pg.Owner.ImagesCount != 1 || pg.Votes != 1 || pg.Vote == nil || pg.Vote.ID != v.ID ||
		len(pg.Comments) != app.PageComments || pg.CommentsTotal != app.PageComments+2 || pg.Comments[0].Text != "c0" {
		t.Fatalf("page: got %+v", pg)
	}
	// The template is the root: its tags are the derived tags.
	if len(pg.RootTags) != 1 || pg.RootTags[0].Name != "shell" {
		t.Fatalf("root tags: got %+v, want shell", pg.RootTags)
	}
	pg, err = p.app.GetImagePage(ctx, other, img.ID.Short())
	if err != nil || pg.Vote != nil {
		t.Fatalf("page for a non-voter: got vote %+v, %v", pg.Vote, err)
	}
	noErr(t, p.app.DeleteUser(ctx, owner, "me"), "delete owner")
	pg, err = p.app.GetImagePage(ctx, other, img.ID.Short())
	if err != nil || pg.Owner != nil {
		t.Fatalf("page of a deleted owner's image: got owner %+v, %v, want nil", pg.Owner, err)
	}
	_, err = p.app.GetImagePage(ctx, other, "AAAAAAAAAAAAAAAA")
	wantMsg(t, err, domain.ErrNotFound, "runnable not found")
}
