// Package customers resolves the identities contacts arrive with (an
// email address, a phone number, a chat token, a CRM id) to customer
// profiles, creating profiles for unknown identities and merging two
// profiles, with an audit record, when a verified identity proves they are
// one person.
//
//	email, err := customers.NormalizeEmail(" Ada@Example.com ")
//	id, created, err := customers.Resolve(ctx, db, customers.Identity{Kind: customers.KindEmail, Value: email, Verified: true}, "Ada")
//	into, merged, err := customers.Attach(ctx, db, id, customers.Identity{Kind: customers.KindPhone, Value: "+15551234567", Verified: true})
//
// A verified identity is one a channel proved (an SMS from the number, an
// email from the address); a claimed one was only typed into a form. A
// claim never merges. The functions are safe for concurrent use if the
// Store is.
package customers
