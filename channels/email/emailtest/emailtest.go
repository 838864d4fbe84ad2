// Package emailtest starts what the email channel's tests talk to: a
// real Dovecot on a loopback port (StartDovecot), a TCP proxy that can
// cut connections (NewProxy), and an IMAP client that appends mail
// (Append).
package emailtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// waitBound bounds the wait for Dovecot to listen.
const waitBound = 20 * time.Second

// dovecotBinary is where Debian's dovecot-imapd puts the server.
const dovecotBinary = "/usr/sbin/dovecot"

// Dovecot is a Dovecot the test started: its own configuration, state
// and maildirs in a temporary directory, listening on a loopback port,
// with users from a passwd-file.
type Dovecot struct {
	// Addr is its IMAP address, host:port.
	Addr      string
	dir       string
	bin, conf string
	out       strings.Builder // its output; for one test goroutine
	cmd       *exec.Cmd       // nil while stopped
	done      chan struct{}   // closed when cmd exited
}

// StartDovecot starts Dovecot with users (name → password) and stops
// it when the test ends. Outside CI (CI=true) a machine without Dovecot
// skips the test; in CI it fails.
func StartDovecot(t testing.TB, users map[string]string) *Dovecot {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		bin = dovecotBinary
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dovecot not installed (%v); .ci/run installs dovecot-imapd", err)
		}
		t.Skipf("dovecot not installed (apt-get install dovecot-imapd): %v", err)
	}
	dir, err := os.MkdirTemp("", "dovecot-test-") // short: Dovecot's socket paths have a length limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var passwd strings.Builder
	for u, p := range users {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s::::::\n", u, p)
	}
	for _, d := range []string{"base", "state", "mail"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// Read by Dovecot's auth process, under its own user; test passwords.
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(passwd.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	root := os.Getuid() == 0
	uid, gid := os.Getuid(), os.Getgid()
	if root {
		// Dovecot never reads mail as root: as root, the mail belongs
		// to the dovecot user its package made.
		u, err := user.Lookup("dovecot")
		if err != nil {
			t.Fatalf("running as root, Dovecot needs its dovecot user: %v", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		if err := os.Chown(filepath.Join(dir, "mail"), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/base
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = no
auth_failure_delay = 0
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:%[1]s/mail/%%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[4]d home=%[1]s/mail/%%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]s
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`, dir, "@PORT@", uid, gid)
	if root {
		// As root, Dovecot runs its own processes as the users its
		// package made (the login process never as root), which must
		// reach the base directory.
		if err := os.Chmod(dir, 0o755); err != nil { // Dovecot's processes traverse it
			t.Fatal(err)
		}
		conf += "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
	} else {
		conf += fmt.Sprintf("default_internal_user = %[1]s\ndefault_login_user = %[1]s\n", currentUser(t))
	}
	confPath := filepath.Join(dir, "dovecot.conf")
	d := &Dovecot{dir: dir, bin: bin, conf: confPath}
	t.Cleanup(func() {
		// Stopped first: its output is written until it exits.
		d.stop(syscall.SIGTERM)
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Logf("dovecot's log:\n%s\n%s", log, d.out.String())
		}
	})
	// A port free a moment ago may be taken before Dovecot binds it
	// (another test binary's socket): Dovecot then exits at once and is
	// started again on another.
	for try := 1; ; try++ {
		port := freePort(t)
		if err := os.WriteFile(confPath, []byte(strings.Replace(conf, "@PORT@", strconv.Itoa(port), 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		d.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		err := d.start()
		if err == nil {
			break
		}
		if !errors.Is(err, errPortTaken) || try == portTries {
			t.Fatal(err)
		}
	}
	return d
}

// Start starts Dovecot again after Kill, on the same port with the same
// mail, and waits until it greets.
func (d *Dovecot) Start(t testing.TB) {
	t.Helper()
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
}

// portTries bounds the ports StartDovecot tries.
const portTries = 5

// errPortTaken is start's error when Dovecot could not bind its port.
var errPortTaken = errors.New("dovecot's port was taken")

// start starts Dovecot and waits until it greets.
func (d *Dovecot) start() error {
	cmd := exec.Command(d.bin, "-F", "-c", d.conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d.out.Reset()
	cmd.Stdout, cmd.Stderr = &d.out, &d.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start dovecot: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	d.cmd, d.done = cmd, done
	// Ready when it greets; a bounded wait for the process to listen.
	deadline := time.Now().Add(waitBound)
	for {
		err := greets(d.Addr)
		if err == nil {
			return nil
		}
		select {
		case <-done:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever it started
			d.cmd = nil
			log, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
			if out := d.out.String() + string(log); strings.Contains(out, "Address already in use") {
				return fmt.Errorf("%w (%s): %s", errPortTaken, d.Addr, out)
			}
			return fmt.Errorf("dovecot exited: %s\n%s", d.out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dovecot does not answer on %s: %v", d.Addr, err)
		}
		time.Sleep(20 * time.Millisecond) // polling for the listener, not ordering events
	}
}

// greets says whether an IMAP server greets on addr: a connection alone
// may be another listener's on a port Dovecot failed to bind.
func greets(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no greeting on %s: %w", addr, err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("on %s, not an IMAP greeting: %q", addr, line)
	}
	return nil
}

// WaitSessionsEnded waits until every IMAP session of user Dovecot's
// log names has ended: its process is gone. A client that closed its
// connection is not enough: Dovecot's process for it may still be
// writing the mailbox's index (a folder deleted and created again under
// it then reads as corrupted, and a session beside it fails).
func (d *Dovecot) WaitSessionsEnded(t testing.TB, user string) {
	t.Helper()
	// Each session's log lines carry its process: imap(user)<PID><…>.
	re := regexp.MustCompile(`imap\(` + regexp.QuoteMeta(user) + `\)<(\d+)>|user=<` + regexp.QuoteMeta(user) + `>,[^\n]*mpid=(\d+)`)
	deadline := time.Now().Add(waitBound)
	for {
		log, err := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
		if err != nil {
			t.Fatal(err)
		}
		var alive []string
		seen := map[string]bool{}
		for _, m := range re.FindAllStringSubmatch(string(log), -1) {
			pid := m[1] + m[2]
			if seen[pid] {
				continue
			}
			seen[pid] = true
			if stat, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil && !zombie(stat) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions of %s still open after %s: processes %v", user, waitBound, alive)
		}
		time.Sleep(20 * time.Millisecond) // polling another process's state
	}
}

// zombie says whether a /proc/PID/stat's process has exited, not yet
// reaped.
func zombie(stat []byte) bool {
	// The state follows the command's closing parenthesis.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// Kill kills Dovecot and every process of it (SIGKILL): the server
// dying under its clients. Start brings it back.
func (d *Dovecot) Kill() { d.stop(syscall.SIGKILL) }

// stop sends sig to Dovecot's master and waits for it to exit; the
// group is killed too, so that nothing outlives it.
func (d *Dovecot) stop(sig syscall.Signal) {
	if d.cmd == nil {
		return
	}
	pid := d.cmd.Process.Pid
	if sig == syscall.SIGKILL {
		pid = -pid // the whole group at once: children hold the output pipe
	}
	_ = syscall.Kill(pid, sig)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	d.cmd = nil
}

func currentUser(t testing.TB) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatalf("current user: %v", err)
	}
	return u.Username
}

// freePort returns a loopback TCP port nobody listens on now (a
// variable: a test hands out a taken one).
var freePort = func(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Proxy forwards TCP connections to a server and can cut them all: the
// network failing between the channel and its IMAP server.
type Proxy struct {
	// Addr is where it listens.
	Addr string
	mu   sync.Mutex
	open []net.Conn // guarded by mu
}

// NewProxy forwards to the server at to until the test ends.
func NewProxy(t testing.TB, to string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String()}
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.open = append(p.open, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

// Cut closes every connection through the proxy.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.open {
		c.Close()
	}
	p.open = nil
}

// Append puts raw messages into folder over IMAP, as a mail server
// delivering them would.
func Append(t testing.TB, addr, user, pass, folder string, raws ...string) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	for _, raw := range raws {
		cmd := c.Append(folder, int64(len(raw)), nil)
		if _, err := cmd.Write([]byte(raw)); err != nil {
			t.Fatalf("append: %v", err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("append: %v", err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatalf("logout: %v", err)
	}
}
