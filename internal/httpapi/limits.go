package httpapi

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimits bounds how often one caller may start sign-ins, ask for
// challenges and submit signatures, so that nobody can fill the database or
// grind signatures. Every budget belongs to whoever asks: it is keyed on
// the caller's IP (IPv6 by /64), or on the IP and the address asked for,
// never on a value that anyone can name alone. A budget keyed on the
// address alone would let anyone lock a wallet or a developer license out
// by spending it (license addresses are public: they are client IDs).
//
// Buckets live in each replica's memory: with N replicas behind a balancer
// the effective limit is up to N times higher, which is the usual trade for
// not touching the database per request.
type RateLimits struct {
	// PerIP is the number of requests per Window from one client IP; 0 turns it off.
	PerIP int
	// PerAddress is the number of challenges per Window that one client IP
	// may ask for one address; 0 turns it off.
	PerAddress int
	// Window is the period the limits refer to.
	Window time.Duration
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
}

// Limits are the sign-in endpoints' two budgets (see RateLimits).
type Limits struct {
	caller, address *limiter
	trusted         []netip.Prefix
}

// NewLimits builds the budgets of cfg; now is the clock.
func NewLimits(cfg RateLimits, now func() time.Time) *Limits {
	return &Limits{
		caller:  newLimiter(cfg.PerIP, cfg.Window, now),
		address: newLimiter(cfg.PerAddress, cfg.Window, now),
		trusted: cfg.TrustedProxies,
	}
}

// Allow spends one request of r's caller and, when address is set, one of
// that caller's budget for the address; when either is spent it says how
// long to wait.
func (l *Limits) Allow(r *http.Request, address string) (bool, time.Duration) {
	caller := CallerKey(r, l.trusted)
	if ok, wait := l.caller.allow(caller); !ok {
		return false, wait
	}
	if address != "" {
		if ok, wait := l.address.allow(caller + " " + address); !ok {
			return false, wait
		}
	}
	return true, 0
}

// maxBuckets bounds a limiter's memory; past it, the least recently used
// bucket is forgotten.
const maxBuckets = 100_000

// limiter is a set of token buckets keyed by string, bounded by an LRU list.
type limiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time
	max   int

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket
	lru     list.List                // most recently used first
}

type bucket struct {
	key    string
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
		max:     maxBuckets,
		buckets: map[string]*list.Element{},
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
	var b *bucket
	if e, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(e)
		b = e.Value.(*bucket)
	} else {
		if len(l.buckets) >= l.max {
			oldest := l.lru.Back()
			l.lru.Remove(oldest)
			delete(l.buckets, oldest.Value.(*bucket).key)
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.buckets[key] = l.lru.PushFront(b)
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

// CallerKey is who asks, for rate limiting: the client IP, with an IPv6
// address cut to its /64, since one host commonly holds a whole /64.
func CallerKey(r *http.Request, trusted []netip.Prefix) string {
	ip, err := netip.ParseAddr(clientIP(r, trusted))
	if err != nil {
		return clientIP(r, trusted)
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
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

// RetryAfter is a wait in whole seconds, at least one (RFC 9110 §10.2.3).
func RetryAfter(wait time.Duration) int {
	return max(int(math.Ceil(wait.Seconds())), 1)
}

// WriteTooMany answers 429 with Retry-After (RFC 6585 §4) as OAuth JSON.
func WriteTooMany(w http.ResponseWriter, wait time.Duration, withMessage bool) {
	secs := RetryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	WriteError(w, http.StatusTooManyRequests, "too_many_requests", "too many requests; retry after "+strconv.Itoa(secs)+" s", withMessage)
}
