package op

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimits bounds how often one client IP, and one Ethereum address, may
// ask for challenges and submit signatures, so nobody can fill the database
// with challenges or grind signatures. Buckets live in each replica's memory:
// with N replicas behind a balancer the effective limit is up to N times
// higher, which is the usual trade for not touching the database per request.
type RateLimits struct {
	// PerIP is the number of requests per Window from one client IP; 0 turns it off.
	PerIP int
	// PerAddress is the number of challenges per Window for one address; 0 turns it off.
	PerAddress int
	// Window is the period the limits refer to.
	Window time.Duration
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
}

// limiter is a set of token buckets keyed by string.
type limiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(perWindow int, window time.Duration, now func() time.Time) *limiter {
	if perWindow <= 0 || window <= 0 {
		return nil
	}
	return &limiter{
		rate:    float64(perWindow) / window.Seconds(),
		burst:   float64(perWindow),
		now:     now,
		buckets: map[string]*bucket{},
	}
}

// allow takes one token for key; when none is left it says how long to wait.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= 100_000 {
			l.evictFull(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// evictFull forgets buckets that have refilled: they hold no information.
func (l *limiter) evictFull(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// clientIP is the caller's address: the peer, or, when the peer is a trusted
// proxy, the last X-Forwarded-For hop that is not one.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !inPrefixes(ip, trusted) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !inPrefixes(hop, trusted) {
			return hop.String()
		}
	}
	return host
}

func inPrefixes(ip netip.Addr, ps []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// rateLimited answers 429 with Retry-After (RFC 6585 §4).
func rateLimited(w http.ResponseWriter, wait time.Duration, withMessage bool) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeJSONError(w, http.StatusTooManyRequests, "too_many_requests", "too many requests; retry after "+strconv.Itoa(secs)+" s", withMessage)
}
