package httpapi

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestCallerKeyGroupsIPv6By64(t *testing.T) {
	key := func(remote string) string {
		return CallerKey(&http.Request{RemoteAddr: remote}, nil)
	}
	same := [][2]string{
		{"[2001:db8:1:2::1]:1000", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:2000"},
		{"127.0.0.1:1", "127.0.0.1:2"},
		{"[::ffff:10.0.0.1]:1", "10.0.0.1:2"},
	}
	for _, p := range same {
		if key(p[0]) != key(p[1]) {
			t.Errorf("%s and %s are different callers (%q, %q), want one", p[0], p[1], key(p[0]), key(p[1]))
		}
	}
	differ := [][2]string{
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:3::1]:1"},
		{"10.0.0.1:1", "10.0.0.2:1"},
	}
	for _, p := range differ {
		if key(p[0]) == key(p[1]) {
			t.Errorf("%s and %s are one caller (%q), want two", p[0], p[1], key(p[0]))
		}
	}
}

func TestLimiterForgetsLeastRecentlyUsed(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(1, time.Hour, func() time.Time { return now })
	l.max = 3
	for i := range 3 {
		if ok, _ := l.allow(strconv.Itoa(i)); !ok {
			t.Fatalf("first request of %d refused", i)
		}
	}
	// Touch 0, so that 1 is the least recently used; a fourth key evicts it.
	if ok, _ := l.allow("0"); ok {
		t.Fatal("second request of 0 allowed past a burst of 1")
	}
	l.allow("3")
	if len(l.buckets) != 3 {
		t.Fatalf("%d buckets, want at most 3", len(l.buckets))
	}
	if ok, _ := l.allow("1"); !ok {
		t.Fatal("1 was not forgotten: its empty bucket survived")
	}
	if ok, _ := l.allow("0"); ok {
		t.Fatal("0 was forgotten although it was used recently")
	}
}

func TestLimiterRefills(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(2, time.Minute, func() time.Time { return now })
	l.allow("a")
	l.allow("a")
	ok, wait := l.allow("a")
	if ok || wait <= 0 || wait > 30*time.Second {
		t.Fatalf("third request: ok=%v wait=%v, want refused with a wait of at most 30 s", ok, wait)
	}
	now = now.Add(wait)
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("refused after the announced wait")
	}
}
