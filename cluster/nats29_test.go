package cluster

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// serverProcess is a nats-server binary run by a test: Debian's is 2.9.10,
// the oldest server the package must work with.
type serverProcess struct {
	t    *testing.T
	path string
	args []string
	url  string
	out  *logBuffer
	cmd  *exec.Cmd
}

// runServerBinary starts the nats-server found in PATH (or
// /usr/sbin/nats-server) with JetStream, its store in a temporary
// directory, on a free loopback port. Without one, the test fails when
// SSHCHAT_REQUIRE_NATS_SERVER=1 (CI), and is skipped otherwise.
func runServerBinary(t *testing.T) *serverProcess {
	t.Helper()
	path, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr == nil {
			path, err = "/usr/sbin/nats-server", nil
		}
	}
	if err != nil {
		const why = "no nats-server binary in PATH or /usr/sbin (apt-get install nats-server gives Debian's 2.9)"
		if os.Getenv("SSHCHAT_REQUIRE_NATS_SERVER") == "1" {
			t.Fatal(why + "; SSHCHAT_REQUIRE_NATS_SERVER=1 requires it")
		}
		t.Skip(why + "; set SSHCHAT_REQUIRE_NATS_SERVER=1 to make this a failure")
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
	p := &serverProcess{
		t:    t,
		path: path,
		args: []string{"-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", strconv.Itoa(port)},
		url:  "nats://127.0.0.1:" + strconv.Itoa(port),
		out:  &logBuffer{},
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("nats-server output:\n%s", p.out.String())
		}
	})
	p.start()
	return p
}

// start runs the server and waits until JetStream answers.
func (p *serverProcess) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.path, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start nats-server: %v", err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		nc, err := nats.Connect(p.url, nats.Timeout(time.Second))
		if err == nil {
			js, jerr := jetstream.New(nc)
			if jerr == nil {
				_, err = js.AccountInfo(testCtx(p.t))
			} else {
				err = jerr
			}
			nc.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("nats-server at %s not ready: %v\n%s", p.url, err, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server and waits for it; stopping twice is fine.
func (p *serverProcess) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// TestNATSServer29 runs the package's scenarios against a nats-server
// process: Debian's 2.9.10 here and in CI.
func TestNATSServer29(t *testing.T) {
	p := runServerBinary(t)
	t.Run("publish and consume", func(t *testing.T) { testPublishConsume(t, p.url) })
	t.Run("gaps", func(t *testing.T) { testGaps(t, p.url) })
	t.Run("crashed node gone once", func(t *testing.T) { testCrashGoneOnce(t, p.url) })
	t.Run("fenced when key deleted", func(t *testing.T) { testFencedWhenKeyDeleted(t, p.url) })
	t.Run("host key", func(t *testing.T) { testHostKey(t, p.url) })
	t.Run("consumer resumes after a restart", func(t *testing.T) { testResume(t, p.url, p.stop, p.start) })
}
