package app_test

import (
	"context"
	"time"

	"github.com/runnable/runnable/ports"
)

var pageAll = ports.Page{Limit: 1000}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
