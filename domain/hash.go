package domain

import (
	"crypto/md5" //nolint:gosec // gravatar's scheme, not security
	"encoding/hex"
)

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // gravatar's scheme
	return hex.EncodeToString(sum[:])
}
