package op_test

// The login benchmarks' load runs in a child process of the test binary, as
// an app's clients run on other machines: the server's CPU (and its
// database's) is then measured apart from the load generator's, and neither
// competes with the other for the Go scheduler or the garbage collector.
//
// The child runs the logins and at the end writes one line on stdout,
// "done" and a JSON loadReport. It exits when its stdin closes.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/signet-id/signet/internal/floor"
)

// loadEnv carries a child's loadSpec; a test binary started with it is a
// load generator and nothing else.
const loadEnv = "SIGNET_BENCH_LOAD"

// loadSpec is the load one child generates.
type loadSpec struct {
	Flow     string `json:"flow"` // "headless" or "browser"
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Secret   string `json:"secret,omitempty"`
	Clients  int    `json:"clients"`
	Logins   int    `json:"logins"`
}

// loadReport is what a child measured.
type loadReport struct {
	Latencies []time.Duration `json:"latencies"`
	Wall      time.Duration   `json:"wall"` // from the first login to the last
	Err       string          `json:"err,omitempty"`
}

// loadFailure is how a helper's Fatal ends one of the child's logins.
type loadFailure struct{ msg string }

func (f loadFailure) Error() string { return f.msg }

// loadTB lets the tests' helpers run in the child, which has no testing.T:
// a failure ends the login with a loadFailure. Only the methods the login
// helpers call are implemented.
type loadTB struct{ testing.TB }

func (loadTB) Helper()                      {}
func (loadTB) Fatal(args ...any)            { panic(loadFailure{fmt.Sprint(args...)}) }
func (loadTB) Fatalf(f string, args ...any) { panic(loadFailure{fmt.Sprintf(f, args...)}) }
func (loadTB) Error(args ...any)            { panic(loadFailure{fmt.Sprint(args...)}) }
func (loadTB) Errorf(f string, args ...any) { panic(loadFailure{fmt.Sprintf(f, args...)}) }

// runLoadChild is the child's whole life.
func runLoadChild(specJSON string) int {
	var spec loadSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "load spec:", err)
		return 2
	}
	go func() {
		// The parent closes stdin once it has the report, or has died:
		// either way, there is nobody to work for.
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	rep := generateLoad(spec)
	b, _ := json.Marshal(rep)
	fmt.Println("done " + string(b))
	return 0
}

func generateLoad(spec loadSpec) (rep loadReport) {
	defer func() {
		if r := recover(); r != nil {
			rep.Err = fmt.Sprint(r)
		}
	}()
	var t loadTB
	ts := &testServer{Issuer: spec.Issuer}
	logins := make([]func() error, spec.Clients)
	for i := range logins {
		w := newWallet(t)
		switch spec.Flow {
		case "headless":
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			logins[i] = func() error { return headlessLogin(t, ts, hc, spec.ClientID, w) }
		case "browser":
			app := newRP(t, ts, spec.ClientID, spec.Secret)
			logins[i] = func() error {
				verifier := oauth2.GenerateVerifier()
				br := browser()
				id := authorize(t, ts, br, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
				cb := signIn(t, ts, br, id, w)
				_, err := app.config.Exchange(app.ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
				return err
			}
		default:
			panic("unknown flow " + spec.Flow)
		}
	}

	start := time.Now()
	var next atomic.Int64
	lat := make([][]time.Duration, spec.Clients)
	errs := make([]string, spec.Clients)
	var wg sync.WaitGroup
	for w := range spec.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[w] = fmt.Sprint(r)
				}
			}()
			for next.Add(1) <= int64(spec.Logins) {
				t0 := time.Now()
				err := logins[w]()
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					errs[w] = err.Error()
					return
				}
			}
		}()
	}
	wg.Wait()
	rep.Wall = time.Since(start)
	rep.Latencies = slices.Concat(lat...)
	rep.Err = strings.Join(slices.DeleteFunc(errs, func(s string) bool { return s == "" }), "; ")
	return rep
}

// loadChild is the parent's handle on a running child.
type loadChild struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	finished chan struct{} // closed once report is set
	report   loadReport
}

// startLoad starts a child that runs spec.
func startLoad(b *testing.B, spec loadSpec) *loadChild {
	b.Helper()
	raw, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), loadEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &loadChild{cmd: cmd, stdin: stdin, finished: make(chan struct{})}
	go func() {
		defer close(c.finished)
		in := bufio.NewScanner(stdout)
		in.Buffer(nil, 64<<20) // the report lists every latency
		c.report.Err = "load generator ended without a report"
		for in.Scan() {
			if r, ok := strings.CutPrefix(in.Text(), "done "); ok {
				c.report = loadReport{}
				if err := json.Unmarshal([]byte(r), &c.report); err != nil {
					c.report.Err = "load report: " + err.Error()
				}
			}
		}
	}()
	return c
}

// wait waits for the child's report and exit, and returns the report and
// the CPU time the child used.
func (c *loadChild) wait() (loadReport, time.Duration) {
	<-c.finished
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
	var cpu time.Duration
	if ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return c.report, cpu
}

// runLoad runs b.N logins of flow from a child process with the given
// number of concurrent clients, and reports throughput, latency
// percentiles, and CPU per login against the floor (floor.Measure, taken
// just before and just after the run, while no load runs): "cpu-ms/login"
// counts the whole machine but the load generator (so the server and its
// database), "floor/cpu" is the floor's share of it and
// "beyond-floor-ms/login" what the server spends beyond the cryptography;
// "all-cpu-ms/login" and "floor/all-cpu" count the load generator too.
func runLoad(b *testing.B, spec loadSpec) {
	spec.Logins = b.N
	before := floor.Measure()
	b.ResetTimer()
	cpu0 := floor.MachineCPU()
	rep, childCPU := startLoad(b, spec).wait()
	all := floor.MachineCPU() - cpu0
	b.StopTimer()
	fl := (before + floor.Measure()) / 2
	if rep.Err != "" {
		b.Fatal(rep.Err)
	}
	lat := rep.Latencies
	if len(lat) == 0 || rep.Wall <= 0 {
		b.Fatal("the load generator made no logins")
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	n := time.Duration(len(lat))
	server := (all - childCPU) / n
	b.ReportMetric(float64(len(lat))/rep.Wall.Seconds(), "logins/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(ms(server), "cpu-ms/login")
	b.ReportMetric(ms(all/n), "all-cpu-ms/login")
	b.ReportMetric(ms(fl), "floor-ms/login")
	b.ReportMetric(ms(server-fl), "beyond-floor-ms/login")
	b.ReportMetric(float64(fl)/float64(server), "floor/cpu")
	b.ReportMetric(float64(fl)/float64(all/n), "floor/all-cpu")
	b.ReportMetric(maxRSSMB(), "maxrss-MB")
	b.ReportMetric(0, "ns/op")
}
