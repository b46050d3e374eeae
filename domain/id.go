package domain

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// ID is a 12-byte ObjectId. The zero ID means "none".
type ID [12]byte

// NilID is the zero ID.
var NilID ID

// IsZero reports whether id is unset.
func (id ID) IsZero() bool { return id == NilID }

// Hex is the 24-character lower-case hex form used for users, tags, files and
// every other non-runnable resource.
func (id ID) Hex() string { return hex.EncodeToString(id[:]) }

// Short is the 16-character base64url form used for images and drafts.
func (id ID) Short() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// String returns the hex form.
func (id ID) String() string { return id.Hex() }

// ParseHex parses the 24-character hex form (upper case accepted).
func ParseHex(s string) (ID, bool) {
	var id ID
	if len(s) != 24 {
		return id, false
	}
	b, err := hex.DecodeString(strings.ToLower(s))
	if err != nil {
		return id, false
	}
	copy(id[:], b)
	return id, true
}

// ParseShort parses the 16-character base64url form.
func ParseShort(s string) (ID, bool) {
	var id ID
	if len(s) != 16 {
		return id, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 12 {
		return id, false
	}
	copy(id[:], b)
	return id, true
}

// ParseRunnableID accepts either form, as runnable ids may be given.
func ParseRunnableID(s string) (ID, bool) {
	if id, ok := ParseHex(s); ok {
		return id, true
	}
	return ParseShort(s)
}
