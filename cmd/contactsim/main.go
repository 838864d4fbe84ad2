// Command contactsim drives a running routerd with simulated customers
// over the real channels (the HTTP API, the web chat's WebSocket, Twilio's
// signed SMS webhooks, email appended over IMAP) and simulated agents on their desktops' WebSocket,
// then checks what routerd holds against what it acknowledged.
//
//	contactsim                                  # the bank scenario against make run, 10 s
//	contactsim -url URL -token TOKEN -duration 10s -rate 50
//	contactsim -scenario retailer -json         # a shipped scenario (or a YAML file's path)
//	contactsim -demo                            # a modest load until interrupted
//
// A progress line goes to stderr; the summary to stdout (-json for
// machines). It exits 1 when anything acknowledged was lost or
// duplicated, or on errors. docs/contactsim.md has the details.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, err)
		}
		var fe *failedError
		if errors.As(err, &fe) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

// failedError is a run that finished but lost, duplicated or failed.
type failedError struct{ msg string }

func (e *failedError) Error() string { return e.msg }

// defaultTokenFile is where make run's routerd writes its admin token.
const defaultTokenFile = "data/admin-token"

// run parses the command line, runs the scenario and prints the summary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("contactsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "routerd's base `URL`")
	token := fs.String("token", "", "an admin or integration `token` (default: $CONTACTSIM_TOKEN, else the file of -token-file)")
	tokenFile := fs.String("token-file", defaultTokenFile, "read the token from this `file` (make run writes data/admin-token)")
	scenario := fs.String("scenario", "bank", "a shipped scenario (bank, retailer, demo, throughput) or a YAML file's `path`")
	duration := fs.Duration("duration", 10*time.Second, "how long customers arrive (0: until interrupted)")
	rate := fs.Float64("rate", -1, "a constant `rate` of arrivals per second, replacing the scenario's rate and hourly profile")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	demo := fs.Bool("demo", false, "a modest load at human pace until interrupted, for the dashboards of make run (the demo scenario)")
	agentPassword := fs.String("agent-password", "", "the agents' `password`, {id} for the agent's id (default: $CONTACTSIM_AGENT_PASSWORD, else the scenario's)")
	publicURL := fs.String("public-url", "", "the `URL` routerd checks Twilio's signatures over (its public_url; default -url)")
	twilioSID := fs.String("twilio-account-sid", os.Getenv("TWILIO_ACCOUNT_SID"), "the Twilio account `SID` routerd expects (default $TWILIO_ACCOUNT_SID)")
	twilioTokenFlag := fs.String("twilio-auth-token", "", "the Twilio auth `token` that signs texts (default $TWILIO_AUTH_TOKEN; none: no texts)")
	drain := fs.Duration("drain", 20*time.Second, "time given to contacts in flight after the arrivals stop")
	slWithin := fs.Duration("sl", 20*time.Second, "the service level's threshold")
	smsReplies := fs.Bool("sms-replies", false, "let agents answer texts (they go out through routerd's Twilio account: only with a stand-in or a test account)")
	imapAddr := fs.String("imap-addr", "", "the IMAP `host:port` of the mailbox routerd reads: email customers append their mail there (none: no email)")
	imapUser := fs.String("imap-user", "", "the mailbox's IMAP `user`")
	imapPasswordFile := fs.String("imap-password-file", "", "read the mailbox's IMAP password from this `file` (default: $CONTACTSIM_IMAP_PASSWORD)")
	imapFolder := fs.String("imap-folder", "INBOX", "the `folder` routerd reads")
	imapTLS := fs.Bool("imap-tls", false, "dial the IMAP server with TLS")
	emailTo := fs.String("email-to", "support@example.com", "the `address` the customers write to")
	emailReplies := fs.Bool("email-replies", false, "let agents answer email (sent by routerd's SMTP: only with a sink or a test account)")
	seed := fs.Uint64("seed", 0, "random seed, overriding the scenario's (0: the scenario's, else the clock)")
	restarts := fs.Bool("restarts", false, "routerd may be killed and restarted during the run: retry requests and reopen sockets for up to 45 s; only what routerd acknowledged must be there, once")
	dropOnOffer := fs.Float64("drop-on-offer", 0, "with -restarts, the `share` of offers at which the agent's desktop drops its socket while the offer rings, then reconnects")
	viewers := fs.Int("viewers", 0, "`N` supervisors watch the live board (/ws/dashboard) during the run; the summary says how far behind it was (needs an admin token)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("contactsim: unexpected argument %q (see contactsim -help)", fs.Arg(0))
	}
	set := map[string]bool{}
	if *viewers < 0 {
		return fmt.Errorf("contactsim: -viewers must not be negative")
	}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *demo {
		if !set["scenario"] {
			*scenario = "demo"
		}
		if !set["duration"] {
			*duration = 0
		}
	}
	sc, err := LoadScenario(*scenario)
	if err != nil {
		return err
	}
	if *seed != 0 {
		sc.Seed = *seed
	}
	tok := *token
	if tok == "" {
		tok = os.Getenv("CONTACTSIM_TOKEN")
	}
	if tok == "" && *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil && (set["token-file"] || !errors.Is(err, os.ErrNotExist)) {
			return fmt.Errorf("contactsim: token: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	pw := *agentPassword
	if pw == "" {
		pw = os.Getenv("CONTACTSIM_AGENT_PASSWORD")
	}
	twTok := *twilioTokenFlag
	if twTok == "" {
		twTok = os.Getenv("TWILIO_AUTH_TOKEN")
	}
	imapPassword := os.Getenv("CONTACTSIM_IMAP_PASSWORD")
	if *imapPasswordFile != "" {
		b, err := os.ReadFile(*imapPasswordFile)
		if err != nil {
			return fmt.Errorf("contactsim: IMAP password: %w", err)
		}
		imapPassword = strings.TrimSpace(string(b))
	}
	opts := Options{
		IMAPAddr: *imapAddr, IMAPUser: *imapUser, IMAPPassword: imapPassword, IMAPFolder: *imapFolder,
		IMAPTLS: *imapTLS, EmailTo: *emailTo, EmailReplies: *emailReplies,
		URL: *base, PublicURL: *publicURL, Token: tok, TwilioAccountSID: *twilioSID, TwilioAuthToken: twTok,
		AgentPassword: pw, Duration: *duration, Rate: *rate, Drain: *drain, SLWithin: *slWithin, SMSReplies: *smsReplies,
		Restarts: *restarts, DropOnOffer: *dropOnOffer, Viewers: *viewers,
		Progress: stderr,
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts.TTY = true
	}
	sim, err := NewSim(sc, opts)
	if err != nil {
		return err
	}
	sm, err := sim.Run(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := sm.WriteJSON(stdout); err != nil {
			return err
		}
	} else {
		sm.WriteText(stdout)
	}
	if sm.Lost > 0 || sm.Duplicated > 0 || sm.Errors > 0 || sm.Check == nil || sm.Check.Failed() {
		over, after := 0, 0
		if sm.Check != nil {
			over, after = sm.Check.OverCapacity, sm.Check.OffersAfterEnd
		}
		return &failedError{fmt.Sprintf("contactsim: %d lost, %d duplicated, %d errors, %d over capacity, %d offers after the end", sm.Lost, sm.Duplicated, sm.Errors, over, after)}
	}
	return nil
}
