// Package floor measures the cryptographic floor of one Signet sign-in, for
// the benchmarks: the cost of the cryptography that no sign-in can skip, two
// RSA-2048 PKCS#1 v1.5 signatures (ID token and JWT access token) and one
// secp256k1 public-key recovery (the wallet's signature). A benchmark sets
// the CPU its server spends per sign-in against this floor.
//
// Measure runs that cryptography on every core at once for a fixed wall time
// and returns wall time × GOMAXPROCS per login: what a b.RunParallel
// benchmark of the same operations reports as ns/op × GOMAXPROCS. It reads
// the wall clock rather than the process's CPU clock because it runs inside
// a benchmark's server, whose own goroutines and garbage collector would be
// counted on that clock. For the same reason it is meant to run while no
// load does: a benchmark measures the floor just before and just after its
// run and takes the mean, so that a machine whose speed drifts is seen at
// both ends.
package floor

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/siwe"
)

// How long Measure runs: a short warm-up, left out, then the measurement.
const (
	warmUp  = 30 * time.Millisecond
	measure = 300 * time.Millisecond
)

// Measure returns the floor: the time one login's cryptography takes on one
// core while every core runs it.
func Measure() time.Duration {
	c := inputs()
	run(c, warmUp)
	wall, logins := run(c, measure)
	return wall * time.Duration(runtime.GOMAXPROCS(0)) / time.Duration(logins)
}

// run does logins on GOMAXPROCS goroutines until d has passed, and returns
// the wall time until the last of them has finished and how many were done.
func run(c *cryptoInputs, d time.Duration) (wall time.Duration, logins int64) {
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				c.login()
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return time.Since(start), n.Load()
}

// cryptoInputs are what one login's cryptography works on.
type cryptoInputs struct {
	key    *rsa.PrivateKey
	digest [32]byte
	hash   [32]byte // a SIWE message's hash, as the wallet signed it
	sig    []byte
}

var inputs = sync.OnceValue(func() *cryptoInputs {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	key.Precompute()
	ek, err := ethcrypto.GenerateKey()
	if err != nil {
		panic(err)
	}
	h := siwe.TextHash([]byte("floor"))
	sig, err := ethcrypto.Sign(h[:], ek)
	if err != nil {
		panic(err)
	}
	return &cryptoInputs{key: key, digest: sha256.Sum256([]byte("floor")), hash: h, sig: sig}
})

// Login is one login's cryptography, on keys made at its first call.
func Login() { inputs().login() }

// login is one login's cryptography.
func (c *cryptoInputs) login() {
	_, _ = rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, c.digest[:])
	_, _ = rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, c.digest[:])
	_, _ = ethcrypto.SigToPub(c.hash[:], c.sig)
}

// ProcessCPU is this process's user and system CPU time.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// MachineCPU is the CPU time the whole machine has spent busy (every
// process, the database server's too), from /proc/stat; where there is no
// /proc/stat, this process's own CPU time.
func MachineCPU() time.Duration {
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
		if len(f) >= 8 && f[0] == "cpu" {
			var ticks int64
			for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
				n, _ := strconv.ParseInt(f[i], 10, 64)
				ticks += n
			}
			return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
		}
	}
	return ProcessCPU()
}
