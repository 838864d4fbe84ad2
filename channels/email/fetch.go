package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/switchboard/switchboard/backoff"
	"github.com/switchboard/switchboard/store"
)

// resyncMargin is how far before the newest message read a mailbox is
// read again after its UIDVALIDITY changed (IMAP's SINCE has a day's
// resolution, and time zones shift it).
const resyncMargin = 48 * time.Hour

// healthyAfter is how long a session must last before its end counts as
// a new failure rather than one more of a series.
const healthyAfter = time.Minute

// fetcher reads one mailbox: it connects, catches up from the
// checkpoint, waits for new mail (IDLE, or polling), and reconnects with
// backoff when anything fails.
type fetcher struct {
	ch  *Channel
	mb  Mailbox
	log *slog.Logger

	mu     sync.Mutex
	status MailboxStatus // guarded by mu

	// refusals counts, per message, the sessions in a row in which the
	// server would not serve it (refusedAgain), until its batch is
	// done. Only the mailbox's goroutine uses it; lost with the process.
	refusals map[refusalKey]*refusalCount
}

// Status returns the fetcher's status.
func (f *fetcher) Status() MailboxStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// update changes the status with fn and tells Options.OnStatus.
func (f *fetcher) update(fn func(s *MailboxStatus)) {
	f.mu.Lock()
	fn(&f.status)
	s := f.status
	f.mu.Unlock()
	if f.ch.o.OnStatus != nil {
		f.ch.o.OnStatus(s)
	}
}

// run is the mailbox's supervisor: sessions, with capped backoff and
// jitter between failed ones, until ctx ends.
func (f *fetcher) run(ctx context.Context) {
	defer f.update(func(s *MailboxStatus) {
		s.State, s.Since, s.NextAttempt, s.Waiting = StateStopped, time.Now(), time.Time{}, false
	})
	failures := 0
	for {
		f.update(func(s *MailboxStatus) { s.State, s.Since, s.NextAttempt = StateConnecting, time.Now(), time.Time{} })
		began := time.Now()
		err := f.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > healthyAfter {
			failures = 0
		}
		failures++
		wait := backoff.Delay(failures, f.ch.o.MinBackoff, f.ch.o.MaxBackoff)
		f.log.Warn("email: mailbox failed; reconnecting", "err", err, "failures", failures, "retry_in", wait.Round(time.Millisecond))
		f.update(func(s *MailboxStatus) {
			s.State, s.Error, s.Failures, s.Since, s.NextAttempt = StateFailing, err.Error(), failures, time.Now(), time.Now().Add(wait)
		})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// session is one connection: log in, select, catch up, then wait for
// mail and catch up again, until something fails or ctx ends.
func (f *fetcher) session(ctx context.Context) error {
	// The reader goroutine only signals: the work is done here.
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	c, err := f.dial(ctx, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					signal()
				}
			},
		},
	})
	if err != nil {
		return err
	}
	defer c.Close()
	// Ending ctx ends whatever command is waiting.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if f.mb.OAuth != nil {
		sc, err := f.mb.OAuth.client(f.mb.User, f.mb.Addr)
		if err != nil {
			return fmt.Errorf("login as %s: %w", f.mb.User, err)
		}
		if err := c.wait("login", func() error { return c.Authenticate(sc) }); err != nil {
			return fmt.Errorf("login as %s: %w", f.mb.User, err)
		}
	} else if err := c.wait("login", c.Login(f.mb.User, f.mb.Password).Wait); err != nil {
		return fmt.Errorf("login as %s: %w", f.mb.User, err)
	}
	var sel *imap.SelectData
	err = c.wait("select", func() (err error) {
		sel, err = c.Select(f.mb.Folder, nil).Wait()
		return err
	})
	if err != nil {
		return fmt.Errorf("select %s: %w", f.mb.Folder, err)
	}
	cp, err := f.checkpoint(ctx, c, sel)
	if err != nil {
		return err
	}
	var caps imap.CapSet
	if err := c.wait("capability", func() error {
		if caps = c.Caps(); caps == nil {
			return errors.New("no capabilities")
		}
		return nil
	}); err != nil {
		return fmt.Errorf("capability: %w", err)
	}
	idle := !f.mb.Poll && caps.Has(imap.CapIdle)
	f.update(func(s *MailboxStatus) {
		s.State, s.Error, s.Failures, s.Since, s.Idle = StateOK, "", 0, time.Now(), idle
		s.UIDValidity, s.LastUID = cp.UIDValidity, cp.LastUID
	})
	f.log.Info("email: mailbox connected", "folder", f.mb.Folder, "uid_validity", cp.UIDValidity, "last_uid", cp.LastUID, "idle", idle)
	resync := time.NewTicker(f.mb.Resync)
	defer resync.Stop()
	sweep := false
	for {
		if err := f.catchUp(ctx, c, &cp); err != nil {
			return err
		}
		if sweep {
			if err := f.sweep(ctx, c, &cp); err != nil {
				return err
			}
		}
		if idle {
			sweep, err = f.idle(ctx, c, wake, resync.C)
		} else {
			sweep, err = f.poll(ctx, c, wake, resync.C)
		}
		if err != nil {
			return err
		}
	}
}

// imapConn is a session's connection: the client and the guard that
// bounds each command's wait.
type imapConn struct {
	*imapclient.Client
	stall *stallConn
}

// wait runs a command's wait under the stall guard.
func (c imapConn) wait(what string, fn func() error) error { return c.stall.guard(what, fn) }

// dial connects as the mailbox's Security says. It dials itself, rather
// than with imapclient's Dial functions, to put the stall guard under
// the TLS layer.
func (f *fetcher) dial(ctx context.Context, o *imapclient.Options) (imapConn, error) {
	o.TLSConfig = f.mb.TLSConfig
	if o.TLSConfig == nil {
		host, _, _ := net.SplitHostPort(f.mb.Addr)
		o.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	d := net.Dialer{Timeout: dialTimeout}
	raw, err := d.DialContext(ctx, "tcp", f.mb.Addr)
	if err != nil {
		return imapConn{}, fmt.Errorf("connect to %s: %w", f.mb.Addr, err)
	}
	c := imapConn{stall: newStallConn(raw, f.mb.CommandTimeout)}
	switch f.mb.Security {
	case TLS:
		cfg := o.TLSConfig.Clone()
		if cfg.NextProtos == nil {
			cfg.NextProtos = []string{"imap"}
		}
		tc := tls.Client(c.stall, cfg)
		if err = c.wait("TLS handshake", func() error { return tc.HandshakeContext(ctx) }); err == nil {
			c.Client = imapclient.New(tc, o)
		}
	case StartTLS:
		// NewStartTLS takes no context: ending ctx closes the connection.
		stop := context.AfterFunc(ctx, func() { raw.Close() })
		err = c.wait("STARTTLS", func() (err error) {
			c.Client, err = imapclient.NewStartTLS(c.stall, o)
			return err
		})
		stop()
	default:
		c.Client = imapclient.New(c.stall, o)
	}
	if err != nil {
		raw.Close()
		return imapConn{}, fmt.Errorf("connect to %s: %w", f.mb.Addr, err)
	}
	return c, nil
}

// idle waits in IDLE until new mail is signalled, the resync is due,
// the connection dies (IDLE's Wait returns on its own) or ctx ends.
func (f *fetcher) idle(ctx context.Context, c imapConn, wake <-chan struct{}, resync <-chan time.Time) (resynced bool, err error) {
	var cmd *imapclient.IdleCommand
	err = c.wait("idle", func() (err error) {
		cmd, err = c.Idle()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("idle: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	f.update(func(s *MailboxStatus) { s.Waiting = true })
	defer f.update(func(s *MailboxStatus) { s.Waiting = false })
	select {
	case err := <-done:
		// Nobody closed it: the connection ended.
		return false, fmt.Errorf("idle ended: %w", errors.Join(err, errConnectionLost))
	case <-wake:
	case <-resync:
		resynced = true
	case <-ctx.Done():
	}
	err = c.wait("end idle", func() error {
		if err := cmd.Close(); err != nil {
			return err
		}
		return <-done
	})
	if err != nil {
		return false, fmt.Errorf("end idle: %w", err)
	}
	return resynced, ctx.Err()
}

// errConnectionLost explains an IDLE that ended by itself.
var errConnectionLost = errors.New("connection lost")

// poll waits PollInterval (or a signal, or the resync) and checks the
// connection answers.
func (f *fetcher) poll(ctx context.Context, c imapConn, wake <-chan struct{}, resync <-chan time.Time) (resynced bool, err error) {
	t := time.NewTimer(f.mb.PollInterval)
	defer t.Stop()
	f.update(func(s *MailboxStatus) { s.Waiting = true })
	defer f.update(func(s *MailboxStatus) { s.Waiting = false })
	select {
	case <-t.C:
	case <-wake:
	case <-resync:
		resynced = true
	case <-c.Closed():
		return false, errConnectionLost
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if err := c.wait("noop", c.Noop().Wait); err != nil {
		return false, fmt.Errorf("noop: %w", err)
	}
	return resynced, nil
}

// checkpoint is where this session starts: the stored checkpoint; for a
// mailbox never read, after its last UID (Start zero: only new mail,
// lastUID) or every message since Start; after a UIDVALIDITY change (the
// UIDs mean nothing any more), every message since a little before the
// newest taken in, deduplicated by Message-ID.
func (f *fetcher) checkpoint(ctx context.Context, c imapConn, sel *imap.SelectData) (store.EmailCheckpoint, error) {
	cp, found, err := f.ch.o.Store.EmailCheckpoint(ctx, f.mb.Name)
	if err != nil {
		return cp, fmt.Errorf("read checkpoint: %w", err)
	}
	switch {
	case found && cp.UIDValidity == sel.UIDValidity:
		return cp, nil
	case found:
		since := cp.Newest.Add(-resyncMargin)
		if cp.Newest.IsZero() || !cp.Since.IsZero() && cp.Since.Before(since) {
			since = cp.Since // nothing taken in yet, or a pass by date was under way
		}
		if since.IsZero() {
			since = cp.UpdatedAt.Add(-resyncMargin)
		}
		f.log.Warn("email: UIDVALIDITY changed; reading again by date, deduplicated by Message-ID",
			"old", cp.UIDValidity, "new", sel.UIDValidity, "since", since.Format(time.DateOnly))
		return store.EmailCheckpoint{UIDValidity: sel.UIDValidity, Since: since, Newest: cp.Newest, FloorSince: since}, nil
	case f.mb.Start.IsZero():
		last, err := f.lastUID(c, sel)
		if err != nil {
			return cp, err
		}
		cp = store.EmailCheckpoint{UIDValidity: sel.UIDValidity, LastUID: last, FloorUID: last}
		if err := f.ch.o.Store.PutEmailCheckpoint(ctx, f.mb.Name, cp); err != nil {
			return cp, fmt.Errorf("write checkpoint: %w", err)
		}
		f.log.Info("email: first connect; taking in mail from now on", "last_uid", last)
		return cp, nil
	default:
		f.log.Info("email: first connect; taking in mail since the start date", "start", f.mb.Start.Format(time.DateOnly))
		return store.EmailCheckpoint{UIDValidity: sel.UIDValidity, Since: f.mb.Start, FloorSince: f.mb.Start}, nil
	}
}

// lastUID is the highest UID the selected folder has given, where a
// mailbox read from now on starts: UIDNEXT less one, from SELECT or, a
// server that left it out, STATUS; a server without it in either is
// asked for the UID of the last message SELECT counted; an empty folder
// starts at 0. Never 0 for a folder that holds mail: that would take in
// all of it.
func (f *fetcher) lastUID(c imapConn, sel *imap.SelectData) (uint32, error) {
	if sel.UIDNext > 0 {
		return uint32(sel.UIDNext) - 1, nil
	}
	var st *imap.StatusData
	err := c.wait("status", func() (err error) {
		st, err = c.Status(f.mb.Folder, &imap.StatusOptions{UIDNext: true}).Wait()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("status %s: %w", f.mb.Folder, err)
	}
	if st.UIDNext > 0 {
		return uint32(st.UIDNext) - 1, nil
	}
	if sel.NumMessages == 0 {
		return 0, nil
	}
	// The last message SELECT counted has the highest UID. (Not "*":
	// imapclient drops the answer to it, its number not being 0.)
	var last []*imapclient.FetchMessageBuffer
	err = c.wait("fetch the last UID", func() (err error) {
		last, err = c.Fetch(imap.SeqSetNum(sel.NumMessages), &imap.FetchOptions{UID: true}).Collect()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("fetch the last UID: %w", err)
	}
	top := imap.UID(0)
	for _, m := range last {
		top = max(top, m.UID)
	}
	if top == 0 {
		return 0, fmt.Errorf("fetch the last UID: no UID for message %d, and no UIDNEXT", sel.NumMessages)
	}
	return uint32(top), nil
}

// catchUp takes in every message after the checkpoint, a batch at a
// time: fetched, each committed (taken in), then the batch flagged or
// moved, then the checkpoint advanced. A crash anywhere in between
// replays the batch, which the messages' external ids make harmless.
func (f *fetcher) catchUp(ctx context.Context, c imapConn, cp *store.EmailCheckpoint) error {
	criteria := &imap.SearchCriteria{}
	if cp.LastUID < math.MaxUint32 {
		criteria.UID = []imap.UIDSet{{imap.UIDRange{Start: imap.UID(cp.LastUID + 1), Stop: 0}}}
	}
	criteria.Since = cp.Since
	var data *imap.SearchData
	err := c.wait("search", func() (err error) {
		data, err = c.UIDSearch(criteria, nil).Wait()
		return err
	})
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	var uids []imap.UID
	for _, u := range data.AllUIDs() {
		// "n:*" matches the last message even when its UID is below n.
		if uint32(u) > cp.LastUID {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	for len(uids) > 0 {
		n := min(len(uids), batchSize)
		if err := f.batch(ctx, c, cp, uids[:n], true); err != nil {
			return err
		}
		uids = uids[n:]
	}
	if !cp.Since.IsZero() {
		// The pass by date is done: from here on, by UID.
		cp.Since = time.Time{}
		if err := f.ch.o.Store.PutEmailCheckpoint(ctx, f.mb.Name, *cp); err != nil {
			return fmt.Errorf("write checkpoint: %w", err)
		}
	}
	return nil
}

// sweep is the resynchronisation's safety net: it looks for messages
// below the checkpoint that were never marked taken in (unseen, with
// after: seen; still in the folder, with after: move: a flag or a move
// that failed after the commit, mail the server numbered out of order)
// and takes them in, their external ids making a message taken already
// harmless. It looks at nothing below where the mailbox's intake began
// (the checkpoint's floor), so old mail is never taken in by surprise,
// and not while a read by date is under way.
func (f *fetcher) sweep(ctx context.Context, c imapConn, cp *store.EmailCheckpoint) error {
	defer f.update(func(s *MailboxStatus) { s.Swept = time.Now() })
	if !cp.Since.IsZero() || cp.LastUID <= cp.FloorUID {
		return nil
	}
	criteria := &imap.SearchCriteria{
		UID:   []imap.UIDSet{{imap.UIDRange{Start: imap.UID(cp.FloorUID + 1), Stop: imap.UID(cp.LastUID)}}},
		Since: cp.FloorSince,
	}
	if f.mb.MoveTo == "" {
		criteria.NotFlag = []imap.Flag{imap.FlagSeen}
	}
	var data *imap.SearchData
	err := c.wait("sweep search", func() (err error) {
		data, err = c.UIDSearch(criteria, nil).Wait()
		return err
	})
	if err != nil {
		return fmt.Errorf("sweep: search: %w", err)
	}
	var uids []imap.UID
	for _, u := range data.AllUIDs() {
		if uint32(u) > cp.FloorUID && uint32(u) <= cp.LastUID {
			uids = append(uids, u)
		}
	}
	if len(uids) == 0 {
		return nil
	}
	slices.Sort(uids)
	f.log.Warn("email: resynchronisation found mail below the checkpoint not marked taken in; taking it in", "messages", len(uids))
	for len(uids) > 0 {
		n := min(len(uids), batchSize)
		if err := f.batch(ctx, c, cp, uids[:n], false); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		f.update(func(s *MailboxStatus) { s.SweptIn += int64(n) })
		uids = uids[n:]
	}
	return nil
}

// batch takes in the messages of uids (ascending).
// With advance false (the sweep: messages below the checkpoint) the
// checkpoint stays as it is. A message the server will not serve (NO
// to its FETCH, or an answer without it) ends the session, until the
// server has refused it in maxRefusals sessions in a row; then it is
// taken in from what the server does serve (unserved), and the batch
// goes on. One expunged meanwhile is not found by the next session's
// search.
func (f *fetcher) batch(ctx context.Context, c imapConn, cp *store.EmailCheckpoint, uids []imap.UID, advance bool) error {
	got, refused, err := f.fetchAll(c, "fetch sizes", uids, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true}, nil)
	if err != nil {
		return err
	}
	if refused == nil {
		refused = map[imap.UID]string{}
	}
	// Every message of uids: one whose size the server refused with its
	// UID alone.
	sizes := make([]*imapclient.FetchMessageBuffer, 0, len(uids))
	for _, u := range uids {
		m := got[u]
		if m == nil {
			m = &imapclient.FetchMessageBuffer{UID: u}
		}
		sizes = append(sizes, m)
	}
	hasBody := func(m *imapclient.FetchMessageBuffer) bool { return len(m.BodySection) > 0 }
	var done []imap.UID
	for len(sizes) > 0 {
		// Bodies a few at a time, up to batchBytes; an oversized
		// message alone, by its header only.
		var whole, headerOnly []imap.UID
		total := int64(0)
		k := 0
		for ; k < len(sizes); k++ {
			m := sizes[k]
			if _, no := refused[m.UID]; no {
				continue // refused its size: nothing more is asked
			}
			if m.RFC822Size > f.ch.o.MaxMessageBytes {
				headerOnly = append(headerOnly, m.UID)
				continue
			}
			if total > 0 && total+m.RFC822Size > batchBytes {
				break
			}
			total += m.RFC822Size
			whole = append(whole, m.UID)
		}
		bodies := map[imap.UID][]byte{}
		for _, part := range []struct {
			uids    []imap.UID
			section *imap.FetchItemBodySection
		}{
			{whole, &imap.FetchItemBodySection{Peek: true}},
			{headerOnly, &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}},
		} {
			if len(part.uids) == 0 {
				continue
			}
			msgs, no, err := f.fetchAll(c, "fetch bodies", part.uids, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{part.section}}, hasBody)
			if err != nil {
				return err
			}
			for u, m := range msgs {
				bodies[u] = m.BodySection[0].Bytes
			}
			maps.Copy(refused, no)
		}
		var chunkUIDs []imap.UID
		for _, m := range sizes[:k] {
			chunkUIDs = append(chunkUIDs, m.UID)
		}
		if err := f.refusedAgain(cp.UIDValidity, chunkUIDs, refused); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		ins := make([]fetched, 0, k)
		for _, m := range sizes[:k] {
			if why, no := refused[m.UID]; no {
				in, err := f.unserved(c, cp.UIDValidity, m, why)
				if err != nil {
					return err
				}
				ins = append(ins, in)
				continue
			}
			ins = append(ins, fetched{uid: uint32(m.UID), raw: bodies[m.UID], size: m.RFC822Size, internalDate: m.InternalDate,
				headerOnly: m.RFC822Size > f.ch.o.MaxMessageBytes})
		}
		if err := f.takeAll(ctx, ins); err != nil {
			return err
		}
		for _, m := range sizes[:k] {
			done = append(done, m.UID)
			if m.InternalDate.After(cp.Newest) {
				cp.Newest = m.InternalDate
			}
		}
		sizes = sizes[k:]
	}
	if len(done) > 0 {
		if err := f.after(c, done); err != nil {
			return err
		}
	}
	f.forgetRefusals(cp.UIDValidity, uids)
	if !advance {
		f.update(func(s *MailboxStatus) { s.Taken += int64(len(done)) })
		return nil
	}
	cp.LastUID = uint32(uids[len(uids)-1])
	if err := f.ch.o.Store.PutEmailCheckpoint(ctx, f.mb.Name, *cp); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	f.update(func(s *MailboxStatus) {
		s.LastUID, s.UIDValidity, s.Taken = cp.LastUID, cp.UIDValidity, s.Taken+int64(len(done))
	})
	return nil
}

// after flags or moves the messages taken in, once they are committed.
func (f *fetcher) after(c imapConn, uids []imap.UID) error {
	set := imap.UIDSetNum(uids...)
	if f.mb.MoveTo != "" {
		if err := c.wait("move", func() error { _, err := c.Move(set, f.mb.MoveTo).Wait(); return err }); err != nil {
			return fmt.Errorf("move to %s: %w", f.mb.MoveTo, err)
		}
		return nil
	}
	if err := c.wait("store flags", c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close); err != nil {
		return fmt.Errorf("flag seen: %w", err)
	}
	return nil
}
