// Package floor measures the cryptographic floor of one Signet sign-in, for
// the benchmarks: two RSA-2048 PKCS#1 v1.5 signatures (ID token and JWT
// access token) and one secp256k1 recovery (the wallet's signature).
package floor

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

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
