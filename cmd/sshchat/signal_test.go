package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runMainEnv makes the test binary run main instead of the tests (see
// TestMain), so that signal tests stop a real process without building one.
const runMainEnv = "SSHCHAT_TEST_RUN_MAIN"

func TestOnSignals(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr strings.Builder
	exited := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		onSignals(sigs, cancel, &stderr, func(code int) { exited <- code })
	}()

	sigs <- syscall.SIGTERM
	<-ctx.Done() // the first signal starts the graceful stop
	select {
	case code := <-exited:
		t.Fatalf("exited with %d on the first signal", code)
	default:
	}
	sigs <- os.Interrupt
	if code := <-exited; code != 130 {
		t.Errorf("exit status %d on a second SIGINT, want 130", code)
	}
	<-done
	if !strings.Contains(stderr.String(), "second signal (interrupt)") {
		t.Errorf("stderr %q does not say why it exited", stderr.String())
	}
}

// process is the server running as a process of its own.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr strings.Builder // guarded by mu
	lines  chan struct{}   // a token whenever a line was read
	exited chan error
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{lines: make(chan struct{}, 1), exited: make(chan error, 1)}
	p.cmd = exec.Command(exe, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Env = append(os.Environ(), runMainEnv+"=1")
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- struct{}{}:
			default:
			}
		}
	}()
	go func() {
		<-read // Wait closes the pipe: read it all first
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// waitLine waits until the process has written a line matching re.
func (p *process) waitLine(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(wait)
	for {
		if m := rx.FindStringSubmatch(p.output()); m != nil {
			return m
		}
		select {
		case <-p.lines:
		case <-deadline:
			t.Fatalf("no line matching %q; stderr:\n%s", re, p.output())
		}
	}
}

// wait waits for the process to exit and returns its status.
func (p *process) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err // for Cleanup
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(3 * wait):
		t.Fatalf("the process did not exit; stderr:\n%s", p.output())
		return -1
	}
}

// unwritable starts a server process whose log cannot take a byte, and
// posts a message so that an event waits to be written.
func unwritable(t *testing.T, timeout string) *process {
	t.Helper()
	data := t.TempDir()
	if err := os.Chmod(data, 0o700); err != nil { // the server refuses a directory others may read
		t.Fatal(err)
	}
	devFull(t, data)
	p := startProcess(t, "--data", data, "--shutdown-timeout", timeout)
	addr := p.waitLine(t, `msg="sshchat is listening" addr=(\S+)`)[1]
	s := &testServer{t: t, addr: addr}
	if _, stderr, status := s.runCmd("robot", newKey(t), "", "say into the void"); status != 0 {
		t.Fatalf("say: status %d, stderr %q", status, stderr)
	}
	p.waitLine(t, `event log: write failed`)
	return p
}

// TestSigtermWithFullDisk: SIGTERM stops a server whose log cannot write
// within --shutdown-timeout, with a non-zero status and a line saying what
// was not written.
func TestSigtermWithFullDisk(t *testing.T) {
	p := unwritable(t, "1s")
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t)
	t.Logf("SIGTERM to exit with the log full: %v (--shutdown-timeout 1s)", time.Since(start))
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if out := p.output(); !strings.Contains(out, "stopped before every event was written") || !strings.Contains(out, "events not written") {
		t.Errorf("stderr does not say what was lost:\n%s", out)
	}
}

// TestSecondSignalExitsAtOnce: with a graceful stop that would take an
// hour, a second signal ends the process at once.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	p := unwritable(t, "1h")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, `shutting down`)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	if out := p.output(); !strings.Contains(out, "second signal (interrupt)") {
		t.Errorf("stderr does not say why it exited:\n%s", out)
	}
}
