package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/agents"
	"github.com/switchboard/switchboard/agents/web"
	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/canned"
	"github.com/switchboard/switchboard/channels/chat"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/sms"
	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/dashboards"
	dashweb "github.com/switchboard/switchboard/dashboards/web"
	"github.com/switchboard/switchboard/diskspace"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/metrics"
	"github.com/switchboard/switchboard/nextbest"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/webhooks"
)

// adminTokenFile is where a generated admin token is kept, in the data
// directory, readable by the daemon's user only.
const adminTokenFile = "admin-token"

// loadConfig reads the configuration (the demo when path is empty) and
// applies the command-line overrides.
func loadConfig(path, listen, dataDir string) (*config.Config, error) {
	var (
		cfg *config.Config
		err error
	)
	if path != "" {
		cfg, err = config.Load(path)
	} else {
		cfg, err = config.LoadDemo()
	}
	if err != nil {
		return nil, err
	}
	if listen != "" {
		cfg.Listen = listen
	}
	if dataDir != "" {
		if filepath.Clean(cfg.Store.Path) == filepath.Join(cfg.DataDir, config.DefaultDBFile) {
			cfg.Store.Path = filepath.Join(dataDir, config.DefaultDBFile)
		}
		cfg.DataDir = dataDir
	}
	// ROUTERD_DATABASE_URL alone selects PostgreSQL, with any
	// configuration (the demo's included).
	cfg.UseDatabaseURL(nil)
	return cfg, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == config.FormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the daemon until ctx ends, then shuts down gracefully: the
// listener stops, requests in flight finish, the router commits what it
// has queued, and the store closes. demo (the built-in configuration)
// also seeds synthetic customers into an empty store.
func serve(ctx context.Context, cfg *config.Config, demo bool, logOut io.Writer) error {
	log := newLogger(cfg, logOut)
	if err := prepareDataDir(cfg.DataDir, log); err != nil {
		return err
	}
	disk, err := watchDisk(cfg, log)
	if err != nil {
		return err
	}
	diskOwned := false // by the instance, once startOn has it
	defer func() {
		if !diskOwned {
			disk.Close()
		}
	}()
	var cert *certificate
	if cfg.TLS.Enabled() {
		var err error
		if cert, err = loadCertificate(cfg.TLS.CertFile, cfg.TLS.KeyFile); err != nil {
			return err
		}
	}
	db, err := openConfiguredStore(ctx, cfg, 0)
	if err != nil {
		return err
	}
	// The listener first: a node of several advertises its address in
	// the lease. Nothing is served before the handler is set.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		db.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	front := &swapHandler{}
	errc := make(chan error, 2)
	var servers []*http.Server
	listen := func(role string) error {
		srv := newServer(cfg, front, log)
		scheme := "http"
		if cert != nil {
			scheme = "https"
			srv.TLSConfig = tlsConfig(cert)
			go func() { errc <- srv.ServeTLS(ln, "", "") }()
		} else {
			go func() { errc <- srv.Serve(ln) }()
		}
		servers = append(servers, srv)
		if addr := cfg.TLS.RedirectHTTP; addr != "" {
			rln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s (tls.redirect_http): %w", addr, err)
			}
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			rsrv := newServer(cfg, redirectHTTPS(cfg.PublicURL, port), log)
			go func() { errc <- rsrv.Serve(rln) }()
			servers = append(servers, rsrv)
			log.Info("redirecting to https", "addr", "http://"+rln.Addr().String())
		}
		attrs := []any{"addr", scheme + "://" + ln.Addr().String(), "data", cfg.DataDir, "store", storeName(cfg),
			"public_url", cfg.PublicURL, "trusted_proxies", len(cfg.TrustedProxies)}
		if role != "" {
			attrs = append(attrs, "role", role)
		}
		log.Info("listening", attrs...)
		return nil
	}
	shutdown := func() {
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout.D())
		defer cancel()
		for _, srv := range servers {
			if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn("shutdown", "err", err)
			}
		}
	}
	// SIGHUP reloads the certificate; without TLS it is only logged,
	// never the end of the daemon.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	hupCtx, stopHUP := context.WithCancel(ctx)
	defer stopHUP()
	go reloadOnSignal(hupCtx, hup, func() { reloadTLS(cert, log) })

	// abort ends a start that has no instance yet: the instance owns
	// the store once started.
	abort := func(err error) error {
		shutdown()
		ln.Close()
		db.Close()
		return err
	}

	// On PostgreSQL, the node that holds the lease leads; the others
	// stand by until it goes (docs/ha.md).
	var lead *leadership
	role := ""
	if cfg.Store.Driver == config.DriverPostgres {
		role = "leader"
		if lead, err = newLeadership(cfg, db, ln.Addr(), log); err != nil {
			return abort(err)
		}
		ok, err := lead.try(ctx)
		if err != nil {
			return abort(fmt.Errorf("ha: take the lease: %w", err))
		}
		if !ok {
			front.set(lead.standbyHandler())
			if err := listen("standby"); err != nil {
				return abort(err)
			}
			role = ""
			acquireCtx, stopAcquiring := context.WithCancel(ctx)
			defer stopAcquiring()
			acquired := make(chan error, 1)
			go func() { acquired <- lead.acquire(acquireCtx) }()
			select {
			case err := <-errc:
				return abort(fmt.Errorf("serve: %w", err))
			case err := <-acquired:
				if err != nil { // ctx ended
					return abort(nil)
				}
			}
			log.Info("taking over", "epoch", lead.epoch)
		}
	}
	// The lease is renewed from the moment it is held: starting (the
	// store's load, the configuration's seed, the offers' history) may
	// take longer than the lease.
	lost := make(chan error, 1)
	stopLead := func(release bool) {}
	if lead != nil {
		keepCtx, cancelKeep := context.WithCancel(ctx)
		kept := make(chan struct{})
		go func() {
			defer close(kept)
			lost <- lead.keep(keepCtx)
		}()
		var once sync.Once
		// The renewals end first: one after the release would take the
		// lease back.
		stopLead = func(release bool) {
			once.Do(func() {
				cancelKeep()
				<-kept
				if release {
					lead.release()
				}
			})
		}
		defer stopLead(false) // a failed start: the store is closed already
	}
	diskOwned = true
	in, err := startOn(ctx, cfg, demo, log, db, disk) // closes db and disk if it fails
	if err != nil {
		shutdown()
		ln.Close()
		return err
	}
	// A graceful stop releases the lease after the router's last commit
	// and before the store closes.
	in.beforeStoreCloses = func() { stopLead(ctx.Err() != nil) }
	defer in.Close()
	front.set(in.routes)
	if len(servers) == 0 {
		if err := listen(role); err != nil {
			shutdown()
			ln.Close()
			return err
		}
	} else {
		log.Info("leading", "node", lead.holder, "epoch", lead.epoch)
	}
	var failure error
	select {
	case err := <-errc:
		shutdown()
		return fmt.Errorf("serve: %w", err)
	case <-in.rt.Failed():
		// Fail-stop: what was acknowledged is durable; a restart reloads it.
		failure = in.rt.Err()
	case err := <-lost:
		if err != nil {
			// Another node leads, or may: stop everything now. The
			// store refuses this node's writes already; new requests
			// are answered 503 (a client retries on the leader), and
			// what does not write first (the outbox's sends, the
			// mailboxes' and the texts' intake) stops before the
			// requests in flight are waited for, or it would send what
			// the new leader sends.
			failure = fmt.Errorf("ha: lost the lead: %w", err)
			log.Error("stepping down", "err", err)
			front.set(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				unavailable(w, "stepping down: this node lost the lead", "")
			}))
			in.Close()
		}
	case <-ctx.Done():
	}
	shutdown()
	return failure
}

// instance is a started daemon without its listeners: the store, the
// router, and the HTTP handler of every route over them.
type instance struct {
	db     *store.DB
	rt     *router.Router
	routes *routeTable
	// sweeper removes the files no message names (started by build).
	sweeper *fileSweeper
	// closers end what build made, then the router; the store closes
	// after them.
	closers []func()
	// beforeStoreCloses runs after the closers, before the store closes:
	// the router has made its last commit (the leader's lease is
	// released there).
	beforeStoreCloses func()
	closeOnce         sync.Once
}

// Close stops the instance: the WebSockets and the offers' writer, the
// router (which commits what it queued), then the store. Only the
// first call does.
func (in *instance) Close() {
	in.closeOnce.Do(func() {
		for i := len(in.closers) - 1; i >= 0; i-- {
			in.closers[i]()
		}
		if in.beforeStoreCloses != nil {
			in.beforeStoreCloses()
		}
		in.db.Close()
	})
}

// start opens the store, starts the router on it, applies the
// configuration's queues, agents and passwords (and, for the demo, its
// synthetic customers), and builds every route.
func start(ctx context.Context, cfg *config.Config, demo bool, log *slog.Logger) (*instance, error) {
	disk, err := watchDisk(cfg, log)
	if err != nil {
		return nil, err
	}
	db, err := openConfiguredStore(ctx, cfg, 0)
	if err != nil {
		disk.Close()
		return nil, err
	}
	return startOn(ctx, cfg, demo, log, db, disk)
}

// watchDisk starts the guard of the data directory's disk (nearly full,
// new contacts are refused and the rest keeps working: package
// diskspace), before the store opens: on a disk filled to the last byte
// its first check frees the reserve, which opening the store may need.
// It is nil when disk.min_free_bytes is 0.
func watchDisk(cfg *config.Config, log *slog.Logger) (*diskspace.Guard, error) {
	if cfg.Disk.MinFreeBytes == 0 {
		return nil, nil
	}
	reserve := cfg.Disk.ReserveBytes
	if reserve == 0 {
		reserve = -1 // none
	}
	return diskspace.Watch(cfg.DataDir, &diskspace.Options{MinFree: cfg.Disk.MinFreeBytes, Reserve: reserve, Logger: log})
}

// startOn is start on an open store and the disk's guard (nil: none),
// which the instance then owns (they are closed also when startOn
// fails).
func startOn(ctx context.Context, cfg *config.Config, demo bool, log *slog.Logger, db *store.DB, disk *diskspace.Guard) (_ *instance, err error) {
	in := &instance{db: db}
	if disk != nil {
		in.closers = append(in.closers, disk.Close)
	}
	defer func() {
		if err != nil {
			in.Close()
		}
	}()
	tokens, err := cfg.ResolveTokens()
	if err != nil {
		return nil, err
	}
	admin, err := adminToken(ctx, cfg, db, log)
	if err != nil {
		return nil, err
	}
	tokens = append(tokens, config.Token{Name: "admin", Role: config.RoleAdmin, Secret: admin})

	// The hub, the chat and the outbox follow the router's event stream
	// (build subscribes them).
	opts := cfg.RouterOptions()
	opts.Logger = log
	// The webhooks deliver the event log. It is written from the start
	// (a webhook stored before a restart must miss nothing), then only
	// while a webhook exists (the webhooks tell: OnActive); one put over
	// the API starts at the end of the log.
	opts.EventLog = true
	if len(cfg.Chat.Topics) > 0 {
		// The chat delivers its agents' messages through the outbox.
		opts.Outbound = append(opts.Outbound, router.ChannelChat)
	}
	if cfg.Email.Enabled() {
		// Agents' replies on email contacts go out through the outbox.
		opts.Outbound = append(opts.Outbound, router.ChannelEmail)
	}
	if cfg.TwilioEnabled() {
		opts.Outbound = append(opts.Outbound, router.ChannelSMS)
	}
	// The metrics time the router's decisions and commits from its first.
	prom, err := metrics.New(metrics.Options{Thresholds: cfg.ServiceLevelThresholds()})
	if err != nil {
		return nil, err
	}
	if disk != nil {
		if err := prom.Registry().Register(diskCollector{disk}); err != nil {
			return nil, fmt.Errorf("disk metrics: %w", err)
		}
	}
	opts.Observer = prom
	if in.rt, err = router.New(in.db, &opts); err != nil {
		return nil, err
	}
	if err = in.rt.Start(ctx); err != nil {
		return nil, err
	}
	in.closers = append(in.closers, in.rt.Close)
	if err = seed(ctx, cfg, in.rt, in.db); err != nil {
		return nil, err
	}
	if demo {
		if err = seedDemoCustomers(ctx, cfg, in.db, log); err != nil {
			return nil, err
		}
	}
	routes, sweeper, closeAll, err := build(cfg, in.rt, in.db, tokens, prom, disk, log)
	if err != nil {
		return nil, err
	}
	in.routes, in.sweeper = routes, sweeper
	in.closers = append(in.closers, closeAll)
	return in, nil
}

// routeTable is the daemon's top-level mux. It remembers the patterns it
// routes (the API's own routes are its API server's), so that the
// authorization matrix test can insist on a row for each.
type routeTable struct {
	mux      *http.ServeMux
	patterns []string
	// api serves "/": every path no other pattern takes.
	api *api.Server
}

func newRouteTable(a *api.Server) *routeTable {
	t := &routeTable{mux: http.NewServeMux(), api: a}
	t.mux.Handle("/", a)
	return t
}

// handle routes pattern to h and remembers it.
func (t *routeTable) handle(pattern string, h http.Handler) {
	t.mux.Handle(pattern, h)
	t.patterns = append(t.patterns, pattern)
}

func (t *routeTable) ServeHTTP(w http.ResponseWriter, r *http.Request) { t.mux.ServeHTTP(w, r) }

// newServer is an HTTP server of h with cfg's timeouts.
func newServer(cfg *config.Config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.HTTP.ReadTimeout.D(),
		WriteTimeout:      cfg.HTTP.WriteTimeout.D(),
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// secureCookie says when the session cookie is Secure: always when the
// public URL is https (even if the proxy in front talks plain HTTP to
// routerd), else when the client came over HTTPS, to routerd or to a
// trusted proxy.
func secureCookie(cfg *config.Config, clients *clientaddr.Resolver) func(*http.Request) bool {
	if cfg.PublicHTTPS() {
		return func(*http.Request) bool { return true }
	}
	return clients.HTTPS
}

// follower is a component that follows the router's event stream, and
// how it catches up when it fell behind.
type follower struct {
	n      router.Notifier
	resync func(*router.Snapshot)
}

// follow subscribes each of fs to rt's event stream, now, and delivers to
// each on its own goroutine (router.Follow): none can slow the commits,
// one that falls behind is resynchronised. stop ends them.
func follow(rt *router.Router, fs ...follower) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, f := range fs {
		sub, snap := rt.Subscribe(0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = rt.Follow(ctx, sub, snap, f.n, f.resync) // ends with ctx or the router
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// errNotAgentSession refuses an agent WebSocket to anything but an
// agent's login session (API tokens belong to no agent).
var errNotAgentSession = errors.New("routerd: the agent WebSocket needs an agent's login session")

// build makes the HTTP handler: the API, the agent desktop and its
// WebSocket, and the web chat; and starts the attachments' sweeper.
// closeAll ends the WebSockets and the sweeper.
func build(cfg *config.Config, rt *router.Router, db *store.DB, tokens []config.Token, prom *metrics.Metrics, disk *diskspace.Guard, log *slog.Logger) (_ *routeTable, _ *fileSweeper, closeAll func(), _ error) {
	// The configured offers (validated by config), overlaid with those
	// put over the API; the learner resumes from the stored counts.
	catalog, err := offers.NewCatalog(cfg.OfferCatalog())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("offer catalog: %w", err)
	}
	learner := offers.NewLearner(cfg.OfferPrior())
	if err := nextbest.LoadLearner(context.Background(), db, learner); err != nil {
		return nil, nil, nil, err
	}
	offerSrc := nextbest.NewEngine(catalog, learner, cfg.OfferRules(), db, rt, log)
	offerCat, err := nextbest.NewLiveCatalog(context.Background(), cfg.OfferCatalog(), db, offerSrc, log)
	if err != nil {
		offerSrc.Close()
		return nil, nil, nil, err
	}
	popper := &screenpop.Builder{Router: rt, Store: db, Profiles: db, Offers: offerSrc, Logger: log,
		ProfileGrace: cfg.Customers.ProfileAccessGrace.D()}
	var hub *agents.Hub
	var live *dashboards.Live
	// The estimated waits, measured against the actual ones: one tracker
	// for the board, the API, the metrics and the chat.
	waits := dashboards.NewWaits(rt, dashboards.DefaultWindow)
	if err := waits.Seed(context.Background(), db); err != nil {
		offerSrc.Close()
		return nil, nil, nil, fmt.Errorf("estimated waits: %w", err)
	}
	queueSource := dashboards.Source{Router: rt, Store: db, Waits: waits}
	clients := clientaddr.New(cfg.TrustedPrefixes())
	in := newIntake(cfg, rt, db)
	if disk != nil {
		in.Admit = disk.Admit
	}
	var texts *sms.Channel
	smsSegments := 0 // the composer's limit, shown only when SMS is on
	checkReply := func(ctx context.Context, c router.Contact) error {
		if texts == nil {
			return nil
		}
		return texts.CheckReply(ctx, c)
	}
	// A file no message holds goes after its grace (the sweeper, and
	// an erasure's removal); the store says which are held.
	files, err := attachments.Open(cfg.AttachmentsDir(), &attachments.Options{MaxFileBytes: cfg.Attachments.MaxFileBytes,
		SweepAfter: cfg.Attachments.SweepAfter.D(), Holders: db})
	if err != nil {
		offerSrc.Close()
		return nil, nil, nil, err
	}
	sweeper := newFileSweeper(files, cfg.Attachments.SweepEvery.D(), log)
	if err := prom.Registry().Register(sweeper); err != nil {
		offerSrc.Close()
		return nil, nil, nil, fmt.Errorf("attachments metrics: %w", err)
	}
	var mail *email.Channel
	var mailSender *email.Sender
	// recipients settles the Cc an agent's email reply keeps; nil
	// (no email) refuses a reply that names one.
	var recipients func(ctx context.Context, c router.Contact, cc []string) ([]string, []string, error)
	// ownEmail are the addresses replies are sent from, which the
	// desktop leaves out of a reply's Cc.
	var ownEmail []string
	if cfg.Email.Enabled() {
		if mail, err = newEmail(cfg, rt, db, in, files, log); err != nil {
			offerSrc.Close()
			return nil, nil, nil, err
		}
		if mailSender, err = newEmailSender(cfg, rt, db, files, log); err != nil {
			offerSrc.Close()
			return nil, nil, nil, err
		}
		recipients = mailSender.Recipients
		ownEmail = mailSender.OwnAddresses()
	}
	readyDetails := func() map[string]any {
		d := map[string]any{}
		if mail != nil {
			d["email"] = mail.Status()
		}
		if disk != nil {
			d["disk"] = map[string]any{"free_bytes": disk.Free(), "low": disk.Low()}
		}
		return d
	}
	if mail != nil {
		if err := prom.Registry().Register(newMailboxMetrics(mail)); err != nil {
			offerSrc.Close()
			return nil, nil, nil, fmt.Errorf("email metrics: %w", err)
		}
	}
	if cfg.TwilioEnabled() {
		if texts, err = newSMS(cfg, rt, db, in, files, log); err != nil {
			offerSrc.Close()
			return nil, nil, nil, err
		}
		if err := prom.Registry().Register(newSMSMetrics(texts.Stats)); err != nil {
			offerSrc.Close()
			return nil, nil, nil, fmt.Errorf("sms metrics: %w", err)
		}
		smsSegments = cfg.Twilio.MaxSegments
	} else if len(cfg.Twilio.Routes) > 0 {
		log.Info("sms channel off: no Twilio auth token (twilio.auth_token or " + config.EnvTwilioAuthToken + ")")
	}
	hooks, err := webhooks.New(webhooks.Options{Store: db, Webhooks: cfg.WebhookList(), AllowHTTP: cfg.WebhookAllowHTTP,
		Retention: cfg.EventLogRetention.D(), Logger: log, OnActive: rt.SetEventLog})
	if err != nil {
		offerSrc.Close()
		return nil, nil, nil, err
	}
	if err := prom.Registry().Register(newWebhookMetrics(hooks.List)); err != nil {
		offerSrc.Close()
		return nil, nil, nil, fmt.Errorf("webhook metrics: %w", err)
	}
	apiSrv, err := api.New(api.Options{
		Router: rt, Store: db, Tokens: tokens, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Logger: log,
		ClientAddr:                clients.Addr,
		SecureCookie:              secureCookie(cfg, clients),
		Queues:                    queueSource.Queues,
		Sessions:                  &api.SessionOptions{TTL: cfg.Auth.SessionTTL.D()},
		ScreenPop:                 func(ctx context.Context, id string) (any, error) { return popper.Build(ctx, id) },
		Offers:                    offerCat,
		Canned:                    canned.NewLibrary(cfg.Canned(), db),
		Webhooks:                  hooks,
		Intake:                    in,
		CheckReply:                checkReply,
		Recipients:                recipients,
		Attachments:               files,
		MaxMessageAttachmentBytes: cfg.Attachments.MaxMessageBytes,
		UploadBytesPerHour:        cfg.Attachments.UploadBytesPerHour,
		ReadyDetails:              readyDetails,
		SupervisorNames:           supervisorNames(cfg),
		OnSessionsEnded: func(login string, sessions []string) {
			if hub != nil {
				hub.EndSessions(login, sessions)
			}
			if live != nil {
				live.EndSessions(login, sessions)
			}
		},
		OnCustomerErased: func(string) {
			if hub != nil {
				hub.ForgetReplays()
			}
		},
	})
	if err != nil {
		offerSrc.Close()
		return nil, nil, nil, err
	}
	hub, err = agents.NewHub(&agents.Options{
		Router: rt, Store: db, ScreenPops: popper,
		Authenticate: func(r *http.Request) (string, string, time.Time, error) {
			p, err := apiSrv.Authenticate(r)
			if err != nil {
				return "", "", time.Time{}, err
			}
			if p.Role != config.RoleAgent || p.AgentID == "" || p.SessionID == "" {
				return "", "", time.Time{}, errNotAgentSession
			}
			return p.AgentID, p.SessionID, p.ExpiresAt, nil
		},
		AllowedOrigins: cfg.Desktop.AllowedOrigins,
		Dispositions:   cfg.Desktop.Dispositions,
		Segments:       cfg.Desktop.Segments,
		Products:       cfg.Desktop.Products,
		AwayReasons:    cfg.Desktop.AwayReasons,
		OnOfferOutcome: offerSrc.Outcome,
		Verify: func(ctx context.Context, contactID, agentID, method string) error {
			_, err := customers.Verify(ctx, db, rt, contactID, agentID, method, time.Now())
			return err
		},
		VerificationMethods: cfg.Desktop.VerificationMethods,
		CheckReply:          checkReply,
		SMSMaxSegments:      smsSegments,
		OwnEmailAddresses:   ownEmail,
		Files:               files,
		MaxMessageFileBytes: cfg.Attachments.MaxMessageBytes,
		Recipients:          recipients,
		Logger:              log,
	})
	if err != nil {
		offerSrc.Close()
		return nil, nil, nil, err
	}
	mux := newRouteTable(apiSrv)
	mux.handle("GET /{$}", http.RedirectHandler("/agent/", http.StatusFound))
	mux.handle("GET /ws/agent", hub)
	mux.handle("GET /agent/", web.Handler())
	listeners := []follower{{hub, hub.Resync}}
	closers := []func(){hub.Close, offerSrc.Close}
	senders := map[router.Channel]outbox.Sender{}
	if len(cfg.Chat.Topics) > 0 {
		// The hub, the chat and the outbox hear each other's signals
		// (typing, reading, receipts) on the router's event stream.
		ch, err := newChat(cfg, rt, db, in, waits, log)
		if err != nil {
			hub.Close()
			offerSrc.Close()
			return nil, nil, nil, err
		}
		mux.handle("/ws/chat", ch.Handler())
		mux.handle("/chat/", ch.Handler())
		listeners = append(listeners, follower{ch, ch.Resync})
		closers = append(closers, ch.Close)
		senders[router.ChannelChat] = ch
	}
	if mail != nil {
		senders[router.ChannelEmail] = mailSender
	}
	if texts != nil {
		// Twilio's webhooks: public, authenticated by their signature.
		mux.handle("POST "+sms.InboundPath, texts.Handler())
		mux.handle("POST "+sms.StatusPath, texts.Handler())
		listeners = append(listeners, follower{texts, texts.Resync})
		senders[router.ChannelSMS] = texts
	}
	dispatcher, err := outbox.New(outbox.Options{Router: rt, Store: db, Senders: senders, Logger: log})
	if err != nil {
		for _, c := range closers {
			c()
		}
		return nil, nil, nil, err
	}
	// Prometheus scrapes with an admin's, a supervisor's or a metrics
	// token (docs/metrics.md).
	prom.Attach(metrics.Sources{Router: rt, Queues: queueSource.Views, Backlog: dispatcher.Backlog})
	mux.handle("GET /metrics", scrapers(apiSrv, prom.Handler()))
	// The supervisors' live page and its board.
	live, err = dashboards.NewLive(dashboards.LiveOptions{Router: rt, Store: db, AllowedOrigins: cfg.Desktop.AllowedOrigins, Logger: log, Waits: waits,
		Location: cfg.Dashboards.Location(),
		Authorize: func(r *http.Request) (dashboards.Viewer, error) {
			p, err := apiSrv.Authenticate(r)
			switch {
			case errors.Is(err, api.ErrUnauthorized):
				return dashboards.Viewer{}, fmt.Errorf("%w: sign in as a supervisor first", dashboards.ErrUnauthenticated)
			case err != nil:
				return dashboards.Viewer{}, err
			case p.Role != config.RoleSupervisor && p.Role != config.RoleAdmin:
				return dashboards.Viewer{}, fmt.Errorf("role %s may not watch the dashboard; allowed roles: admin, supervisor", p.Role)
			}
			return dashboards.Viewer{Login: p.Name, Session: p.SessionID, ExpiresAt: p.ExpiresAt}, nil
		}})
	if err != nil {
		dispatcher.Close()
		for _, c := range closers {
			c()
		}
		return nil, nil, nil, err
	}
	mux.handle("GET /ws/dashboard", live)
	mux.handle("GET /dashboard/", dashweb.Handler())
	listeners = append(listeners, follower{live, live.Resync})
	closers = append(closers, live.Close)
	listeners = append(listeners, follower{prom, prom.Resync}, follower{waits, waits.Resync})
	// Closed first: no delivery outlives the channels it goes to; and
	// before it, the following ends.
	closers = append([]func(){dispatcher.Close, hooks.Close}, closers...)
	closers = append([]func(){follow(rt, append(listeners, follower{dispatcher, dispatcher.Resync}, follower{hooks, hooks.Resync})...)}, closers...)
	// After they subscribed: the store's scan finds what was committed
	// before (a crash's), the event stream brings the rest.
	for _, start := range []func(context.Context) error{dispatcher.Start, hooks.Start} {
		if err := start(context.Background()); err != nil {
			for _, c := range closers {
				c()
			}
			return nil, nil, nil, err
		}
	}
	closers = append([]func(){sweeper.start(), startPruningStates(db, cfg.Dashboards.StateRetention(), log),
		startCheckingSessions(db, []sessionHolder{hub, live}, log)}, closers...)
	if mail != nil {
		// Last: its contacts find every component ready. Closed first.
		mail.Start()
		closers = append([]func(){mail.Close}, closers...)
	}
	return mux, sweeper, func() {
		for _, c := range closers {
			c()
		}
	}, nil
}

// scrapers lets through to h only the principals that may read the
// metrics (api.Principal.Scrapes), as the API answers others: 401
// without a credential, 403 with another role.
func scrapers(a *api.Server, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		switch {
		case errors.Is(err, api.ErrUnauthorized):
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
			http.Error(w, "missing or unknown bearer token: send \"Authorization: Bearer <token>\"", http.StatusUnauthorized)
		case err != nil:
			http.Error(w, "could not authenticate", http.StatusInternalServerError)
		case !p.Scrapes():
			http.Error(w, "role "+p.Role+" may not read the metrics; allowed roles: admin, supervisor, metrics", http.StatusForbidden)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// newIntake is the way in of every channel (package intake): it resolves
// the customer of a new contact and applies their profile to its
// routing, as cfg.Customers says.
func newIntake(cfg *config.Config, rt *router.Router, db *store.DB) *intake.Intake {
	c := cfg.Customers
	r := customers.Routing{
		PreferManager:    c.PreferRelationshipManager,
		PreferLastAgent:  c.PreferLastAgent,
		LastAgentWithin:  c.LastAgentWithin.D(),
		PreferredTimeout: c.PreferredTimeout.D(),
		IsAgent: func(id string) bool {
			_, ok := rt.Snapshot().Agent(id)
			return ok
		},
	}
	return &intake.Intake{Router: rt, Store: db, PreferredTimeout: c.PreferredTimeout.D(),
		Resolve: func(ctx context.Context, nc router.NewContact) (router.NewContact, error) {
			return customers.Intake(ctx, db, nc, r)
		}}
}

// newSMS makes the SMS channel. Twilio signs the URL it calls: the
// public URL, or, when none is configured (the demo), routerd's listen
// address, which only a local caller reaches.
func newSMS(cfg *config.Config, rt *router.Router, db *store.DB, in *intake.Intake, files *attachments.Store, log *slog.Logger) (*sms.Channel, error) {
	public := cfg.PublicURL
	if public == "" {
		public = "http://" + cfg.Listen
		log.Warn("sms: no public_url: Twilio's signatures are checked against the listen address; set public_url (or "+config.EnvPublicURL+") to the URL Twilio calls", "url", public)
	}
	o := sms.Options{Router: rt, Store: db, Intake: in,
		AccountSID: cfg.TwilioAccountSID(), AuthToken: cfg.TwilioAuthToken(),
		PublicURL: public, APIBaseURL: cfg.Twilio.APIBaseURL, HelpText: cfg.Twilio.HelpText,
		Routes: cfg.Twilio.SMSRoutes(), Logger: log}
	if cfg.Twilio.FetchMedia {
		o.Media = files
	}
	ch, err := sms.New(o)
	if err != nil {
		return nil, fmt.Errorf("sms channel: %w", err)
	}
	log.Info("sms channel on", "inbound", public+sms.InboundPath, "status", public+sms.StatusPath, "routes", len(o.Routes))
	return ch, nil
}

// chatSecretFile keeps the key of chat conversation tokens, so that a
// customer can resume across restarts.
const chatSecretFile = "chat-secret"

// newChat makes the web chat channel.
func newChat(cfg *config.Config, rt *router.Router, db *store.DB, in *intake.Intake, waits *dashboards.Waits, log *slog.Logger) (*chat.Channel, error) {
	secret, err := chatKey(context.Background(), cfg, db)
	if err != nil {
		return nil, fmt.Errorf("chat secret: %w", err)
	}
	o := chat.Options{
		Router: rt, Store: db, AllowedOrigins: cfg.Chat.AllowedOrigins, Secret: secret,
		TokenTTL: cfg.Chat.TokenTTL.D(), MaxMessageBytes: cfg.Chat.MaxMessageBytes,
		ConversationsPerMinute: cfg.Chat.ConversationsPerMinute, MessagesPer10s: cfg.Chat.MessagesPer10s,
		ConnectionsPerAddress: cfg.Chat.ConnectionsPerAddress, LeaveMessageWindow: cfg.Chat.LeaveMessageWindow.D(),
		ClientAddr: clientaddr.New(cfg.TrustedPrefixes()).Addr,
		Intake:     in,
		CSAT:       cfg.CSATPolicy(),
		Waits:      waits,
		Logger:     log,
	}
	for _, t := range cfg.Chat.Topics {
		o.Topics = append(o.Topics, chat.Topic{ID: t.ID, Label: t.Label, Queue: t.Queue, OfflineQueue: t.OfflineQueue})
	}
	return chat.New(o)
}

// secretFile returns the random key kept in path, creating it (n bytes,
// mode 0600, written aside and renamed) on first use.
func secretFile(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(b) < n {
			return nil, fmt.Errorf("%s holds %d bytes, want %d", path, len(b), n)
		}
		return b, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	b = make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, writeAtomic(path, b)
}

// writeAtomic writes data to path (mode 0600) through a synced temporary
// file and a rename, so a crash never leaves half of it.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

// seed applies the queues, agents and password hashes the configuration
// declares. The configuration wins for what it names; what was added over
// the API (or by routerd passwd) stays. A hash that changes ends the
// login's sessions.
func seed(ctx context.Context, cfg *config.Config, rt *router.Router, db *store.DB) error {
	for _, q := range cfg.RouterQueues() {
		if _, err := rt.PutQueue(ctx, q); err != nil {
			return fmt.Errorf("config queue %q: %w", q.Name, err)
		}
	}
	for _, a := range cfg.RouterAgents() {
		if _, _, err := rt.PutAgent(ctx, a); err != nil {
			return fmt.Errorf("config agent %q: %w", a.ID, err)
		}
	}
	for _, a := range cfg.Agents {
		if err := seedCredential(ctx, db, a.ID, config.RoleAgent, a.PasswordHash); err != nil {
			return err
		}
	}
	for _, s := range cfg.Supervisors {
		if err := seedCredential(ctx, db, s.ID, config.RoleSupervisor, s.PasswordHash); err != nil {
			return err
		}
	}
	return nil
}

// supervisorNames are the display names of cfg's supervisors, by login
// id: their whispers and messages to customers carry them.
func supervisorNames(cfg *config.Config) map[string]string {
	names := make(map[string]string, len(cfg.Supervisors))
	for _, s := range cfg.Supervisors {
		names[s.ID] = s.Name
	}
	return names
}

// demoCustomers is how many synthetic customers the demo seeds.
const demoCustomers = 500

// seedDemoCustomers puts demoCustomers synthetic customers, Ada Lovelace
// first, into a store that holds none, with a synthetic past of offer
// outcomes (nextbest.SyntheticOutcomes: the offers of cfg's catalog made
// to them by cfg's agents 100 to 400 days ago), so that the learner
// starts with acceptance rates that differ by offer and segment; a store
// with customers is left alone. It runs before the learner is loaded.
func seedDemoCustomers(ctx context.Context, cfg *config.Config, db *store.DB, log *slog.Logger) error {
	has, err := db.HasCustomers(ctx)
	if err != nil || has {
		return err
	}
	synthetic := customers.Synthetic(demoCustomers, 1)
	custs := make([]store.Customer, 0, len(synthetic))
	imports := make([]store.CustomerImport, 0, len(synthetic))
	for _, p := range synthetic {
		custs = append(custs, p.Customer)
		imports = append(imports, store.CustomerImport{Customer: p.Customer, Identities: p.Identities, By: "demo"})
	}
	results, err := db.ImportCustomers(ctx, imports)
	if err != nil {
		return fmt.Errorf("demo customers: %w", err)
	}
	for i, r := range results {
		if r.Err != nil {
			return fmt.Errorf("demo customer %q: %w", custs[i].ID, r.Err)
		}
	}
	recorded := 0
	if len(cfg.Agents) > 0 && len(cfg.Queues) > 0 {
		cat, err := offers.NewCatalog(cfg.OfferCatalog())
		if err != nil {
			return fmt.Errorf("demo offer outcomes: %w", err)
		}
		agentIDs := make([]string, 0, len(cfg.Agents))
		for _, a := range cfg.Agents {
			agentIDs = append(agentIDs, a.ID)
		}
		outs, err := nextbest.SyntheticOutcomes(cat, cfg.OfferRules(), custs, cfg.Queues[0].Name, agentIDs, 1, time.Now())
		if err != nil {
			return err
		}
		for i := 0; i < len(outs); i += 1000 {
			_, n, err := db.RecordOfferOutcomes(ctx, outs[i:min(i+1000, len(outs))])
			if err != nil {
				return fmt.Errorf("demo offer outcomes: %w", err)
			}
			recorded += n
		}
	}
	log.Info("seeded demo customers", "count", demoCustomers, "offer_outcomes", recorded, "example", "ada@example.com")
	return nil
}

// seedCredential sets a login's password hash from the configuration,
// unless hash is empty or already set; a change ends the login's
// sessions.
func seedCredential(ctx context.Context, db *store.DB, login, role, hash string) error {
	if hash == "" {
		return nil
	}
	old, err := db.Credential(ctx, login)
	switch {
	case err == nil && old.Hash == hash && old.Role == role:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("config password of %q: %w", login, err)
	}
	if err := db.SetCredential(ctx, store.Credential{LoginID: login, Hash: hash, Role: role, UpdatedAt: time.Now()}); err != nil {
		return fmt.Errorf("config password of %q: %w", login, err)
	}
	if _, err := db.DeleteSessions(ctx, login); err != nil {
		return fmt.Errorf("config password of %q: %w", login, err)
	}
	return nil
}

// adminToken returns the admin token: the configured one, or the one kept
// in the data directory, or a new random one written there (mode 0600).
// On PostgreSQL the nodes share one, kept in the database (the first
// node's, its file's if it had one), and each node's file shows it. The
// token itself is never logged.
func adminToken(ctx context.Context, cfg *config.Config, db *store.DB, log *slog.Logger) (string, error) {
	if cfg.Auth.AdminToken != "" {
		return cfg.Auth.AdminToken, nil
	}
	path := filepath.Join(cfg.DataDir, adminTokenFile)
	local, err := readAdminToken(path)
	if err != nil {
		return "", err
	}
	if cfg.Store.Driver == config.DriverPostgres {
		tok, err := db.Secret(ctx, secretAdminToken, func() (string, error) {
			if local != "" {
				return local, nil
			}
			return newAdminToken()
		})
		if err != nil {
			return "", err
		}
		if tok == local {
			log.Info("admin token (shared by the nodes)", "file", path)
			return tok, nil
		}
		if err := writeAtomic(path, []byte(tok+"\n")); err != nil {
			return "", fmt.Errorf("write admin token: %w", err)
		}
		log.Info("wrote the nodes' shared admin token", "file", path)
		return tok, nil
	}
	if local != "" {
		log.Info("admin token", "file", path)
		return local, nil
	}
	tok, err := newAdminToken()
	if err != nil {
		return "", err
	}
	if err := writeAtomic(path, []byte(tok+"\n")); err != nil {
		return "", fmt.Errorf("write admin token: %w", err)
	}
	log.Info("generated an admin token", "file", path)
	return tok, nil
}

// The names of the secrets the nodes share in the database.
const (
	secretAdminToken = "admin_token"
	secretChatKey    = "chat_signing_key"
)

// readAdminToken reads the admin token kept in path; "" if there is none.
func readAdminToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read admin token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return "", fmt.Errorf("admin token in %s is shorter than 16 characters", path)
	}
	return tok, nil
}

// newAdminToken makes a random admin token.
func newAdminToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate admin token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// chatKey returns the key of the chat's conversation tokens: kept in
// the data directory, or on PostgreSQL shared by the nodes in the
// database (so that a customer resumes on whichever node leads).
func chatKey(ctx context.Context, cfg *config.Config, db *store.DB) ([]byte, error) {
	return sharedKey(ctx, cfg, db, chatSecretFile, secretChatKey)
}
