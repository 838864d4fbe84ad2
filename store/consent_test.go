package store

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
)

// A customer's opt-outs include those of the customers merged into it,
// and those of a number they hold that were recorded before it was
// theirs (nobody's, then).
func TestConsentBlockedAcrossMergesAndIdentities(t *testing.T) {
	forEachDialect(t, func(t *testing.T) {
		db := openTest(t)
		ctx := context.Background()
		put := func(id, phone string) {
			t.Helper()
			c := Customer{ID: id, Name: id, CreatedAt: custEpoch, UpdatedAt: custEpoch}
			var ids []Identity
			if phone != "" {
				ids = []Identity{{Kind: IdentityPhone, Value: phone, Verified: true}}
			}
			if _, err := db.PutCustomer(ctx, c, ids, "test"); err != nil {
				t.Fatal(err)
			}
		}
		stop := func(customer, num, sid string) {
			t.Helper()
			if _, err := db.RecordConsent(ctx, consent.Entry{CustomerID: customer, Channel: "sms", Address: num, Action: consent.OptOut, At: custEpoch, MessageID: sid, Detail: "STOP"}); err != nil {
				t.Fatal(err)
			}
		}
		put("cy", "+15550000001")
		put("dan", "")
		stop("cy", "+15550000001", "SM1")
		if err := db.MergeCustomers(ctx, Merge{FromID: "cy", IntoID: "dan", IdentityKind: IdentityPhone, IdentityValue: "+15550000001", At: custEpoch}); err != nil {
			t.Fatal(err)
		}
		if blocked, err := db.ConsentBlocked(ctx, "dan", "sms"); err != nil || len(blocked) != 1 || blocked[0].MessageID != "SM1" {
			t.Errorf("dan, into whom cy (who texted STOP) was merged: blocked %+v %v, want cy's STOP", blocked, err)
		}
		stop("", "+15550000002", "SM2") // a number nobody held yet
		put("eve", "+15550000002")
		if blocked, err := db.ConsentBlocked(ctx, "eve", "sms"); err != nil || len(blocked) != 1 || blocked[0].MessageID != "SM2" {
			t.Errorf("eve, who holds a number that texted STOP before: blocked %+v %v, want that STOP", blocked, err)
		}
		put("fay", "+15550000003")
		if blocked, err := db.ConsentBlocked(ctx, "fay", "sms"); err != nil || blocked != nil {
			t.Errorf("fay, who never opted out: blocked %+v %v, want none", blocked, err)
		}
	})
}

// The ledger keeps every entry once (by message id); the latest entry of
// an address is in force; erasing the customer deletes theirs.
func TestConsentLedger(t *testing.T) { forEachDialect(t, testConsentLedger) }

func testConsentLedger(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	ada := Customer{ID: "ada", Name: "Ada", CreatedAt: custEpoch, UpdatedAt: custEpoch}
	if _, err := db.PutCustomer(ctx, ada, []Identity{{Kind: IdentityPhone, Value: "+15551234567", Verified: true}}, "test"); err != nil {
		t.Fatal(err)
	}
	const num = "+15551234567"
	if _, found, err := db.ConsentState(ctx, "sms", num); err != nil || found {
		t.Fatalf("an empty ledger: found %v, %v", found, err)
	}
	stop := consent.Entry{CustomerID: "ada", Channel: "sms", Address: num, Action: consent.OptOut, At: custEpoch, MessageID: "SM1", Detail: "STOP"}
	for i, want := range []bool{true, false} { // the provider's retry: recorded once
		if rec, err := db.RecordConsent(ctx, stop); err != nil || rec != want {
			t.Fatalf("record STOP (%d): got %v %v, want %v", i, rec, err, want)
		}
	}
	e, found, err := db.ConsentState(ctx, "sms", num)
	if err != nil || !found || !e.Blocks() || e.MessageID != "SM1" || e.Detail != "STOP" || !e.At.Equal(custEpoch) || e.ID == "" {
		t.Fatalf("after STOP: got %+v %v %v, want the STOP entry in force", e, found, err)
	}
	if blocked, err := db.ConsentBlocked(ctx, "ada", "sms"); err != nil || len(blocked) != 1 || blocked[0].MessageID != "SM1" {
		t.Errorf("ConsentBlocked after STOP: got %+v %v", blocked, err)
	}
	// START, recorded with an earlier clock: the order recorded decides.
	start := stop
	start.Action, start.MessageID, start.Detail, start.At = consent.OptIn, "SM2", "START", custEpoch.Add(-time.Hour)
	if _, err := db.RecordConsent(ctx, start); err != nil {
		t.Fatal(err)
	}
	if e, _, _ := db.ConsentState(ctx, "sms", num); e.Blocks() || e.MessageID != "SM2" {
		t.Errorf("after START: got %+v, want the START entry in force", e)
	}
	if blocked, err := db.ConsentBlocked(ctx, "ada", "sms"); err != nil || blocked != nil {
		t.Errorf("ConsentBlocked after START: got %+v %v, want none", blocked, err)
	}
	if _, err := db.RecordConsent(ctx, consent.Entry{Channel: "sms", Address: num, Action: "maybe", At: custEpoch, MessageID: "SM3"}); err == nil {
		t.Error("an entry with an unknown action was recorded")
	}
	x, err := db.ExportCustomer(ctx, "ada")
	if err != nil || len(x.Consent) != 2 || x.Consent[0].MessageID != "SM1" || x.Consent[1].MessageID != "SM2" {
		t.Errorf("export: got %+v %v, want STOP then START", x.Consent, err)
	}
	if err := db.EraseCustomer(ctx, "ada", custEpoch.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, found, err := db.ConsentState(ctx, "sms", num); err != nil || found {
		t.Errorf("after erasure: found %v %v, want the customer's entries gone (none blocked)", found, err)
	}

	// An opt-out in force outlives the customer's erasure: the number is
	// never texted again, held by nobody, with no detail.
	const bnum = "+15557654321"
	bea := Customer{ID: "bea", Name: "Bea", CreatedAt: custEpoch, UpdatedAt: custEpoch}
	if _, err := db.PutCustomer(ctx, bea, []Identity{{Kind: IdentityPhone, Value: bnum, Verified: true}}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, e := range []consent.Entry{
		{CustomerID: "bea", Channel: "sms", Address: bnum, Action: consent.OptOut, At: custEpoch, MessageID: "SM10", Detail: "STOP"},
		{CustomerID: "bea", Channel: "sms", Address: bnum, Action: consent.OptIn, At: custEpoch, MessageID: "SM11", Detail: "START"},
		{CustomerID: "bea", Channel: "sms", Address: bnum, Action: consent.OptOut, At: custEpoch, MessageID: "SM12", Detail: "STOPALL"},
	} {
		if _, err := db.RecordConsent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.EraseCustomer(ctx, "bea", custEpoch.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	e, found, err = db.ConsentState(ctx, "sms", bnum)
	if err != nil || !found || !e.Blocks() || e.CustomerID != "" || e.Detail != "" || e.MessageID != "SM12" {
		t.Errorf("an opt-out in force after erasure: got %+v %v %v, want SM12 kept, blocking, anonymous", e, found, err)
	}
	if x, err := db.ExportCustomer(ctx, "bea"); err == nil && len(x.Consent) != 0 {
		t.Errorf("the erased customer's export still has consent entries: %+v", x.Consent)
	}
}
