//go:build !unix

package redisstore

// lockDir does nothing where flock is missing: one process per data
// directory is then the operator's duty.
func lockDir(string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
