// Package natstest gives tests a real, throwaway NATS server with JetStream: a nats-server
// process on a free port of 127.0.0.1, its store in a temporary directory, stopped and removed
// when the test ends.
//
//	func TestSomething(t *testing.T) {
//		srv := natstest.Start(t)
//		... connect to srv.URL ...
//	}
//
// When the test binary dies instead of ending (a panic, a -timeout, a kill), a watchdog process
// kills the server and removes its directory about a second later, as adapters/postgres/pgtest
// does for its cluster.
//
// The server is the nats-server binary from PATH, else /usr/sbin (where Debian's nats-server
// package puts it) or /usr/bin.
// When it is missing the test fails and says how to install it; it never skips, so a green run
// always means the broker tests ran.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// InstallHint ends every "nats-server is not there" failure.
const InstallHint = "install the NATS server with `apt-get install -y nats-server` (Debian/Ubuntu; " +
	"nats-server is looked up in PATH, then in /usr/sbin, /usr/bin and /usr/local/bin)"

// binaryCandidates are tried in order after PATH.
var binaryCandidates = []string{"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}

// startTimeout bounds how long a server may take to accept connections with JetStream ready.
const startTimeout = 30 * time.Second

// Server is a running throwaway nats-server.
type Server struct {
	// URL is the client URL (nats://127.0.0.1:PORT).
	URL string
	// Port is the client port on 127.0.0.1.
	Port int
	// Dir holds the JetStream store (Dir/store) and the server log (Dir/nats-server.log).
	Dir string

	bin      string
	cmd      *exec.Cmd
	exited   chan struct{}
	watchdog *exec.Cmd
	stop     sync.Once
}

// Start starts a server for this test and stops it when the test ends. It fails the test if
// nats-server is not installed or does not start.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartOn(t, 0)
}

// StartOn is Start on a given port (0: a free one), e.g. to bring a stopped server's address back
// up. The JetStream store is new.
func StartOn(t testing.TB, port int) *Server {
	t.Helper()
	s, err := start(port)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// FindBinary returns the nats-server program, or an error that says how to install it.
func FindBinary() (string, error) {
	return findBinary(binaryCandidates)
}

func findBinary(candidates []string) (string, error) {
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("nats-server not found: " + InstallHint)
}

func start(port int) (*Server, error) {
	bin, err := FindBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "natstest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin}
	// A free port can be taken between picking and binding it: try a few.
	for attempt := 0; ; attempt++ {
		if s.Port, err = port, nil; port == 0 {
			s.Port, err = freePort()
		}
		if err == nil {
			if err = s.startServer(); err == nil {
				return s, nil
			}
		}
		if attempt == 2 {
			s.Stop()
			return nil, err
		}
	}
}

func (s *Server) logFile() string { return filepath.Join(s.Dir, "nats-server.log") }

func (s *Server) startServer() error {
	s.URL = fmt.Sprintf("nats://127.0.0.1:%d", s.Port)
	cmd := exec.Command(s.bin, "-js", "-sd", filepath.Join(s.Dir, "store"),
		"-a", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-l", s.logFile())
	// Output goes to the log file: the server must not hold the test's pipes open.
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := s.startWatchdog(); err != nil {
		s.kill()
		return err
	}
	if err := s.waitReady(); err != nil {
		s.kill()
		log, _ := os.ReadFile(s.logFile())
		return fmt.Errorf("nats-server on port %d did not become ready: %w\nserver log:\n%s", s.Port, err, log)
	}
	return nil
}

// waitReady waits until the server accepts a client and JetStream answers for its account.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("nats-server exited: %v", s.cmd.ProcessState)
		default:
		}
		if last = s.ping(); last == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return last
}

func (s *Server) ping() error {
	nc, err := nats.Connect(s.URL, nats.Timeout(time.Second), nats.MaxReconnects(0))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := nc.JetStream(nats.MaxWait(time.Second))
	if err != nil {
		return err
	}
	_, err = js.AccountInfo()
	return err
}

// startWatchdog starts a small shell that outlives this process: once the test binary is gone
// it kills the server and removes the directory. It is in its own process group, so an
// interrupt sent to `go test` does not kill it before it has cleaned up.
func (s *Server) startWatchdog() error {
	if s.watchdog != nil {
		_ = s.watchdog.Process.Kill()
		_ = s.watchdog.Wait()
	}
	script := fmt.Sprintf("while kill -0 %d 2>/dev/null; do sleep 1; done; kill -9 %d 2>/dev/null; rm -rf %s",
		os.Getpid(), s.cmd.Process.Pid, shellQuote(s.Dir))
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the cleanup watchdog: %w", err)
	}
	s.watchdog = cmd
	return nil
}

// kill stops the server process now and waits for it.
func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Stop stops the server and removes its directory. Later calls do nothing.
func (s *Server) Stop() {
	s.stop.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			// SIGTERM lets the server close its store; a stuck one is killed.
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(10 * time.Second):
				s.kill()
			}
		}
		// The server is gone: the watchdog would now kill a PID that may be reused.
		if s.watchdog != nil && s.watchdog.Process != nil {
			_ = s.watchdog.Process.Kill()
			_ = s.watchdog.Wait()
		}
		_ = os.RemoveAll(s.Dir)
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Listen is the server's host:port.
func (s *Server) Listen() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }
