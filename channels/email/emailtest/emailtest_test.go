package emailtest

import (
	"net"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"
)

// A Dovecot whose port was taken between its choice and its bind starts
// on another.
func TestStartDovecotOnATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenAddr := taken.Addr().String()
	free := freePort
	var handed []int
	freePort = func(t testing.TB) int {
		p := free(t)
		if len(handed) == 0 {
			p = taken.Addr().(*net.TCPAddr).Port
		}
		handed = append(handed, p)
		return p
	}
	defer func() { freePort = free }()

	d := StartDovecot(t, map[string]string{"ada": "secret"})
	if len(handed) != 2 || d.Addr == takenAddr {
		t.Fatalf("ports handed out %v, Dovecot on %s: want the taken %s, then another it runs on", handed, d.Addr, takenAddr)
	}
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("ada", "secret").Wait(); err != nil {
		t.Fatalf("login on %s: %v", d.Addr, err)
	}
}
