package main

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/internal/floor"
)

// BenchmarkServeMemory runs `signet serve` as its own process on SQLite,
// drives b.N headless logins (JSON nonce → sign → verify) through it from 8
// concurrent clients, and reports the server's peak resident set (VmHWM),
// its logins/s, and the server process's own CPU per login against the
// cryptographic floor (two RSA-2048 signatures and one recovery, measured by
// floor.Measure just before and just after the run) and beyond it: the load
// generator's CPU is not counted here.
//
//	go test -run '^$' -bench ServeMemory -benchtime 40000x ./cmd/signet/   # over a minute
func BenchmarkServeMemory(b *testing.B) {
	addr := freePort(b)
	issuer := "http://" + addr
	env := map[string]string{
		"SIGNET_DATABASE":               "sqlite:" + filepath.Join(b.TempDir(), "signet.db"),
		"SIGNET_SECRET":                 strings.Repeat("m", 40),
		"SIGNET_ISSUER":                 issuer,
		"SIGNET_LISTEN":                 addr,
		"SIGNET_RATE_LIMIT_PER_IP":      "0",
		"SIGNET_RATE_LIMIT_PER_ADDRESS": "0",
		"SIGNET_LOG_LEVEL":              "warn",
	}
	out, err := run(b, env, "clients", "add", "--create", "--json", "--public", "--name", "Bench", "--redirect-uri", "https://bench.example/cb")
	if err != nil {
		b.Fatal(err)
	}
	var client map[string]string
	_ = json.Unmarshal([]byte(out), &client)
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	p := startSignet(b, list)
	waitReady(b, issuer)

	const workers = 8
	keys := make([]*ecdsa.PrivateKey, workers)
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
	}
	serverCPU := func() time.Duration { return processCPU(b, p.cmd.Process.Pid) }
	var next atomic.Int64
	var wg sync.WaitGroup
	before := floor.Measure()
	b.ResetTimer()
	cpu0, start := serverCPU(), time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := jsonLogin(b, issuer, client["client_id"], keys[w]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	perLogin := (serverCPU() - cpu0) / time.Duration(b.N)
	fl := (before + floor.Measure()) / 2
	status, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	b.ReportMetric(procKB(string(status), "VmHWM:")/1024, "server-peak-rss-MB")
	b.ReportMetric(procKB(string(status), "VmRSS:")/1024, "server-rss-MB")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "logins/s")
	b.ReportMetric(float64(perLogin.Microseconds())/1000, "server-cpu-ms/login")
	b.ReportMetric(float64(fl.Microseconds())/1000, "floor-ms/login")
	b.ReportMetric(float64((perLogin-fl).Microseconds())/1000, "beyond-floor-ms/login")
	b.ReportMetric(float64(fl)/float64(perLogin), "floor/server-cpu")
	b.ReportMetric(0, "ns/op")
}

// processCPU is a process's user+system CPU time, from /proc/PID/stat.
func processCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields of the line, in clock ticks (USER_HZ = 100).
	_, rest, _ := strings.Cut(string(raw), ") ")
	f := strings.Fields(rest)
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * (time.Second / 100)
}

// jsonLogin signs in once through /auth/nonce and /auth/verify.
func jsonLogin(b *testing.B, issuer, clientID string, key *ecdsa.PrivateKey) error {
	address := crypto.PubkeyToAddress(key.PublicKey).Hex()
	status, n, err := postJSONTo(issuer+"/auth/nonce", map[string]any{"address": address, "client_id": clientID})
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("nonce: %d %v %v", status, n, err)
	}
	msg := n["message"].(string)
	status, tok, err := postJSONTo(issuer+"/auth/verify", map[string]any{"message": msg, "signature": personalSign(b, key, msg)})
	if err != nil || status != http.StatusOK || tok["id_token"] == nil {
		return fmt.Errorf("verify: %d %v %v", status, tok, err)
	}
	return nil
}

// procKB reads a "Name:   123 kB" line of /proc/PID/status.
func procKB(status, name string) float64 {
	for _, line := range strings.Split(status, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name {
			n, _ := strconv.ParseFloat(f[1], 64)
			return n
		}
	}
	return 0
}
