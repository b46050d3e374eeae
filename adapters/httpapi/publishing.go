package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

// publishingRoutes registers the publishing routes (spec §6, §7): tags,
// channels, categories, votes, stats, comments and the feed.
func (s *Server) publishingRoutes() {
	any := routeOpts{}
	get, post, put, patch, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete

	// tags on images and drafts (spec §6.2)
	s.route(get, "/runnables/:id/tags", s.listImageTags, any)
	s.route(post, "/runnables/:id/tags", s.tagImage, any)
	s.route(get, "/runnables/:id/tags/:tagId", s.getImageTag, any)
	s.route(del, "/runnables/:id/tags/:tagId", s.untagImage, any)
	d := "/users/:userId/runnables/:id/tags"
	s.route(get, d, s.listDraftTags, any)
	s.route(post, d, s.tagDraft, any)
	s.route(get, d+"/:tagId", s.getDraftTag, any)
	s.route(del, d+"/:tagId", s.untagDraft, any)

	// channels and categories (spec §6.3, §6.4)
	s.route(get, "/channels", s.listChannels, any)
	s.route(post, "/channels", s.createChannel, any)
	s.route(get, "/channels/:id", s.getChannel, any)
	s.route(put, "/channels/:id", s.updateChannel, any)
	s.route(patch, "/channels/:id", s.updateChannel, any)
	s.route(del, "/channels/:id", s.deleteChannel, any)
	s.route(put, "/channels/:id/aliases", s.setChannelAliases, any)
	s.route(get, "/channels/:id/tags", s.listChannelTags, any)
	s.route(post, "/channels/:id/tags", s.tagChannel, any)
	s.route(get, "/channels/:id/tags/:tagId", s.getChannelTag, any)
	s.route(del, "/channels/:id/tags/:tagId", s.untagChannel, any)
	s.route(get, "/categories", s.listCategories, any)
	s.route(post, "/categories", s.createCategory, any)
	s.route(get, "/categories/:id", s.getCategory, any)
	s.route(put, "/categories/:id", s.updateCategory, any)
	s.route(patch, "/categories/:id", s.updateCategory, any)
	s.route(del, "/categories/:id", s.deleteCategory, any)
	s.route(put, "/categories/:id/aliases", s.setCategoryAliases, any)

	// votes, stats, comments and the feed (spec §7)
	s.route(get, "/users/:userId/votes", s.listVotes, any)
	s.route(post, "/users/me/votes", s.vote, any)
	s.route(del, "/users/me/votes/:voteId", s.removeVote, any)
	s.route(get, "/runnables/:id/votes", s.countVotes, any)
	s.route(get, "/runnables/:id/stats/:stat", s.getStat, any)
	s.route(post, "/runnables/:id/stats/:stat", s.addStat, any)
	s.route(get, "/runnables/:id/comments", s.listComments, any)
	s.route(post, "/runnables/:id/comments", s.postComment, any)
	s.route(get, "/runnables/:id/comments/:commentId", s.getComment, any)
	s.route(del, "/runnables/:id/comments/:commentId", s.deleteComment, any)
	s.route(get, "/feeds/images", s.feed, any)
}

var tagDeleted = map[string]string{"message": "tag deleted"}

// optStr reads a string field; a value of another type counts as absent,
// so that the use case answers its "must include" message in the order of
// spec §1.5 (level, path, ownership, then input).
func optStr(b body, k string) *string {
	v, err := b.str(k, "")
	if err != nil {
		return nil
	}
	return v
}

func (s *Server) listImageTags(c echo.Context) error {
	tags, err := s.app.ListImageTags(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tagsView(tags))
}

func (s *Server) getImageTag(c echo.Context) error {
	tag, err := s.app.GetImageTag(c.Request().Context(), caller(c), c.Param("id"), c.Param("tagId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tagsView([]domain.Tag{tag})[0])
}

func (s *Server) tagImage(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	tag, err := s.app.TagImage(c.Request().Context(), caller(c), c.Param("id"), optStr(b, "name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tagsView([]domain.Tag{tag})[0])
}

func (s *Server) untagImage(c echo.Context) error {
	if err := s.app.UntagImage(c.Request().Context(), caller(c), c.Param("id"), c.Param("tagId")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tagDeleted)
}

func (s *Server) listDraftTags(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	tags, err := s.app.ListDraftTags(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tagsView(tags))
}

func (s *Server) getDraftTag(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	tag, err := s.app.GetDraftTag(c.Request().Context(), caller(c), c.Param("id"), c.Param("tagId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tagsView([]domain.Tag{tag})[0])
}

func (s *Server) tagDraft(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	tag, err := s.app.TagDraft(c.Request().Context(), caller(c), c.Param("userId"), c.Param("id"), optStr(b, "name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tagsView([]domain.Tag{tag})[0])
}

func (s *Server) untagDraft(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	if err := s.app.UntagDraft(c.Request().Context(), caller(c), c.Param("id"), c.Param("tagId")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tagDeleted)
}

// namedInput reads `{name, description}` of channels and categories.
func namedInput(b body) (name, desc *string, err error) {
	if name, err = b.str("name", "name must be 1 to 50 characters"); err != nil {
		return nil, nil, err
	}
	if desc, err = b.str("description", "description must be at most 2000 characters"); err != nil {
		return nil, nil, err
	}
	return name, desc, nil
}

// queryPtr returns a query parameter, nil when absent.
func queryPtr(c echo.Context, name string) *string {
	if !c.QueryParams().Has(name) {
		return nil
	}
	v := c.QueryParam(name)
	return &v
}

func (s *Server) listChannels(c echo.Context) error {
	p, err := s.page(c)
	if err != nil {
		return err
	}
	in := app.ChannelListInput{Name: queryPtr(c, "name"), Category: queryPtr(c, "category"),
		Channel: queryPtr(c, "channel"), Sort: c.QueryParam("sort"), Page: p}
	if c.QueryParams().Has("sort") && in.Sort == "" {
		in.Sort = "?" // present but empty: invalid
	}
	chans, total, err := s.app.ListChannels(c.Request().Context(), in)
	if err != nil {
		return err
	}
	out := make([]channelView, len(chans))
	for i, ch := range chans {
		out[i] = newChannelView(ch)
	}
	return s.paged(c, p, total, out)
}

func (s *Server) createChannel(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := domain.CanManageChannels(caller(c)); err != nil {
		return err // the level comes before the input (spec §1.5)
	}
	name, desc, err := namedInput(b)
	if err != nil {
		return err
	}
	ch, err := s.app.CreateChannel(c.Request().Context(), caller(c), name, desc)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/channels/"+ch.ID.Hex())
	return c.JSON(http.StatusCreated, newChannelView(*ch))
}

func (s *Server) getChannel(c echo.Context) error {
	ch, err := s.app.GetChannel(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newChannelView(*ch))
}

func (s *Server) updateChannel(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	ctx, u := c.Request().Context(), caller(c)
	if err := s.app.CheckChannelAccess(ctx, u, c.Param("id")); err != nil {
		return err // level and path before the input (spec §1.5)
	}
	name, desc, err := namedInput(b)
	if err != nil {
		return err
	}
	ch, err := s.app.UpdateChannel(ctx, u, c.Param("id"), name, desc)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newChannelView(*ch))
}

func (s *Server) deleteChannel(c echo.Context) error {
	if err := s.app.DeleteChannel(c.Request().Context(), caller(c), c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "channel deleted"})
}

// readAliases reads a JSON array of at most MaxAliases strings, after
// check (level and path) passes.
func (s *Server) readAliases(c echo.Context, check func() error) ([]string, error) {
	raw, err := s.readJSONBytes(c)
	if err != nil {
		return nil, err
	}
	if err := check(); err != nil {
		return nil, err
	}
	if len(raw) > 0 && !json.Valid(raw) {
		return nil, errInvalidJSON
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return nil, domain.ErrBadAliases
	}
	return list, nil
}

func (s *Server) setChannelAliases(c echo.Context) error {
	ctx, u, id := c.Request().Context(), caller(c), c.Param("id")
	list, err := s.readAliases(c, func() error { return s.app.CheckChannelAccess(ctx, u, id) })
	if err != nil {
		return err
	}
	out, err := s.app.SetChannelAliases(ctx, u, id, list)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listChannelTags(c echo.Context) error {
	tags, err := s.app.ListChannelTags(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, categoryTagsView(tags))
}

func (s *Server) getChannelTag(c echo.Context) error {
	tag, err := s.app.GetChannelTag(c.Request().Context(), c.Param("id"), c.Param("tagId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, categoryTagsView([]domain.CategoryTag{tag})[0])
}

func (s *Server) tagChannel(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	tag, err := s.app.TagChannel(c.Request().Context(), caller(c), c.Param("id"), optStr(b, "name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, categoryTagsView([]domain.CategoryTag{tag})[0])
}

func (s *Server) untagChannel(c echo.Context) error {
	if err := s.app.UntagChannel(c.Request().Context(), caller(c), c.Param("id"), c.Param("tagId")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tagDeleted)
}

func (s *Server) listCategories(c echo.Context) error {
	p, err := s.page(c)
	if err != nil {
		return err
	}
	cats, total, err := s.app.ListCategories(c.Request().Context(), queryPtr(c, "name"), p)
	if err != nil {
		return err
	}
	out := make([]categoryView, len(cats))
	for i, cat := range cats {
		out[i] = newCategoryView(cat)
	}
	return s.paged(c, p, total, out)
}

func (s *Server) createCategory(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := domain.CanManageChannels(caller(c)); err != nil {
		return err
	}
	name, desc, err := namedInput(b)
	if err != nil {
		return err
	}
	cat, err := s.app.CreateCategory(c.Request().Context(), caller(c), name, desc)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/categories/"+cat.ID.Hex())
	return c.JSON(http.StatusCreated, newCategoryView(*cat))
}

func (s *Server) getCategory(c echo.Context) error {
	cat, err := s.app.GetCategory(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newCategoryView(*cat))
}

func (s *Server) updateCategory(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	ctx, u := c.Request().Context(), caller(c)
	if err := s.app.CheckCategoryAccess(ctx, u, c.Param("id")); err != nil {
		return err
	}
	name, desc, err := namedInput(b)
	if err != nil {
		return err
	}
	cat, err := s.app.UpdateCategory(ctx, u, c.Param("id"), name, desc)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newCategoryView(*cat))
}

func (s *Server) deleteCategory(c echo.Context) error {
	if err := s.app.DeleteCategory(c.Request().Context(), caller(c), c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "category deleted"})
}

func (s *Server) setCategoryAliases(c echo.Context) error {
	ctx, u, id := c.Request().Context(), caller(c), c.Param("id")
	list, err := s.readAliases(c, func() error { return s.app.CheckCategoryAccess(ctx, u, id) })
	if err != nil {
		return err
	}
	out, err := s.app.SetCategoryAliases(ctx, u, id, list)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listVotes(c echo.Context) error {
	p, err := s.page(c)
	if err != nil {
		return err
	}
	votes, total, err := s.app.ListVotes(c.Request().Context(), caller(c), c.Param("userId"), p)
	if err != nil {
		return err
	}
	out := make([]voteView, len(votes))
	for i, v := range votes {
		out[i] = newVoteView(v)
	}
	return s.paged(c, p, total, out)
}

func (s *Server) vote(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	runnable, err := b.str("runnable", domain.ErrVoteMissing.Message)
	if err != nil {
		return err
	}
	v, err := s.app.Vote(c.Request().Context(), caller(c), runnable)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, newVoteView(v))
}

func (s *Server) removeVote(c echo.Context) error {
	if err := s.app.RemoveVote(c.Request().Context(), caller(c), c.Param("voteId")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "removed vote"})
}

func (s *Server) countVotes(c echo.Context) error {
	n, err := s.app.CountVotes(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"count": n})
}

func (s *Server) getStat(c echo.Context) error {
	st, err := s.app.GetStat(c.Request().Context(), caller(c), c.Param("id"), c.Param("stat"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, statView{Image: st.Image, User: st.User})
}

func (s *Server) addStat(c echo.Context) error {
	if _, err := s.readBody(c); err != nil {
		return err
	}
	st, err := s.app.AddStat(c.Request().Context(), caller(c), c.Param("id"), c.Param("stat"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, statView{Image: st.Image, User: st.User})
}

func (s *Server) listComments(c echo.Context) error {
	p, err := s.page(c)
	if err != nil {
		return err
	}
	cs, total, err := s.app.ListComments(c.Request().Context(), caller(c), c.Param("id"), p)
	if err != nil {
		return err
	}
	return s.paged(c, p, total, commentsView(cs))
}

func (s *Server) postComment(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	cm, err := s.app.PostComment(c.Request().Context(), caller(c), c.Param("id"), optStr(b, "text"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, newCommentView(*cm))
}

func (s *Server) getComment(c echo.Context) error {
	cm, err := s.app.GetComment(c.Request().Context(), caller(c), c.Param("id"), c.Param("commentId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newCommentView(*cm))
}

func (s *Server) deleteComment(c echo.Context) error {
	if err := s.app.DeleteComment(c.Request().Context(), caller(c), c.Param("id"), c.Param("commentId")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "comment deleted"})
}

func (s *Server) feed(c echo.Context) error {
	p, err := s.page(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	items, total, err := s.app.Feed(ctx, caller(c), listParam(c, "channel"), p)
	if err != nil {
		return err
	}
	imgs := make([]*domain.Image, len(items))
	for i, it := range items {
		imgs[i] = it.Image
	}
	views := s.imageViews(ctx, imgs)
	out := make([]feedItemView, len(items))
	for i, it := range items {
		out[i] = feedItemView{imageView: views[i], Score: it.Score}
	}
	return s.paged(c, p, total, out)
}

// imagePage answers GET /runnables/:id?view=page: the page view of an
// image in one request (the seed's "view-level requests").
func (s *Server) imagePage(c echo.Context) error {
	ctx := c.Request().Context()
	pg, err := s.app.GetImagePage(ctx, caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.newPageView(pg))
}
