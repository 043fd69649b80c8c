// Package floor measures the cryptographic floor of one Signet sign-in, for
// the benchmarks: two RSA-2048 PKCS#1 v1.5 signatures (ID token and JWT
// access token) and one secp256k1 recovery (the wallet's signature).
package floor

import (
	"syscall"
	"time"
)

// ProcessCPU is this process's user and system CPU time.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
