package natstest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// RequireEnv, set to 1, makes a missing nats-server binary a failure
// instead of a skip (CI sets it, and installs Debian's).
const RequireEnv = "SSHCHAT_REQUIRE_NATS_SERVER"

// Process is a nats-server binary run by a test, with JetStream, its
// store in a temporary directory, on a free loopback port: Debian's is
// 2.9.10, the oldest server sshchat must work with. It is killed when the
// test ends.
type Process struct {
	t    testing.TB
	path string
	args []string
	url  string
	out  *syncBuffer
	cmd  *exec.Cmd
}

// RunProcess starts the nats-server found in PATH (or /usr/sbin). Without
// one, the test fails when RequireEnv is 1, and is skipped otherwise.
func RunProcess(t testing.TB) *Process {
	t.Helper()
	path, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr == nil {
			path, err = "/usr/sbin/nats-server", nil
		}
	}
	if err != nil {
		const why = "no nats-server binary in PATH or /usr/sbin (apt-get install nats-server gives Debian's 2.9)"
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(why + "; " + RequireEnv + "=1 requires it")
		}
		t.Skip(why + "; set " + RequireEnv + "=1 to make this a failure")
	}
	version, err := exec.Command(path, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", path, err)
	}
	t.Logf("testing against %s: %s", path, strings.TrimSpace(string(version)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := &Process{
		t:    t,
		path: path,
		args: []string{"-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", strconv.Itoa(port)},
		url:  "nats://127.0.0.1:" + strconv.Itoa(port),
		out:  &syncBuffer{},
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("nats-server output:\n%s", p.out.String())
		}
	})
	p.Start()
	return p
}

// URL is the server's client URL.
func (p *Process) URL() string { return p.url }

// Start runs the server (again, with the same store and port) and waits
// until JetStream answers.
func (p *Process) Start() {
	p.t.Helper()
	p.cmd = exec.Command(p.path, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start nats-server: %v", err)
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		err := p.ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("nats-server at %s not ready: %v\n%s", p.url, err, p.out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling the server's readiness
	}
}

func (p *Process) ready() error {
	nc, err := nats.Connect(p.url, nats.Timeout(time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

// Stop kills the server and waits for it; stopping twice is fine.
func (p *Process) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// syncBuffer is a bytes.Buffer safe for the process's two output pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
