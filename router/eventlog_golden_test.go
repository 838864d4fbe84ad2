package router

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite router/testdata's goldens")

// The event log's payload is stored, and is what webhooks receive: its
// JSON as this release writes it is pinned in testdata, and the payload a
// previous release wrote must still read as the same entry. A renamed or
// dropped field fails here, not at an integration's receiver.
func TestLogDataGolden(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := Contact{ID: "01KJPWD7K8GAEM1TP9E3R80QD6", Channel: ChannelEmail, Queue: "billing", State: ContactAssigned,
		AgentID: "alice", Subject: "Invoice", Disposition: "", Follows: "01KJPWD7K8GAEM1TP9E3R80QD5", CreatedAt: at,
		Customer: Customer{ID: "ada", Verified: true, Name: "Ada", Email: "ada@example.com"}}
	m := Message{Seq: 2, At: at.Add(time.Minute), Direction: "out", AuthorKind: AuthorAgent, Author: "alice",
		AuthorName: "Alice Martin", Body: "Here is the invoice.", Subject: "Re: Invoice",
		ExternalID: "email:<01KJ@support.example.com>", References: []string{"<a@customer.example>"}}
	got, err := json.MarshalIndent(LogData{Contact: contactSummary(&c), Message: messageSummary(&m)}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "logdata_v1.json")
	if *updateGolden {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Errorf("the event log's payload changed:\n got %s\nwant %s\n(a new field is fine: run go test -update; a renamed or dropped one breaks stored entries and receivers)", got, want)
	}
	var back LogData
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, LogData{Contact: contactSummary(&c), Message: messageSummary(&m)}) {
		t.Errorf("the stored payload reads as %+v", back)
	}
	// The customer's name and email are never in it.
	for _, private := range []string{"Ada\"", "ada@example.com"} {
		if strings.Contains(string(got), private) {
			t.Errorf("the payload carries %q", private)
		}
	}
}
