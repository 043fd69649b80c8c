package newcomer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/internal/browsertest"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/siwe"
)

const (
	issuer = "http://localhost:8080"
	module = "github.com/signet-id/signet"
)

// wallet is the person's (or agent's) key in the browser.
type wallet struct{ key *ecdsa.PrivateKey }

func (w wallet) Address() string { return crypto.PubkeyToAddress(w.key.PublicKey).Hex() }

func (w wallet) Sign(t testing.TB, message string) string {
	sig, err := crypto.Sign(siwe.TextHash([]byte(message)).Bytes(), w.key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return hexutil.Encode(sig)
}

// TestNewcomerPath is a newcomer's first hour, as the README tells it.
func TestNewcomerPath(t *testing.T) {
	if raceDetector {
		t.Skip("runs without -race: the server and the examples are processes of their own")
	}
	bin := browsertest.Find(t)
	if _, err := exec.LookPath("git"); err != nil {
		storagetest.Skip(t, "git not found; the newcomer test copies the repository with it")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := Blocks(string(readme))
	dir := freshCopy(t)
	if ln, err := net.Listen("tcp", "127.0.0.1:8080"); err != nil {
		t.Fatalf("port 8080 is taken, and the README's first command listens there: %v", err)
	} else {
		ln.Close()
	}

	server := first(t, blocks, "server")
	start(t, dir, nil, "bash", "-c", server.Code)
	waitReady(t, issuer+"/ready", 4*time.Minute)

	key, _ := crypto.GenerateKey()
	w := wallet{key}
	t.Run("the demo signs in", func(t *testing.T) {
		signInThrough(t, bin, w, issuer+"/demo/start")
	})

	sh := newShell(t, dir)
	for _, b := range blocks {
		runBlock(t, sh, dir, bin, w, b)
	}
	for _, want := range []string{
		`"access_token"`, `"walletAddress"`, `"active":true`, "urn:ietf:params:oauth:token-type:access_token",
		"portfolio of eip155:1:", "insufficient_scope",
	} {
		if !strings.Contains(sh.transcript.String(), want) {
			t.Errorf("the README's shell session never printed %s:\n%s", want, sh.transcript.String())
		}
	}
}

// runBlock runs one README block the way its text tells a reader to.
func runBlock(t *testing.T, sh *shell, dir, bin string, w wallet, b Block) {
	name := fmt.Sprintf("%s at README line %d", b.Kind, b.Line)
	switch b.Kind {
	case "", "service-calls":
		if b.Lang == "sh" {
			sh.run(t, b.Line, fmt.Sprintf("echo '>>> README line %d'\n%s", b.Line, b.Code))
		}
	case "go-webapp":
		t.Run(name, func(t *testing.T) {
			runGoProgram(t, dir, b, sh.env(t), "localhost:3000")
			signInThrough(t, bin, w, "http://localhost:3000/")
		})
	case "node-webapp":
		t.Run(name, func(t *testing.T) {
			runNode(t, b, sh.env(t), true)
			signInThrough(t, bin, w, "http://localhost:3000/")
		})
	case "go-service":
		// It serves until the test ends: the next block calls it.
		runGoProgram(t, dir, b, sh.env(t), "localhost:3001")
	case "node-script":
		t.Run(name, func(t *testing.T) {
			if out := runNode(t, b, sh.env(t), false); !strings.Contains(out, "access token for") {
				t.Fatalf("the Node script printed %q", out)
			}
		})
	}
}

// first returns the one block of a kind.
func first(t *testing.T, blocks []Block, kind string) Block {
	t.Helper()
	for _, b := range blocks {
		if b.Kind == kind {
			return b
		}
	}
	t.Fatalf("the README has no %s block", kind)
	return Block{}
}

// freshCopy copies the repository's tracked and new files, as a clone of
// this tree would have them, into a temporary folder.
func freshCopy(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "-C", "../..", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "signet")
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join("../..", name)
		data, err := os.ReadFile(src)
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		} else if err != nil {
			t.Fatal(err)
		}
		info, _ := os.Stat(src)
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// start runs a command in the background until the test ends; it and its
// children are killed then.
func start(t *testing.T, dir string, env map[string]string, name string, args ...string) *bytes.Buffer {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("output of %s %v:\n%s", name, args, out.String())
		}
	})
	return &out
}

// waitReady polls u until it answers 200.
func waitReady(t *testing.T, u string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within %s: %v", u, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// signInThrough opens an app's start URL in a fresh browser, which sends
// it to Signet's login page, signs in with the wallet, and waits for the
// app's page to name the account.
func signInThrough(t *testing.T, bin string, w wallet, startURL string) {
	t.Helper()
	c := browsertest.New(t, bin, w, browsertest.Announce, "")
	ctx, cancel := context.WithTimeout(c.Ctx(), browsertest.Timeout)
	defer cancel()
	c.Run(ctx, "open "+startURL, chromedp.Navigate(startURL), chromedp.WaitVisible(`#signin`, chromedp.ByQuery))
	c.ClickSignIn(ctx)
	want := fmt.Sprintf(`document.body !== null && document.body.innerText.includes(%q)`, "eip155:1:"+w.Address())
	for {
		// The page navigates twice on the way back; an evaluation that
		// meets a navigation fails and is simply tried again.
		var found bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(want, &found)); err == nil && found {
			return
		}
		select {
		case <-ctx.Done():
			c.Fatalf("the app at %s never named the account %s", startURL, w.Address())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runGoProgram runs a Go example as the README says, in a new module that
// gets the block's modules, built first so that a build error shows, and
// serving in the background until the test ends. Signet's own module is
// not published here: the fresh copy stands in for it, as go get would
// fetch it.
func runGoProgram(t *testing.T, dir string, b Block, env map[string]string, addr string) {
	t.Helper()
	scratch := t.TempDir()
	if err := os.WriteFile(filepath.Join(scratch, "main.go"), []byte(b.Code), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := [][]string{{"mod", "init", "myapp"}}
	for _, m := range strings.Fields(b.Arg) {
		if strings.HasPrefix(m, module) {
			steps = append(steps, []string{"mod", "edit", "-require=" + module + "@v0.0.0", "-replace=" + module + "=" + dir})
		} else {
			steps = append(steps, []string{"get", m})
		}
	}
	steps = append(steps, []string{"mod", "tidy"}, []string{"build", "-o", "app", "."})
	for _, args := range steps {
		cmd := exec.Command("go", args...)
		cmd.Dir = scratch
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	start(t, scratch, env, "./app")
	waitListening(t, addr, 30*time.Second)
}

// runNode installs the block's npm package in a scratch folder and runs
// the block with Node, like runGoProgram; without Node it skips, with the
// reason.
func runNode(t *testing.T, b Block, env map[string]string, webapp bool) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		storagetest.Skip(t, "node not found; the README's Node examples are skipped")
	}
	scratch := t.TempDir()
	install := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", b.Arg)
	install.Dir = scratch
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s: %v\n%s", b.Arg, err, out)
	}
	if err := os.WriteFile(filepath.Join(scratch, "example.mjs"), []byte(b.Code), 0o644); err != nil {
		t.Fatal(err)
	}
	if webapp {
		start(t, scratch, env, "node", "example.mjs")
		waitListening(t, "localhost:3000", time.Minute)
		return ""
	}
	cmd := exec.Command("node", "example.mjs")
	cmd.Dir = scratch
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	return string(out)
}

// waitListening waits until something accepts connections at addr.
func waitListening(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens at %s after %s", addr, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
