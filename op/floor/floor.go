// Package floor measures the cryptographic floor of one Signet sign-in, for
// the benchmarks: two RSA-2048 PKCS#1 v1.5 signatures (ID token and JWT
// access token) and one secp256k1 recovery (the wallet's signature).
package floor

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/siwe"
)

// PerLogin is the CPU time of one login's unavoidable cryptography, run on
// every core at once as a loaded server runs it (two hyperthreads of one
// core are slower together than one alone); the median of several rounds.
func PerLogin() time.Duration {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	key.Precompute()
	digest := sha256.Sum256([]byte("floor"))
	ek, _ := ethcrypto.GenerateKey()
	h := siwe.TextHash([]byte("floor"))
	sig, _ := ethcrypto.Sign(h[:], ek)
	runtime.GC()
	workers := runtime.GOMAXPROCS(0)
	var rounds []time.Duration
	for range 5 {
		const n = 8 // logins' worth of cryptography per worker and round
		start := ProcessCPU()
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n {
					_, _ = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
					_, _ = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
					_, _ = ethcrypto.SigToPub(h[:], sig)
				}
			}()
		}
		wg.Wait()
		rounds = append(rounds, (ProcessCPU()-start)/time.Duration(n*workers))
	}
	slices.Sort(rounds)
	return rounds[len(rounds)/2]
}

// ProcessCPU is this process's user and system CPU time.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
