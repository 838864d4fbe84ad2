package offers

import "time"

// Demo returns realistic bank and telco offers for the demo config and
// tests. Every call returns fresh slices.
func Demo() []Offer {
	const day = 24 * time.Hour
	return []Offer{
		{
			ID: "savings", Title: "High-yield savings account",
			TalkingPoints: []string{"3.1 % on every balance", "No fees, instant access"},
			Value:         120, Channels: []string{"chat", "email", "api"},
			Eligible: `customer.segment in ["premium", "gold"] && "savings" not in customer.products`,
			Why:      "no savings account", Cooldown: 30 * day, CapPerContact: 1,
		},
		{
			ID: "card-upgrade", Title: "Platinum card upgrade",
			TalkingPoints: []string{"Airport lounges", "2 % cashback on travel"},
			Value:         200,
			Eligible:      `"credit_card" in customer.products && customer.value >= 1000`,
			Why:           "card holder, high value", Cooldown: 60 * day, CapPerContact: 1,
		},
		{
			ID: "home-insurance", Title: "Home insurance with your mortgage",
			TalkingPoints: []string{"10 % off for mortgage holders"},
			Value:         150,
			Eligible:      `"mortgage" in customer.products && "home_insurance" not in customer.products`,
			Why:           "mortgage without home insurance", Cooldown: 90 * day, CapPerContact: 1,
		},
		{
			ID: "fiber", Title: "Fiber broadband upgrade",
			TalkingPoints: []string{"1 Gbit/s for 5 more a month", "Free installation"},
			Value:         90, Channels: []string{"chat", "sms", "email"},
			Eligible: `"broadband" in customer.products && "fiber" not in customer.products && contact.queue != "cancellations"`,
			Why:      "still on copper", Cooldown: 30 * day, CapPerContact: 1,
		},
		{
			ID: "roaming", Title: "Travel roaming pass",
			TalkingPoints: []string{"Data in 40 countries", "One price per day abroad"},
			Value:         25,
			Eligible:      `"mobile" in customer.products && "traveller" in customer.tags`,
			Why:           "travels often", Cooldown: 14 * day, CapPerContact: 1,
		},
		{
			ID: "paperless", Title: "Paperless statements",
			TalkingPoints: []string{"Statements in the app", "Helps the planet"},
			Value:         5, Channels: []string{"chat", "email"},
			Eligible: `"paper_statements" in customer.tags`,
			Why:      "gets paper statements", Cooldown: 7 * day,
		},
	}
}
