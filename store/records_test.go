package store

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// fill sets every exported field of the struct v points to (those the
// JSON of the router keeps: not json:"-"), recursively, to a value that
// is not zero and differs from the others.
func fill(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strings.Repeat("x", *n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * int64(time.Second))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k, n)
		fill(t, e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, s.Index(0), n)
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(*n) * time.Hour)))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && f.Tag.Get("json") != "-" {
				fill(t, v.Field(i), n)
			}
		}
	default:
		t.Fatalf("fill: %s has a kind (%s) the test does not know: teach it, and the record", v.Type(), v.Kind())
	}
}

// Every field of the router's Contact survives the store's record: a field
// added to the router but not to contactRecord fails here, instead of
// being lost at the next restart.
func TestContactRecordRoundTrip(t *testing.T) {
	rec := roundTrip(t, func(c router.Contact) contactRecord { return recordOfContact(&c) }, contactRecord.contact)
	if rec.Version != contactRecordVersion {
		t.Errorf("got version %d, want %d written", rec.Version, contactRecordVersion)
	}
}

// Records as earlier releases wrote them are read whole. Each file of
// testdata/contact_v*.json is a contacts.data column as written by the
// release named in it; add one when the record's version changes, and
// never edit one.
func TestContactRecordGolden(t *testing.T) {
	at := func(h int) time.Time {
		return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(h) * time.Hour)
	}
	want := map[string]router.Contact{
		// Written before records had a version: the router's JSON.
		"contact_v1_unversioned.json": {
			ID: "01JQ0000000000000000000001", Channel: "chat", Queue: "billing", Subject: "Invoice",
			Customer:     router.Customer{ID: "cu-ada", Name: "Ada", Email: "ada@example.com", Phone: "+15551234567", Verified: true, Value: 1200.5, Segment: "premium", ClaimedID: "cu-old"},
			Requirements: []router.Requirement{{Skill: "billing", Min: 3}, {Skill: "english", Min: 2}},
			Effective:    []router.Requirement{{Skill: "billing", Min: 2}}, Step: 1,
			Priority: 5, Rank: 25, Preferred: []string{"alice"}, PreferredUntil: at(1),
			State: router.ContactClosed, AgentID: "alice", Declined: []string{"bob"},
			CreatedAt: at(0), Returned: true, EnqueuedAt: at(0), QueuedAt: at(2), OfferedAt: at(3), OfferExpires: at(4),
			AssignedAt: at(5), EndedAt: at(6), Disposition: "resolved", Notes: "paid", Follows: "01JQ0000000000000000000000",
		},
		// A queued contact, every optional field absent.
		"contact_v1_minimal.json": {
			ID: "01JQ0000000000000000000002", Channel: "email", Queue: "sales",
			Requirements: []router.Requirement{}, Effective: []router.Requirement{},
			State: router.ContactQueued, CreatedAt: at(0), EnqueuedAt: at(0), QueuedAt: at(0),
		},
	}
	readGolden(t, want, contactRecord.contact)
}

// A record of a later version is refused, not read in part.
func TestContactRecordFromTheFuture(t *testing.T) {
	var rec contactRecord
	if err := json.Unmarshal([]byte(`{"v":2,"id":"c1","state":"queued"}`), &rec); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.contact(); err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("got %v, want a refusal saying to upgrade", err)
	}
}

// Every field of the router's Queue survives the store's record.
func TestQueueRecordRoundTrip(t *testing.T) {
	rec := roundTrip(t, recordOfQueue, queueRecord.queue)
	if rec.Version != queueRecordVersion {
		t.Errorf("got version %d, want %d written", rec.Version, queueRecordVersion)
	}
}

// Queue definitions as earlier releases wrote them are read whole
// (testdata/queue_v*.json; never edit one).
func TestQueueRecordGolden(t *testing.T) {
	want := map[string]router.Queue{
		"queue_v1_unversioned.json": {Name: "billing", Requirements: []router.Requirement{{Skill: "billing", Min: 3}}, Priority: 10, Strategy: router.BestSkill,
			ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * time.Second)},
			Relaxation: []router.RelaxStep{{Name: "any-level", After: router.Duration(30 * time.Second), Min: map[string]int{"billing": 1}},
				{Name: "no-english", After: router.Duration(90 * time.Second), Drop: []string{"english"}}},
			MaxWait: router.Duration(5 * time.Minute), Overflow: "general", WrapUp: router.Duration(45 * time.Second),
			ValueTiers: []router.ValueTier{{Min: 1000, Boost: 10}, {Min: 10000, Boost: 30}}, SegmentBoosts: map[string]int{"premium": 20}, Hours: "office"},
		"queue_v1_minimal.json": {Name: "sales"},
	}
	readGolden(t, want, queueRecord.queue)
	var rec queueRecord
	if err := json.Unmarshal([]byte(`{"v":2,"name":"q"}`), &rec); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.queue(); err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("a record of version 2: got %v, want a refusal saying to upgrade", err)
	}
}

// roundTrip fills every field of a T, writes it as the store would (toRec,
// then JSON), reads it back (fromRec) and fails unless it is the same;
// it returns the record read.
func roundTrip[T, R any](t *testing.T, toRec func(T) R, fromRec func(R) (T, error)) R {
	t.Helper()
	var v T
	n := 0
	fill(t, reflect.ValueOf(&v).Elem(), &n)
	b, err := json.Marshal(toRec(v))
	if err != nil {
		t.Fatal(err)
	}
	got, rec := readRecord(t, b, fromRec)
	if !reflect.DeepEqual(got, v) {
		t.Errorf("round trip lost something:\n got %+v\nwant %+v", got, v)
	}
	return rec
}

// readRecord decodes b as a record R and reads its value.
func readRecord[T, R any](t *testing.T, b []byte, fromRec func(R) (T, error)) (T, R) {
	t.Helper()
	var rec R
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	v, err := fromRec(rec)
	if err != nil {
		t.Fatal(err)
	}
	return v, rec
}

// readGolden reads each file of testdata named in want as a record R and
// expects the value want gives it.
func readGolden[T, R any](t *testing.T, want map[string]T, fromRec func(R) (T, error)) {
	t.Helper()
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := readRecord(t, b, fromRec)
			if !reflect.DeepEqual(got, w) {
				t.Errorf("read\n got %+v\nwant %+v", got, w)
			}
		})
	}
}
