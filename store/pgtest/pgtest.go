// Package pgtest starts a private PostgreSQL for a package's tests: a
// cluster made by initdb in a temporary directory, listening on a free
// loopback port (and on a unix socket in that directory), started once
// per test binary and stopped at its end, with a fresh database for each
// test that asks for one.
//
// A package whose tests use PostgreSQL runs them through Main:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and a test asks for a database:
//
//	dsn := pgtest.Database(t) // postgres://…/t_12?sslmode=disable
//
// A machine without PostgreSQL (Debian's postgresql package, binaries
// under /usr/lib/postgresql/<version>/bin) skips such a test, except in
// CI (CI=true), where it fails: .ci/run installs the package.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// startBound bounds the wait for the server to accept connections.
const startBound = 60 * time.Second

// binGlob finds Debian's PostgreSQL binaries, whatever the version.
const binGlob = "/usr/lib/postgresql/*/bin"

// serviceUser is the user Debian's postgresql package makes; as root the
// cluster runs as it (initdb and postgres refuse to run as root).
const serviceUser = "postgres"

// Cluster is a running PostgreSQL the tests started. Its methods are
// safe for concurrent use.
type Cluster struct {
	// Port is its loopback TCP port.
	Port int
	dir  string
	cmd  *exec.Cmd
	// exited is closed when the server process has exited.
	exited chan struct{}
	// waitErr is the server's exit status, set before exited is closed.
	waitErr error
	admin   *sql.DB
	next    atomic.Int64
}

// Start makes a cluster in a new temporary directory and starts it. It
// returns an error wrapping exec.ErrNotFound when PostgreSQL is not
// installed.
func Start() (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, exited: make(chan struct{})}
	if err := c.start(bin); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

// findBin returns the directory of the newest installed PostgreSQL's
// binaries; PATH is not assumed to hold them (Debian does not put them
// there).
func findBin() (string, error) {
	dirs, _ := filepath.Glob(binGlob)
	dirs = slices.DeleteFunc(dirs, func(d string) bool {
		_, err := os.Stat(filepath.Join(d, "initdb"))
		return err != nil
	})
	if len(dirs) == 0 {
		return "", fmt.Errorf("pgtest: no initdb under %s: %w", binGlob, exec.ErrNotFound)
	}
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(a) - majorOf(b) })
	return dirs[len(dirs)-1], nil
}

// majorOf is the major version in a path such as /usr/lib/postgresql/15/bin.
func majorOf(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return n
}

// start runs initdb and starts the server, as the postgres user when the
// tests run as root.
func (c *Cluster) start(bin string) error {
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		u, err := user.Lookup(serviceUser)
		if err != nil {
			return fmt.Errorf("pgtest: running as root, PostgreSQL needs its %s user (Debian's postgresql package makes it): %w", serviceUser, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	data := filepath.Join(c.dir, "data")
	// UTF8 whatever the machine's locale (NewDatabase picks each
	// database's collation); trust on loopback and the private socket
	// only: a throwaway cluster. initdb refuses to run as root, hence
	// the postgres user above.
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	// A port free a moment ago may be taken before the server binds it
	// (another test binary's socket): the server then exits at once and
	// is started again on another.
	for try := 1; ; try++ {
		err := c.serve(bin, data, cred)
		if !errors.Is(err, errPortTaken) || try == portTries {
			return err
		}
	}
}

// portTries bounds the ports serve is tried on.
const portTries = 5

// errPortTaken is serve's error when the server could not bind its port.
var errPortTaken = errors.New("pgtest: the port was taken")

// serve starts the server of the cluster in data on a free port and
// waits until it accepts connections.
func (c *Cluster) serve(bin, data string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.Port, c.exited, c.waitErr = port, make(chan struct{}), nil
	// The server runs as a child of the test binary rather than through
	// pg_ctl, which detaches it: a test binary killed by its timeout
	// takes its server with it (Pdeathsig), instead of leaving one behind.
	// fsync stays on: the store's benchmarks measure durable commits.
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-p", strconv.Itoa(port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=200",
		"-c", "logging_collector=off")
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	logFile, err := os.Create(filepath.Join(c.dir, "server.log"))
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logFile.Close()
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	started, exited := make(chan error, 1), c.exited
	go func() {
		// Pdeathsig follows the thread that started the child, not the
		// process (go.dev/issue/27505): this goroutine holds its thread
		// until the server has exited, so no other goroutine's exit
		// with a locked thread can take it down early.
		runtime.LockOSThread()
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = c.cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		c.cmd = nil // nothing to stop
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	if c.admin != nil {
		c.admin.Close()
	}
	c.admin, err = sql.Open("pgx", c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	// Wait until it accepts connections, as pg_ctl -w does; give up when
	// the server exits or after startBound.
	deadline := time.Now().Add(startBound)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = c.admin.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			log := c.log()
			if strings.Contains(log, "Address already in use") {
				return fmt.Errorf("%w (%d): %s", errPortTaken, port, log)
			}
			return fmt.Errorf("pgtest: postgres exited at start (%v): %s", c.waitErr, log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres not ready after %v: %w: %s", startBound, err, c.log())
		}
	}
}

// log returns the end of the server's log, for errors.
func (c *Cluster) log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// DSN returns the URL of database name on the cluster, over TCP.
func (c *Cluster) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

// NewDatabase creates an empty database and returns its URL; it is
// dropped when the test ends. Its text sorts by ICU's en-US rules (as
// most production databases' locale does, unlike the cluster's C), so
// that a test catches SQL whose order depends on the database's locale.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t_%d", c.next.Add(1))
	ctx := context.Background()
	if _, err := c.admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE: a test that failed may have left connections open.
		if _, err := c.admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.DSN(name)
}

// Stop stops the server (a fast shutdown) and removes its directory.
func (c *Cluster) Stop() error {
	var errs []error
	if c.admin != nil {
		errs = append(errs, c.admin.Close())
	}
	if c.cmd != nil && c.cmd.Process != nil {
		select {
		case <-c.exited:
		default:
			if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
				errs = append(errs, fmt.Errorf("pgtest: stop postgres: %w", err))
			}
			<-c.exited
		}
	}
	errs = append(errs, os.RemoveAll(c.dir))
	return errors.Join(errs...)
}

// freePort returns a loopback TCP port nobody listened on a moment ago
// (a variable: a test hands out a taken one).
var freePort = func() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// The cluster Main started, for Database.
var (
	mu       sync.Mutex
	shared   *Cluster
	startErr error = errors.New("pgtest: Database needs TestMain to call pgtest.Main")
)

// Main starts the package's cluster, runs the tests, stops the cluster
// and returns the exit code for os.Exit. When the cluster cannot start,
// the tests still run: Database skips them (or fails them in CI).
func Main(m *testing.M) int {
	c, err := Start()
	mu.Lock()
	shared, startErr = c, err
	mu.Unlock()
	code := m.Run()
	if c != nil {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Database returns the URL of a fresh database on the cluster Main
// started, dropped when the test ends. Without a cluster it skips the
// test, or fails it when CI=true.
func Database(t testing.TB) string {
	t.Helper()
	mu.Lock()
	c, err := shared, startErr
	mu.Unlock()
	if c == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL needed (.ci/run installs Debian's postgresql): %v", err)
		}
		if !errors.Is(err, exec.ErrNotFound) {
			// Installed but broken: say so rather than skip quietly.
			t.Fatalf("PostgreSQL did not start: %v", err)
		}
		t.Skipf("PostgreSQL not installed (apt-get install postgresql): %v", err)
	}
	return c.NewDatabase(t)
}
