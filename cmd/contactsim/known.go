package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
)

// customerAnswer is the part of GET /api/v1/customers/{id} read here.
type customerAnswer struct {
	ID         string `json:"id"`
	Segment    string `json:"segment"`
	MergedInto string `json:"merged_into"`
	ErasedAt   string `json:"erased_at"`
	Consent    struct {
		Marketing *bool `json:"marketing"`
		Profiling *bool `json:"profiling"`
	} `json:"consent"`
	Identities []struct {
		Kind     string `json:"kind"`
		Value    string `json:"value"`
		Verified bool   `json:"verified"`
	} `json:"identities"`
}

// loadKnown reads the scenario's known customers from routerd; those it
// does not hold are left out (a daemon without the demo's customers has
// none, and API customers are then strangers).
func (s *Sim) loadKnown(ctx context.Context) {
	k := s.sc.Customers.KnownIDs
	if s.sc.Customers.Known == 0 || k.Count == 0 {
		return
	}
	ids := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range lookupWorkers {
		wg.Go(func() {
			for id := range ids {
				var a customerAnswer
				code, err := s.api(ctx, "GET", "/api/v1/customers/"+id, nil, nil, &a)
				if err != nil || code != http.StatusOK || a.MergedInto != "" || a.ErasedAt != "" {
					continue
				}
				kc := &knownCustomer{id: a.ID, segment: a.Segment,
					marketing: a.Consent.Marketing != nil && *a.Consent.Marketing,
					profiling: a.Consent.Profiling != nil && *a.Consent.Profiling}
				for _, idt := range a.Identities {
					switch {
					case idt.Kind == "email" && idt.Verified && kc.email == "":
						kc.email = idt.Value
					case idt.Kind == "phone" && idt.Verified && kc.phone == "":
						kc.phone = idt.Value
					}
				}
				if kc.email == "" {
					continue
				}
				mu.Lock()
				s.known = append(s.known, kc)
				mu.Unlock()
			}
		})
	}
	for i := 1; i <= k.Count; i++ {
		ids <- fmt.Sprintf(k.Format, i)
	}
	close(ids)
	wg.Wait()
	if len(s.known) == 0 {
		s.skipped = append(s.skipped, fmt.Sprintf("known customers: routerd holds none of %s (1 to %d): every customer is a stranger, so no offers are shown", k.Format, k.Count))
	}
}

// optOut has the scenario's share of known customers text STOP from
// their phone before the run, so that no offer may be shown to them on
// any channel; optIn texts START at the end to leave the daemon as it was.
func (s *Sim) optOut(ctx context.Context) {
	if s.sc.Customers.OptOut == 0 || len(s.known) == 0 {
		return
	}
	if s.opts.TwilioAuthToken == "" {
		s.skipped = append(s.skipped, "opt-outs: no Twilio auth token, so no customer texted STOP")
		return
	}
	rng := s.rng()
	for _, kc := range s.known {
		if kc.phone == "" || rng.Float64() >= s.sc.Customers.OptOut {
			continue
		}
		if s.text(ctx, kc.phone, s.smsTo(), "STOP", false, false) {
			kc.optedOut.Store(true)
		}
	}
}

func (s *Sim) optIn(ctx context.Context) {
	for _, kc := range s.known {
		if kc.optedOut.Load() {
			s.text(ctx, kc.phone, s.smsTo(), "START", false, false)
		}
	}
}

// smsTo is the number texted: the first SMS stream's.
func (s *Sim) smsTo() string {
	for _, st := range s.sc.Streams {
		if st.Channel == channelSMS {
			return st.To
		}
	}
	return "+15550001111"
}
