package outbox

import (
	"context"
	"slices"
	"time"

	"github.com/switchboard/switchboard/router"
)

// receiptLimit is how many messages one receipt reads at a time.
const receiptLimit = 100

// maxApplied bounds Dispatcher.applied: past it, it starts again empty
// (a receipt then reads its conversation from the start once more).
const maxApplied = 10000

// receiptKey is a contact's status in Dispatcher.applied.
type receiptKey struct {
	contactID string
	status    router.DeliveryStatus
}

// receiptWorkers is how many contacts' receipts apply at once: each
// raise is a router command that waits for its commit, and several at
// once share a commit.
const receiptWorkers = 4

// marks are the receipts of a contact not yet applied: the highest of
// each (a status only rises).
type marks struct{ delivered, read int }

// Receipt records what a channel's receipts say of a contact's outbound
// messages: those up to deliveredSeq were delivered, those up to readSeq
// read (0: nothing new). Each message whose delivery is behind becomes
// delivered or read, and its agent is told (router.NoteDelivery). It
// never blocks: the work is done by at most receiptWorkers goroutines of
// the dispatcher, and the receipts of a contact that wait are merged
// into one (the highest marks), so that a burst of receipts costs
// memory per contact, not a goroutine per receipt. A status only rises,
// so receipts may apply in any order; one contact's apply one at a time.
func (d *Dispatcher) Receipt(contactID string, deliveredSeq, readSeq int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if d.receipts == nil {
		d.receipts = map[string]marks{}
		d.applying = map[string]bool{}
	}
	m, waiting := d.receipts[contactID]
	d.receipts[contactID] = marks{max(m.delivered, deliveredSeq), max(m.read, readSeq)}
	if !waiting {
		d.receiptOrder = append(d.receiptOrder, contactID)
	}
	if d.receiptWorkers < receiptWorkers {
		d.receiptWorkers++
		d.wg.Add(1)
		go d.receiptWorker()
	}
}

// receiptWorker applies waiting receipts, a contact at a time, until
// none is left that another worker is not applying.
func (d *Dispatcher) receiptWorker() {
	defer d.wg.Done()
	for {
		contactID, m, ok := d.nextReceipt()
		if !ok {
			return
		}
		d.applyReceipt(d.ctx, contactID, router.DeliveryDelivered, m.delivered)
		d.applyReceipt(d.ctx, contactID, router.DeliveryRead, m.read)
		d.mu.Lock()
		delete(d.applying, contactID)
		d.mu.Unlock()
	}
}

// nextReceipt takes the first contact waiting that no worker applies,
// with its marks; ok is false when there is none, and the worker ends.
func (d *Dispatcher) nextReceipt() (contactID string, m marks, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, id := range d.receiptOrder {
		if d.applying[id] {
			continue // its next marks wait for the worker applying it
		}
		d.receiptOrder = slices.Delete(d.receiptOrder, i, i+1)
		m = d.receipts[id]
		delete(d.receipts, id)
		d.applying[id] = true
		return id, m, true
	}
	d.receiptWorkers--
	return "", marks{}, false
}

// applyReceipt raises the outbound messages of contactID up to upTo to
// status.
// Each receipt reads only the messages after the last it raised to
// status: a chat's receipts come with every message read, and reading
// the conversation from its start each time grew with it.
func (d *Dispatcher) applyReceipt(ctx context.Context, contactID string, status router.DeliveryStatus, upTo int) {
	key := receiptKey{contactID, status}
	d.appliedMu.Lock()
	after := d.applied[key]
	d.appliedMu.Unlock()
	if after >= upTo {
		return
	}
	defer func() {
		if after < upTo {
			return // stopped on an error: the next receipt reads again
		}
		d.appliedMu.Lock()
		defer d.appliedMu.Unlock()
		if d.applied == nil || len(d.applied) >= maxApplied {
			d.applied = map[receiptKey]int{}
		}
		d.applied[key] = max(d.applied[key], upTo)
	}()
	for after < upTo {
		msgs, err := d.o.Store.Messages(ctx, contactID, after, receiptLimit)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("outbox: receipt: read messages", "contact", contactID, "err", err)
			}
			return
		}
		for _, m := range msgs {
			if m.Seq > upTo {
				after = upTo
				return
			}
			if m.Direction != "out" || m.Delivery == nil || !m.Delivery.Status.Advances(status) {
				continue
			}
			dl := &router.Delivery{Status: status, Attempts: m.Delivery.Attempts, At: time.Now()}
			if err := d.o.Router.RecordDelivery(ctx, router.OutboxEntry{ContactID: contactID, Seq: m.Seq}, dl); err != nil {
				if ctx.Err() == nil {
					d.log.Warn("outbox: receipt: record", "contact", contactID, "seq", m.Seq, "err", err)
				}
				return
			}
		}
		if len(msgs) < receiptLimit {
			after = upTo // no message past the last one read
			return
		}
		after = msgs[len(msgs)-1].Seq
	}
}
