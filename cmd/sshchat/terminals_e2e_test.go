package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/hub"
)

// These tests run the real OpenSSH client (and tmux): CI installs both.

// portOf is the port of a server's address.
func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// sshArgs are the OpenSSH client's options for a test server.
func sshArgs(port string, more ...string) []string {
	return append([]string{"-F", "/dev/null", "-p", port,
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "ConnectTimeout=10", "-o", "LogLevel=INFO"}, more...)
}

// TestKeylessNewcomerIsTold: OpenSSH without a key hears what a key is
// and the one command that makes one, before the refusal.
func TestKeylessNewcomerIsTold(t *testing.T) {
	s := startServer(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/ssh", sshArgs(portOf(t, s.addr),
		"-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=3", "newcomer@127.0.0.1")...)
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, &stderr, &stderr
	err := cmd.Run()
	out := stderr.String()
	if err == nil {
		t.Fatalf("a client without a key got in: %s", out)
	}
	for _, want := range []string{"SSH key", "ssh-keygen -t ed25519", "Permission denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("the client's output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "ssh-keygen"); n != 1 {
		t.Errorf("the explanation came %d times:\n%s", n, out)
	}
}

// TestSSHRSASignaturesRefused: a key proven with an ssh-rsa (SHA-1)
// signature is refused, and the server log says why; the same RSA key
// signing with SHA-2 gets in.
func TestSSHRSASignaturesRefused(t *testing.T) {
	logs := new(lockedBuffer)
	s := startServerLog(t, t.TempDir(), logs)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		algo string
		ok   bool
	}{{ssh.KeyAlgoRSA, false}, {ssh.KeyAlgoRSASHA256, true}, {ssh.KeyAlgoRSASHA512, true}} {
		forced, err := ssh.NewSignerWithAlgorithms(signer.(ssh.AlgorithmSigner), []string{tc.algo})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := ssh.Dial("tcp", s.addr, clientConfig("rsa", ssh.PublicKeys(forced)))
		if (err == nil) != tc.ok {
			t.Errorf("%s: dial error %v, want success %v", tc.algo, err, tc.ok)
		}
		if conn != nil {
			conn.Close()
		}
	}
	if want := "ssh-rsa signatures (SHA-1) are not accepted"; !strings.Contains(logs.String(), want) {
		t.Errorf("the server log does not say %q:\n%s", want, logs.String())
	}
}

// writeClientKey writes an ed25519 key for the OpenSSH client, returning
// the file and the signer.
func writeClientKey(t *testing.T) (string, ssh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return path, signer
}

// pane is a tmux session of its own server (socket) running one command.
type pane struct {
	t      *testing.T
	socket string
	name   string
	raw    string // every byte the pane was sent, as pipe-pane saw it
}

func startPane(t *testing.T, name string, width, height int, command string) *pane {
	t.Helper()
	p := &pane{t: t, socket: "sshchat-test-" + name + fmt.Sprint(time.Now().UnixNano()), name: name,
		raw: filepath.Join(t.TempDir(), "raw")}
	p.tmux("-f", "/dev/null", "-u", "new-session", "-d", "-s", name, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", p.socket, "kill-server").Run() })
	p.tmux("set-option", "-t", "="+name+":", "remain-on-exit", "on")
	p.tmux("pipe-pane", "-t", "="+name+":", "-o", "cat >> "+p.raw)
	return p
}

func (p *pane) tmux(args ...string) string {
	p.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-L", p.socket}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// capture is what the pane shows.
func (p *pane) capture() string { return p.tmux("capture-pane", "-p", "-t", "="+p.name+":") }

// rawOutput is every byte the client wrote to the pane.
func (p *pane) rawOutput() []byte {
	b, _ := os.ReadFile(p.raw)
	return b
}

// waitFor polls the pane until ok, or fails with what it shows.
func (p *pane) waitFor(what string, ok func(screen string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr := p.capture()
		if ok(scr) {
			return scr
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: no %s within 20s; the pane shows:\n%s", p.name, what, scr)
		}
		time.Sleep(50 * time.Millisecond) // polling tmux: there is nothing to wait on
	}
}

func (p *pane) keys(keys ...string) {
	p.tmux(append([]string{"send-keys", "-t", "=" + p.name + ":"}, keys...)...)
}

func (p *pane) resize(width, height int) {
	p.tmux("resize-window", "-t", "="+p.name+":", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height))
}

// floodTexts are hard to draw: CJK, emoji with and without joiners,
// combining marks. Each message starts with an ASCII marker.
var floodTexts = []string{
	"plain words for the record",
	"漢字かな交じり文 한국어",
	"👍 thumbs up",
	"👨‍👩‍👧 family 👨‍👩‍👧 twice 👨‍👩‍👧",
	"e\u0301te\u0301 and a\u0308 combining",
	"👩‍💻👩‍💻👩‍💻 coders ❤️‍🔥",
}

var marker = regexp.MustCompile(`m(\d\d)x`)

var noJoiners = strings.NewReplacer("\u200d", "", "\ufe0f", "")

// TestTerminalMatrix runs the real OpenSSH client in tmux with several
// TERMs and locales. After a flood of hard text, resizes and scrolling
// back, the visible transcript is the end of the event log, in order,
// nothing overflows the status and input lines, and Ctrl+L draws the same
// screen again. TERM=dumb gets lines without a single escape sequence;
// LANG=C gets ASCII only.
func TestTerminalMatrix(t *testing.T) {
	for _, tc := range []struct{ term, lang string }{
		{"tmux-256color", "C.UTF-8"},
		{"screen-256color", "C.UTF-8"},
		{"xterm-256color", "C.UTF-8"},
		{"vt100", "C.UTF-8"},
		{"dumb", "C.UTF-8"},
		{"xterm-256color", "C"},
	} {
		t.Run(tc.term+"/"+tc.lang, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, t.TempDir(), func(c *config) {
				c.Server.MessageRate, c.Server.MessageBurst = 1000, 1000
			})
			keyFile, _ := writeClientKey(t)
			ssh := "env -u LC_ALL -u LC_CTYPE TERM=" + tc.term + " LANG=" + tc.lang + " /usr/bin/ssh " +
				strings.Join(sshArgs(portOf(t, s.addr), "-i", keyFile, "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "SendEnv=LANG", "-tt", "alice@127.0.0.1"), " ")
			name := strings.NewReplacer("-", "", ".", "", "/", "").Replace(tc.term + tc.lang)
			p := startPane(t, name, 80, 24, ssh)
			full := tc.term != "dumb"
			p.waitFor("prompt", func(scr string) bool { return strings.Contains(scr, "\n>") && strings.Contains(scr, "alice joined") })
			// settled: the whole screen is drawn at the pane's size (after
			// the last resize), with the newest message.
			settled := func(last string) func(string) bool {
				return func(scr string) bool {
					if !strings.Contains(scr, last) {
						return false
					}
					if !full {
						return true
					}
					rows := strings.Split(strings.TrimRight(scr, "\n"), "\n")
					n := len(rows)
					return n == 24 && strings.HasPrefix(rows[0], " #lobby") && strings.Contains(rows[n-2], "/help") && strings.HasPrefix(rows[n-1], ">")
				}
			}

			bob := s.connect("bob", newKey(t), 80, 24)
			sizes := [][2]int{{60, 15}, {100, 30}, {20, 6}, {120, 40}, {80, 24}}
			const flood = 30
			for i := range flood {
				bob.say(fmt.Sprintf("m%02dx %s", i, floodTexts[i%len(floodTexts)]))
				if i%6 == 5 {
					sz := sizes[i/6]
					p.resize(sz[0], sz[1])
				}
			}
			last := fmt.Sprintf("m%02dx", flood-1)
			p.waitFor(last, settled(last))
			if full {
				p.keys("PPage")
				p.waitFor("scrolled back", func(scr string) bool { return strings.Contains(scr, "scrolled up") || !strings.Contains(scr, last) })
				p.keys("End")
				p.waitFor(last+" again", func(scr string) bool { return settled(last)(scr) && !strings.Contains(scr, "scrolled up") })
			}

			// The visible messages are the end of the log, in order.
			var logged []string
			for _, ev := range s.events() {
				if ev.Type == hub.EventTypeMessage {
					if m := marker.FindStringSubmatch(ev.Message); m != nil {
						logged = append(logged, m[1])
					}
				}
			}
			if len(logged) != flood {
				t.Fatalf("the log holds %d of the %d messages", len(logged), flood)
			}
			scr := p.capture()
			var shown []string
			for _, m := range marker.FindAllStringSubmatch(scr, -1) {
				shown = append(shown, m[1])
			}
			if len(shown) < 3 || !slices.Equal(shown, logged[len(logged)-len(shown):]) {
				t.Fatalf("the pane shows messages %v, not the end of the log %v:\n%s", shown, logged, scr)
			}

			rows := strings.Split(strings.TrimRight(scr, "\n"), "\n")
			if full {
				if !strings.HasPrefix(rows[0], " #lobby") {
					t.Errorf("the header is overwritten: %q\n%s", rows[0], scr)
				}
				if n := len(rows); n < 2 || !strings.Contains(rows[n-2], "/help") || !strings.HasPrefix(rows[n-1], ">") {
					t.Errorf("the status and input lines are overwritten:\n%s", scr)
				}
				// Ctrl+L paints the same screen again.
				before := bytes.Count(p.rawOutput(), []byte("\x1b[2J"))
				p.keys("C-l")
				deadline := time.Now().Add(20 * time.Second)
				for bytes.Count(p.rawOutput(), []byte("\x1b[2J")) == before {
					if time.Now().After(deadline) {
						t.Fatal("Ctrl+L did not repaint")
					}
					time.Sleep(20 * time.Millisecond) // the pane's log: nothing to wait on
				}
				// tmux keeps a zero-width joiner with whichever cell it
				// followed, also after that cell scrolled: joiners are
				// left out of the comparison.
				p.waitFor("the same screen after Ctrl+L", func(again string) bool { return noJoiners.Replace(again) == noJoiners.Replace(scr) })
			} else {
				if i := bytes.IndexByte(p.rawOutput(), 0x1b); i >= 0 {
					raw := p.rawOutput()
					t.Fatalf("TERM=dumb received an escape sequence at %d: %q", i, raw[max(i-40, 0):min(i+40, len(raw))])
				}
			}
			if tc.term == "vt100" {
				// vt100 has no indn, rin or alternate screen: none is sent.
				if m := regexp.MustCompile(`\x1b\[(\d+;\d+r|\d+[ST]|\?1049h|\?1002h)`).Find(p.rawOutput()); m != nil {
					t.Errorf("vt100 was sent %q", m)
				}
			}
			if tc.lang == "C" {
				for i, c := range []byte(scr) {
					if c >= 0x80 {
						t.Fatalf("LANG=C: byte %d of the pane is %#x:\n%s", i, c, scr)
					}
				}
			}
		})
	}
}
