package httpapi

import (
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

type categoryTagView struct {
	ID       string `json:"_id"`
	Category string `json:"category"`
	Name     string `json:"name"`
}

func categoryTagsView(tags []domain.CategoryTag) []categoryTagView {
	out := make([]categoryTagView, 0, len(tags))
	for _, t := range tags {
		out = append(out, categoryTagView{ID: t.ID.Hex(), Category: t.Category.Hex(), Name: t.Name})
	}
	return out
}

func strings0(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type channelView struct {
	ID          string            `json:"_id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Aliases     []string          `json:"aliases"`
	Tags        []categoryTagView `json:"tags"`
	Count       int               `json:"count"`
	Created     jsonTime          `json:"created"`
}

func newChannelView(c app.ChannelInfo) channelView {
	return channelView{ID: c.ID.Hex(), Name: c.Name, Description: c.Description, Aliases: strings0(c.Aliases),
		Tags: categoryTagsView(c.Tags), Count: c.Count, Created: jsonTime(c.Created)}
}

type categoryView struct {
	ID          string   `json:"_id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Aliases     []string `json:"aliases"`
	Count       int      `json:"count"`
	Created     jsonTime `json:"created"`
}

func newCategoryView(c app.CategoryInfo) categoryView {
	return categoryView{ID: c.ID.Hex(), Name: c.Name, Description: c.Description, Aliases: strings0(c.Aliases),
		Count: c.Count, Created: jsonTime(c.Created)}
}

type voteView struct {
	ID       string   `json:"_id"`
	Runnable string   `json:"runnable"`
	Created  jsonTime `json:"created"`
}

func newVoteView(v *domain.Vote) voteView {
	return voteView{ID: v.ID.Hex(), Runnable: v.Image.Short(), Created: jsonTime(v.Created)}
}

type statView struct {
	Image int `json:"image"`
	User  int `json:"user"`
}

type commentUserView struct {
	ID       string  `json:"_id"`
	Username *string `json:"username"`
	Gravatar *string `json:"gravatar"`
}

type commentView struct {
	ID       string          `json:"_id"`
	Runnable string          `json:"runnable"`
	User     commentUserView `json:"user"`
	Text     string          `json:"text"`
	Created  jsonTime        `json:"created"`
}

func newCommentView(c app.CommentInfo) commentView {
	return commentView{
		ID: c.ID.Hex(), Runnable: c.Image.Short(), Text: c.Text, Created: jsonTime(c.Created),
		User: commentUserView{ID: c.Author.ID.Hex(), Username: strOrNil(c.Author.Username), Gravatar: strOrNil(c.Author.Gravatar())},
	}
}

func commentsView(cs []app.CommentInfo) []commentView {
	out := make([]commentView, len(cs))
	for i, c := range cs {
		out[i] = newCommentView(c)
	}
	return out
}

// feedItemView is an image with its feed score (spec §7.4).
type feedItemView struct {
	imageView
	Score float64 `json:"score"`
}

// pageView is GET /runnables/:id?view=page: what a runnable's page shows.
type pageView struct {
	Image         imageView       `json:"image"`
	Owner         *publicUserView `json:"owner"`
	RootTags      []tagView       `json:"root_tags"`
	Votes         int             `json:"votes"`
	Voted         bool            `json:"voted"`
	Vote          *voteView       `json:"vote"`
	Comments      []commentView   `json:"comments"`
	CommentsCount int             `json:"comments_count"`
}

func (s *Server) newPageView(pg *app.ImagePage) pageView {
	owner := ""
	var ov *publicUserView
	if pg.Owner != nil {
		v := publicView(pg.Owner)
		ov = &v
		if pg.Owner.Registered() {
			owner = pg.Owner.Username
		}
	}
	out := pageView{
		Image: newImageView(pg.Image, owner), Owner: ov, RootTags: tagsView(pg.RootTags), Votes: pg.Votes,
		Voted: pg.Vote != nil, Comments: commentsView(pg.Comments), CommentsCount: pg.CommentsTotal,
	}
	if pg.Vote != nil {
		v := newVoteView(pg.Vote)
		out.Vote = &v
	}
	return out
}
