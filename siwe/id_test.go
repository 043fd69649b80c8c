package siwe

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// IDs made later sort after those made earlier, bytewise and whatever the
// random part, from 1970 to past 5000; the prefix is fixed-width.
func TestOrderedIDSortsByTime(t *testing.T) {
	instants := []time.Time{
		time.UnixMilli(0), time.UnixMilli(1), time.UnixMilli(35), time.UnixMilli(36),
		time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 19, 0, 0, 1e6, time.UTC),
		time.Date(5000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	var ids []string
	for i, at := range instants {
		random := "zzzz"
		if i%2 == 1 {
			random = "0000"
		}
		id := OrderedID(at, random)
		if len(id) != orderedWidth+len(random) || !strings.HasSuffix(id, random) {
			t.Errorf("OrderedID(%v, %q) = %q: want a %d-character prefix", at, random, id, orderedWidth)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("IDs do not sort by time: %q", ids)
	}
	if got := OrderedID(time.UnixMilli(-5), "r"); got != "0000000000r" {
		t.Errorf("before 1970: %q", got)
	}
}
