package customers

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/store"
)

// Profile is a customer with the identities they hold, as Synthetic
// makes them and store.DB.PutCustomer takes them.
type Profile struct {
	Customer   store.Customer
	Identities []store.Identity
}

// AdaID is the id of Synthetic's first customer, Ada Lovelace
// (ada@example.com, premium, value 12000, consenting, no savings
// account, relationship manager alice), whom the README's quick start
// uses.
const AdaID = "cu-ada-lovelace"

// Vocabulary of the synthetic profiles: the products and tags that the
// demo offers (offers.Demo) look at.
var (
	syntheticProducts = []string{"current_account", "credit_card", "savings", "mortgage", "home_insurance", "broadband", "fiber", "mobile"}
	syntheticTags     = []string{"traveller", "paper_statements", "student", "small_business"}
	firstNames        = []string{"Alan", "Grace", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "Dennis", "Radia", "Linus", "Hedy", "Tim", "Katherine", "John", "Sophie", "Niklaus", "Adele", "Claude", "Joan"}
	lastNames         = []string{"Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen", "Ritchie", "Perlman", "Torvalds", "Lamarr", "Berners-Lee", "Johnson", "McCarthy", "Wilson", "Wirth", "Goldberg", "Shannon", "Clarke"}
	languages         = []string{"en", "en", "en", "fr", "de", "es"}
)

// Synthetic returns n realistic customer profiles for demos and
// benchmarks, the same for the same seed: names, emails at example.com
// and E.164 phones (both verified), segments standard, premium and
// private, lifetime values that grow with the segment, products and tags
// from the demo offers' vocabulary, and consent mostly given. The first
// is always Ada Lovelace (AdaID); n < 1 gives none.
func Synthetic(n int, seed uint64) []Profile {
	if n < 1 {
		return nil
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	yes := true
	out := make([]Profile, 0, n)
	out = append(out, Profile{
		Customer: store.Customer{
			ID: AdaID, Name: "Ada Lovelace", Segment: "premium", Value: 12000, Language: "en",
			Consent: consent.Flags{Marketing: &yes, Profiling: &yes}, RelationshipManager: "alice",
			Products: []string{"current_account", "credit_card", "mortgage"}, Tags: []string{"traveller"},
			CreatedAt: at, UpdatedAt: at,
		},
		Identities: []store.Identity{
			{Kind: store.IdentityEmail, Value: "ada@example.com", Verified: true, CreatedAt: at},
			{Kind: store.IdentityPhone, Value: "+15551234567", Verified: true, CreatedAt: at},
		},
	})
	rng := rand.New(rand.NewPCG(seed, 0x5b0a4d))
	for i := 1; i < n; i++ {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		var segment string
		var value float64
		switch r := rng.Float64(); {
		case r < 0.70:
			segment, value = "standard", float64(50+rng.IntN(1500))
		case r < 0.95:
			segment, value = "premium", float64(1500+rng.IntN(15000))
		default:
			segment, value = "private", float64(20000+rng.IntN(200000))
		}
		var products, tags []string
		for _, p := range syntheticProducts {
			if rng.Float64() < 0.35 {
				products = append(products, p)
			}
		}
		for _, t := range syntheticTags {
			if rng.Float64() < 0.2 {
				tags = append(tags, t)
			}
		}
		marketing, profiling := rng.Float64() < 0.85, rng.Float64() < 0.9
		created := at.Add(-time.Duration(rng.IntN(5*365*24)) * time.Hour)
		email := fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), strings.ToLower(strings.ReplaceAll(last, "-", "")), i)
		// Above Ada's +15551234567 for fewer than 8 million customers.
		phone := fmt.Sprintf("+1555%07d", 2000000+i%8000000)
		out = append(out, Profile{
			Customer: store.Customer{
				ID: fmt.Sprintf("cu-synth-%06d", i), Name: first + " " + last, Segment: segment, Value: value,
				Language: languages[rng.IntN(len(languages))], Consent: consent.Flags{Marketing: &marketing, Profiling: &profiling},
				Products: products, Tags: tags, CreatedAt: created, UpdatedAt: at,
			},
			Identities: []store.Identity{
				{Kind: store.IdentityEmail, Value: email, Verified: true, CreatedAt: created},
				{Kind: store.IdentityPhone, Value: phone, Verified: true, CreatedAt: created},
			},
		})
	}
	return out
}
