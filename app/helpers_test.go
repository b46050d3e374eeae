package app_test

import "github.com/runnable/runnable/ports"

var pageAll = ports.Page{Limit: 1000}
