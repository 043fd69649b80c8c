package floor

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"runtime"
	"slices"
	"sync"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/siwe"
)

// Sampler measures the floor again and again during a load run, because the
// speed of a shared machine drifts by tens of percent within a minute: a
// floor measured only before and after the run can be far from the one the
// run saw. Every interval it stops the load (each login runs between Enter
// and Leave), measures the floor on every core, and lets the load go on; the
// time and CPU of its own measurements are kept out of the run's figures.
type Sampler struct {
	gate  sync.RWMutex
	pause func() (resume func()) // stops a load that runs elsewhere; nil: the gate
	clock func() time.Duration   // the CPU clock the run is measured with
	stop  chan struct{}
	done  chan struct{}

	crypto cryptoInputs

	// Set by the sampling goroutine; read after Stop.
	samples           []time.Duration
	pausedCPU, paused time.Duration
}

// StartSampler measures the floor now and then every interval until Stop.
// cpu is the clock the run's CPU is read from (machine-wide or a process's),
// so that the measurements' own CPU can be taken out of it.
func StartSampler(every time.Duration, cpu func() time.Duration) *Sampler {
	return StartSamplerPausing(every, cpu, nil)
}

// StartSamplerPausing is StartSampler for a load that runs elsewhere (in
// another process, say): pause stops it once the logins in progress have
// finished, and returns the function that lets it go on. A nil pause means
// the load brackets its logins with Enter and Leave.
func StartSamplerPausing(every time.Duration, cpu func() time.Duration, pause func() (resume func())) *Sampler {
	s := &Sampler{clock: cpu, pause: pause, stop: make(chan struct{}), done: make(chan struct{}), crypto: newCryptoInputs()}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

// Enter and Leave bracket one login of the load.
func (s *Sampler) Enter() { s.gate.RLock() }

// Leave ends what Enter began.
func (s *Sampler) Leave() { s.gate.RUnlock() }

// sample stops the load, measures, and lets it go on.
func (s *Sampler) sample() {
	if s.pause != nil {
		defer s.pause()()
	} else {
		s.gate.Lock()
		defer s.gate.Unlock()
	}
	cpu0, wall0 := s.clock(), time.Now()
	s.samples = append(s.samples, s.crypto.perLogin(3, 4))
	s.pausedCPU += s.clock() - cpu0
	s.paused += time.Since(wall0)
}

// Stop takes a last sample and returns the mean floor per login over the
// run, and the wall time and CPU (on the run's clock) its measurements took.
func (s *Sampler) Stop() (perLogin, wall, cpu time.Duration) {
	close(s.stop)
	<-s.done
	s.sample()
	var sum time.Duration
	for _, d := range s.samples {
		sum += d
	}
	return sum / time.Duration(len(s.samples)), s.paused, s.pausedCPU
}

// cryptoInputs are what one login's cryptography works on.
type cryptoInputs struct {
	key    *rsa.PrivateKey
	digest [32]byte
	hash   [32]byte
	sig    []byte
}

func newCryptoInputs() cryptoInputs {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	key.Precompute()
	ek, _ := ethcrypto.GenerateKey()
	h := siwe.TextHash([]byte("floor"))
	sig, _ := ethcrypto.Sign(h[:], ek)
	return cryptoInputs{key: key, digest: sha256.Sum256([]byte("floor")), hash: h, sig: sig}
}

// perLogin runs n logins' worth of cryptography on every core at once,
// rounds times, and returns the median CPU time per login.
func (c cryptoInputs) perLogin(rounds, n int) time.Duration {
	workers := runtime.GOMAXPROCS(0)
	var per []time.Duration
	for range rounds {
		start := ProcessCPU()
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n {
					_, _ = rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, c.digest[:])
					_, _ = rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, c.digest[:])
					_, _ = ethcrypto.SigToPub(c.hash[:], c.sig)
				}
			}()
		}
		wg.Wait()
		per = append(per, (ProcessCPU()-start)/time.Duration(n*workers))
	}
	slices.Sort(per)
	return per[len(per)/2]
}
