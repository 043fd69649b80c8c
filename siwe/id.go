package siwe

import (
	"strconv"
	"strings"
	"time"
)

// orderedWidth is the width of OrderedID's time prefix: ten base-36 digits
// of Unix milliseconds last until the year 5000.
const orderedWidth = 10

// OrderedID returns random behind a prefix that sorts by t: the Unix time in
// milliseconds, in lowercase base-36 digits, which sort the same way as
// bytes and under any collation. Rows keyed by such IDs go to the end of
// their primary-key index instead of to a random page of it, so a
// transaction that stores several of them dirties one page of the index,
// not one each. The ID is as hard to guess as random alone.
func OrderedID(t time.Time, random string) string {
	prefix := strconv.FormatInt(max(t.UnixMilli(), 0), 36)
	return strings.Repeat("0", max(orderedWidth-len(prefix), 0)) + prefix + random
}
