//go:build !unix

package embedded

import "os"

// lockDir is a no-op where flock is missing.
func lockDir(dir string) (*os.File, error) { return nil, nil }
