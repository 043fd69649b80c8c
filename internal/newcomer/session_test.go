package newcomer

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shell is one bash session in which the README's sh blocks run, in order,
// as a person types them into one terminal: a variable set in one block is
// there in the next.
type shell struct {
	cmd        *exec.Cmd
	in         *os.File
	out        *bufio.Reader
	envFile    string
	transcript strings.Builder
}

// endMark follows each block's output, with the block's exit status.
const endMark = "__README_BLOCK_END__"

func newShell(t *testing.T, dir string) *shell {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr = dir, inR, outW, outW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	s := &shell{cmd: cmd, in: inW, out: bufio.NewReader(outR), envFile: filepath.Join(t.TempDir(), "env")}
	t.Cleanup(func() {
		s.in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	s.run(t, 0, "set -euo pipefail\n")
	return s
}

// run types a block and waits for its output; a failing command ends the
// session (set -e), and the test with it.
func (s *shell) run(t *testing.T, line int, code string) string {
	t.Helper()
	fmt.Fprintf(s.in, "%s\necho %s $?\n", code, endMark)
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		var b strings.Builder
		for {
			l, err := s.out.ReadString('\n')
			if strings.HasPrefix(l, endMark) {
				done <- result{b.String(), nil}
				return
			}
			b.WriteString(l)
			if err != nil {
				done <- result{b.String(), err}
				return
			}
		}
	}()
	select {
	case r := <-done:
		s.transcript.WriteString(r.out)
		if r.err != nil {
			t.Fatalf("the README's sh block at line %d failed:\n%s", line, r.out)
		}
		return r.out
	case <-time.After(5 * time.Minute):
		t.Fatalf("the README's sh block at line %d did not finish in 5 minutes:\n%s", line, s.transcript.String())
		return ""
	}
}

// env returns the session's exported variables, for the programs the
// README runs beside it.
func (s *shell) env(t *testing.T) map[string]string {
	t.Helper()
	s.run(t, 0, "env > "+s.envFile)
	raw, err := os.ReadFile(s.envFile)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}
