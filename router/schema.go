package router

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/go-memdb"
)

// Table and index names of the in-memory state.
const (
	tableAgents     = "agents"
	tableRoutes     = "routes"
	tableContacts   = "contacts"
	tableQueues     = "queues"
	tableKeys       = "keys"
	tableClientMsgs = "client_messages"
	tableExternal   = "external_messages"
	tableMeta       = "meta"

	indexID = "id"
	// indexRoute orders agents for routing; see agentRouteIndex.
	indexRoute = "route"
	// indexWaiting orders queued contacts; see contactWaitingIndex.
	indexWaiting = "waiting"
)

// anyBucket is the skill name of the routing bucket that holds every agent
// and every contact without requirements.
const anyBucket = ""

func schema() *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableAgents:     agentsTableSchema(),
		tableRoutes:     routesTableSchema(),
		tableContacts:   contactsTableSchema(),
		tableQueues:     queuesTableSchema(),
		tableKeys:       keysTableSchema(),
		tableClientMsgs: clientMessagesTableSchema(),
		tableExternal:   externalMessagesTableSchema(),
		tableMeta:       metaTableSchema(),
	}}
}

// agentsTableSchema holds every agent, keyed by id only: an agent changes
// on every offer, accept and close, and each index key is a radix-tree
// path copied on every change. What routing orders by lives in routes.
func agentsTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableAgents,
		Indexes: map[string]*memdb.IndexSchema{
			// indexID: Agent(id), PutAgent, every command naming an agent,
			// and the matcher for each route it visits.
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
		},
	}
}

// route is an agent's place in the routing order. It is rewritten only
// when its keys change (skills, idle time, or whether the agent can take
// anything at all), not on every offer: a decision that leaves the agent
// with free capacity writes the agent row alone.
type route struct {
	ID string
	// Skills is the agent's skill map, shared and never modified.
	Skills    map[string]int
	SkillsRev uint64
	// Mask has bit skillBit(s) set for each skill s: a superset test that
	// rejects most candidates without map lookups.
	Mask      uint64
	IdleSince time.Time
	// Class is 0 for an agent available with free capacity, 1 otherwise.
	Class byte
}

// routesTableSchema holds one route per agent.
func routesTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableRoutes,
		Indexes: map[string]*memdb.IndexSchema{
			// indexID: putAgent compares an agent's route with the stored one.
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
			// indexRoute: the contact-side match walks one skill's bucket,
			// agents with free capacity first, longest idle first.
			indexRoute: {Name: indexRoute, Indexer: agentRouteIndex{}},
		},
	}
}

// contactsTableSchema holds the contacts not yet closed or abandoned.
func contactsTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableContacts,
		Indexes: map[string]*memdb.IndexSchema{
			// indexID: Contact(id), every command naming a contact.
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
			// indexWaiting: the agent-side match merges the buckets of the
			// agent's skills, highest rank then oldest first; dashboards
			// count the waiting contacts.
			indexWaiting: {Name: indexWaiting, AllowMissing: true, Indexer: contactWaitingIndex{}},
		},
	}
}

// queuesTableSchema holds the queues by name.
func queuesTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableQueues,
		Indexes: map[string]*memdb.IndexSchema{
			// indexID: Queue(name), Submit, PutQueue.
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}},
		},
	}
}

// idemKey remembers a client's idempotency key after its contact has
// ended, so that a late retry finds the first contact in memory.
type idemKey struct {
	Key       string
	ContactID string
	Hash      string
	Expires   time.Time
	// Batch is the batch that stores it: it is forgotten only once that
	// batch is committed.
	Batch uint64
}

// keyTTL is how long the router remembers an idempotency key and a
// message's external id. Submit and AddMessage ask the store first; the
// memory only catches a copy that asked the store before the first was
// committed, a window of one commit. An entry is forgotten ten minutes
// after it was stored, and never before its batch is committed (a
// commit that takes longer keeps it), which bounds what the memory holds
// to ten minutes of traffic: kept for a day,
// the messages with their bodies grew the heap by about 2 KiB per
// contact (the soak found it). After a restart the memory starts empty:
// the store answers.
const keyTTL = 10 * time.Minute

// keysTableSchema holds idempotency keys for keyTTL.
func keysTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableKeys,
		Indexes: map[string]*memdb.IndexSchema{
			// indexID: Submit deduplicates client retries.
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Key"}},
		},
	}
}

// meta holds what the router knows about its own state: the number of
// the last batch applied (metaBatch), which a snapshot carries.
type meta struct {
	ID  string
	Seq uint64
}

// metaBatch is the meta row of the last batch applied.
const metaBatch = "batch"

// metaTableSchema holds the meta rows.
func metaTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableMeta,
		Indexes: map[string]*memdb.IndexSchema{
			// indexID: Snapshot.Seq.
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
		},
	}
}

// externalMsg is a message with a channel's external id, kept for keyTTL
// after it was stored: a copy that looked in the store before the first
// was committed is caught here (Submit, AddMessage).
type externalMsg struct {
	// Key is the external id.
	Key     string
	Message Message
	Expires time.Time
	// Batch is the batch that stores it: it is forgotten only once that
	// batch is committed.
	Batch uint64
}

// externalMessagesTableSchema holds the recent messages with an
// external id.
func externalMessagesTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableExternal,
		Indexes: map[string]*memdb.IndexSchema{
			// indexID: Submit and AddMessage deduplicate a channel's
			// deliveries.
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Key"}},
		},
	}
}

// clientMsg is a message a client numbered, kept while its contact lives
// so that a resend returns the first copy.
type clientMsg struct {
	// Key is contact id, 0x00, client id.
	Key     string
	Message Message
}

func clientMsgKey(contactID, clientID string) string { return contactID + "\x00" + clientID }

// clientMessagesTableSchema holds the client-numbered messages of live
// contacts.
func clientMessagesTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableClientMsgs,
		Indexes: map[string]*memdb.IndexSchema{
			// indexID: AddMessage deduplicates resends; a contact's end
			// deletes its prefix.
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Key"}},
		},
	}
}

// agentRouteIndex gives a route one key per skill and one in anyBucket:
//
//	skill 0x00 | class (0 routable, 1 not) | idle-since (8 bytes) | id
//
// A prefix walk of skill 0x00 0x00 visits the agents having that skill
// who are available with free capacity, longest idle first; the agents
// who cannot take anything now follow, so a decision's reason can name
// them. One key per skill, not per skill level: levels, the channel's
// capacity and a ringing offer are checked on the agent.
type agentRouteIndex struct{}

func (agentRouteIndex) FromObject(raw any) (bool, [][]byte, error) {
	rt, ok := raw.(*route)
	if !ok {
		return false, nil, fmt.Errorf("router: route index: %T is not *route", raw)
	}
	keys := make([][]byte, 0, len(rt.Skills)+1)
	keys = append(keys, routeKey(anyBucket, rt.Class, rt.IdleSince))
	for s := range rt.Skills {
		keys = append(keys, routeKey(s, rt.Class, rt.IdleSince))
	}
	return true, keys, nil
}

// FromArgs takes a skill and, optionally, a class byte.
func (agentRouteIndex) FromArgs(args ...any) ([]byte, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("router: route index: want skill [, class], got %d args", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("router: route index: skill %T is not a string", args[0])
	}
	k := append([]byte(s), 0)
	if len(args) == 2 {
		c, ok := args[1].(byte)
		if !ok {
			return nil, fmt.Errorf("router: route index: class %T is not a byte", args[1])
		}
		k = append(k, c)
	}
	return k, nil
}

func routeKey(skill string, class byte, idle time.Time) []byte {
	k := make([]byte, 0, len(skill)+10+16)
	k = append(k, skill...)
	k = append(k, 0, class)
	return binary.BigEndian.AppendUint64(k, timeKey(idle))
}

// contactWaitingIndex gives a queued contact one key:
//
//	bucket 0x00 | 2^31 - rank (4 bytes) | enqueued-at (8 bytes) | id
//
// where bucket is the skill of its most selective effective requirement
// (anyBucket without requirements). Contacts in other states have none.
type contactWaitingIndex struct{}

func (contactWaitingIndex) FromObject(raw any) (bool, []byte, error) {
	c, ok := raw.(*Contact)
	if !ok {
		return false, nil, fmt.Errorf("router: waiting index: %T is not *Contact", raw)
	}
	if c.State != ContactQueued {
		return false, nil, nil
	}
	b := bucketOf(c.Effective)
	k := make([]byte, 0, len(b)+13+28)
	k = append(k, b...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint32(k, rankKey(c.Rank))
	return true, binary.BigEndian.AppendUint64(k, timeKey(c.EnqueuedAt)), nil
}

// FromArgs takes a bucket name.
func (ix contactWaitingIndex) FromArgs(args ...any) ([]byte, error) {
	k, err := ix.PrefixFromArgs(args...)
	if err != nil {
		return nil, err
	}
	return append(k, 0), nil
}

// PrefixFromArgs takes a prefix of a bucket's name: "" is every bucket
// (Snapshot.Queued).
func (contactWaitingIndex) PrefixFromArgs(args ...any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("router: waiting index: want a bucket (or a prefix of one), got %d args", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("router: waiting index: bucket %T is not a string", args[0])
	}
	return []byte(s), nil
}

// skillBit maps a skill name to one of 64 bits (FNV-1a).
func skillBit(s string) uint64 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return 1 << (h % 64)
}

// skillMask is the bitmap of a skill map.
func skillMask(skills map[string]int) uint64 {
	var m uint64
	for s := range skills {
		m |= skillBit(s)
	}
	return m
}

// needMask is the bitmap of the skills requirements name.
func needMask(reqs []Requirement) uint64 {
	var m uint64
	for _, r := range reqs {
		m |= skillBit(r.Skill)
	}
	return m
}

// bucketOf names the routing bucket for requirements: the skill with the
// highest minimum (most selective), ties broken by name.
func bucketOf(reqs []Requirement) string {
	best := -1
	for i, r := range reqs {
		if best < 0 || r.Min > reqs[best].Min || (r.Min == reqs[best].Min && r.Skill < reqs[best].Skill) {
			best = i
		}
	}
	if best < 0 {
		return anyBucket
	}
	return reqs[best].Skill
}

// rankKey orders higher ranks first.
func rankKey(rank int) uint32 {
	v := int64(math.MaxInt32) - int64(rank)
	if v < 0 {
		return 0
	}
	if v > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(v)
}

// timeKey orders times; the zero time sorts first.
func timeKey(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()) ^ (1 << 63)
}
