package email

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"
)

// SASL mechanisms of OAuth 2.0 logins (OAuth.Mechanism).
const (
	// XOAUTH2 is Google's and Microsoft's mechanism; go-sasl no longer
	// has it, so the channel has its own small client.
	XOAUTH2 = "XOAUTH2"
	// OAUTHBEARER is RFC 7628's.
	OAUTHBEARER = "OAUTHBEARER"
)

// OAuth logs a mailbox or the SMTP server in with an OAuth 2.0 access
// token instead of a password (Microsoft 365 and Gmail have no basic
// auth): Tokens gives a fresh token for each connection.
type OAuth struct {
	// Mechanism is XOAUTH2 (the default) or OAUTHBEARER.
	Mechanism string
	Tokens    oauth2.TokenSource
}

// client returns the SASL client that logs user in with a fresh token.
func (o *OAuth) client(user, addr string) (sasl.Client, error) {
	tok, err := o.Tokens.Token()
	if err != nil {
		return nil, fmt.Errorf("oauth token: %w", err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("oauth token: the provider gave no access token")
	}
	switch o.Mechanism {
	case OAUTHBEARER:
		host, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: tok.AccessToken, Host: host, Port: port}), nil
	case XOAUTH2, "":
		return &xoauth2{user: user, token: tok.AccessToken}, nil
	}
	return nil, fmt.Errorf("oauth: unknown mechanism %q (want XOAUTH2 or OAUTHBEARER)", o.Mechanism)
}

// xoauth2 is a SASL client of XOAUTH2: one initial response,
// "user=<user>^Aauth=Bearer <token>^A^A"; a failure comes as a JSON
// challenge, answered with an empty response so that the server ends
// the exchange with its error.
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return XOAUTH2, []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

// RefreshTokens keeps the refresh tokens that providers rotate;
// *store.DB implements it.
type RefreshTokens interface {
	EmailRefreshToken(ctx context.Context, name string) (string, bool, error)
	PutEmailRefreshToken(ctx context.Context, name, token string) error
}

// DefaultTokenTimeout bounds each request to a token endpoint (one round
// trip, as dialTimeout bounds a connection's setup and smtpTimeout an
// SMTP command: the same 30 s).
const DefaultTokenTimeout = 30 * time.Second

// TokenOptions configure NewTokenSource; nil means the defaults.
type TokenOptions struct {
	// Timeout bounds each request to the token endpoint, the answer
	// read whole; zero means DefaultTokenTimeout. A failing refresh
	// is two requests while golang.org/x/oauth2 does not know yet how
	// the endpoint wants the client authenticated (cfg's
	// Endpoint.AuthStyle unset and no refresh succeeded): it tries the
	// other way.
	Timeout time.Duration
}

// NewTokenSource returns access tokens of cfg's provider, refreshed with
// the refresh token kept under name in keep (the configured initial one
// the first time), and keeps each refresh token the provider rotates to
// before the access token is used: after a restart the latest one is
// used, the configured one having been revoked by the rotation. A token
// endpoint that does not answer within o.Timeout fails the refresh, and
// with it the login that wanted the token: the mailbox reconnects with
// backoff, the outbox retries the reply. Without the bound
// golang.org/x/oauth2 would wait on http.DefaultClient for ever, and
// every login of the source would queue behind it.
func NewTokenSource(ctx context.Context, cfg *oauth2.Config, keep RefreshTokens, name, initial string, o *TokenOptions) (oauth2.TokenSource, error) {
	rt, found, err := keep.EmailRefreshToken(ctx, name)
	if err != nil {
		return nil, err
	}
	if !found {
		rt = initial
	}
	if rt == "" {
		return nil, fmt.Errorf("oauth %s: no refresh token", name)
	}
	timeout := DefaultTokenTimeout
	if o != nil && o.Timeout > 0 {
		timeout = o.Timeout
	}
	// The source outlives ctx; its requests go through a client with a
	// bound.
	ctx = context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, &http.Client{Timeout: timeout})
	p := &persisting{keep: keep, name: name, last: rt}
	p.src = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt})
	return oauth2.ReuseTokenSource(nil, p), nil
}

// persisting stores the refresh token of each new token that differs.
type persisting struct {
	src  oauth2.TokenSource
	keep RefreshTokens
	name string
	mu   sync.Mutex
	last string // guarded by mu
}

func (p *persisting) Token() (*oauth2.Token, error) {
	tok, err := p.src.Token()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if tok.RefreshToken != "" && tok.RefreshToken != p.last {
		if err := p.keep.PutEmailRefreshToken(context.Background(), p.name, tok.RefreshToken); err != nil {
			return nil, fmt.Errorf("oauth %s: keep the rotated refresh token: %w", p.name, err)
		}
		p.last = tok.RefreshToken
	}
	return tok, nil
}
