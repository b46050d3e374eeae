package mongostore

// SetInlineBudget changes how much cached content a file index document
// holds inline, for the length of a test.
func SetInlineBudget(n int) (restore func()) {
	old := inlineBudget
	inlineBudget = n
	return func() { inlineBudget = old }
}
