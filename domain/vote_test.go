package domain_test

import (
	"testing"

	"github.com/runnable/runnable/domain"
)

func TestImageVote(t *testing.T) {
	listed := &domain.Image{ID: domain.ID{0x1a}, Owner: ownerID, Version: 1}
	saving := &domain.Image{ID: domain.ID{0x1b}, Owner: ownerID, Version: 0}
	tests := []struct {
		name    string
		img     *domain.Image
		by      *domain.User
		wantErr error
		wantMsg string
	}{
		{"stranger votes", listed, stranger, nil, ""},
		{"anonymous stranger votes", listed, anonElse, nil, ""},
		{"moderator votes", listed, mod, nil, ""},
		{"owner cannot", listed, owner, domain.ErrForbidden, "cannot vote for own runnables"},
		{"anonymous owner cannot", listed, anonUser, domain.ErrForbidden, "cannot vote for own runnables"},
		{"version 0 is not found", saving, stranger, domain.ErrNotFound, "runnable not found"},
		{"version 0 not found even for its owner", saving, owner, domain.ErrNotFound, "runnable not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.img.Vote(tt.by, domain.ID{0x77}, now)
			checkErr(t, err, tt.wantErr, tt.wantMsg)
			if err != nil {
				return
			}
			want := domain.Vote{ID: domain.ID{0x77}, User: tt.by.ID, Image: tt.img.ID, Created: now}
			if *v != want {
				t.Fatalf("got %+v, want %+v", *v, want)
			}
		})
	}
}

func TestVoteCanRemove(t *testing.T) {
	v := &domain.Vote{ID: domain.ID{0x77}, User: otherID, Image: domain.ID{0x1a}}
	tests := []struct {
		name    string
		by      *domain.User
		wantMsg string
	}{
		{"voter", stranger, ""},
		{"someone else", owner, "vote not found"},
		{"moderator is not the voter", mod, "vote not found"},
		{"nobody", nil, "vote not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, v.CanRemove(tt.by), domain.ErrNotFound, tt.wantMsg)
		})
	}
}

func TestCanSeeVotes(t *testing.T) {
	tests := []struct {
		name   string
		caller *domain.User
		user   *domain.User
		want   bool
	}{
		{"self", stranger, stranger, true},
		{"anonymous self", anonElse, anonElse, true},
		{"other user", owner, stranger, false},
		{"moderator", mod, stranger, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.CanSeeVotes(tt.caller, tt.user) == nil; got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckStat(t *testing.T) {
	tests := []struct {
		give string
		ok   bool
	}{
		{"views", true}, {"copies", true}, {"runs", true}, {"cuts", true}, {"pastes", true},
		{"votes", false}, {"Views", false}, {"", false}, {"run", false},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			err := domain.CheckStat(tt.give)
			if tt.ok {
				checkErr(t, err, nil, "")
			} else {
				checkErr(t, err, domain.ErrInvalid, "not a valid stat")
			}
		})
	}
}
