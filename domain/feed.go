package domain

import (
	"bytes"
	"math"
	"sort"
	"time"
)

// Score is the feed score (spec §7.4): (runs + 3) / (hours + 2)^1.5.
func Score(runs int, created, now time.Time) float64 {
	hours := now.Sub(created).Hours()
	if hours < 0 {
		hours = 0
	}
	return float64(runs+3) / math.Pow(hours+2, 1.5)
}

// SortByScore orders images by score descending, then newer created, then
// higher id.
func SortByScore(imgs []*Image, now time.Time) {
	score := make(map[ID]float64, len(imgs))
	for _, img := range imgs {
		score[img.ID] = Score(img.Stats.Runs, img.Created, now)
	}
	sort.SliceStable(imgs, func(i, j int) bool {
		a, b := imgs[i], imgs[j]
		if score[a.ID] != score[b.ID] {
			return score[a.ID] > score[b.ID]
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return bytes.Compare(a.ID[:], b.ID[:]) > 0
	})
}
