package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// indexBeforeListing fails a test when a file index is written for an
// image that is already stored: a fork of a listed image must find its
// index complete.
type indexBeforeListing struct {
	ports.Files
	images *inmem.Images
	t      *testing.T
}

func (f indexBeforeListing) Replace(ctx context.Context, runnable domain.ID, files []domain.File) error {
	if img, err := f.images.Get(ctx, runnable); err == nil && img.Version >= 1 {
		f.t.Errorf("index of image %q written after the image was listed", img.Name)
	} else if err != nil && !errors.Is(err, domain.ErrNotFound) {
		f.t.Error(err)
	}
	return f.Files.Replace(ctx, runnable, files)
}

func TestImagesAreListedOnlyWithTheirIndex(t *testing.T) {
	images := inmem.NewImages()
	e := newEnvWith(t, func(d *app.Deps) {
		d.Images = images
		d.Files = indexBeforeListing{Files: d.Files, images: images, t: t}
	})
	e.images = images
	a, _ := e.anon(t) // newEnvWith imported the template through the wrapper already
	if _, err := e.app.CreateFromTemplate(t.Context(), a, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
}
