package outbox

import (
	"context"
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

// Receipt records what a channel's receipts say of a contact's outbound
// messages: those up to deliveredSeq were delivered, those up to readSeq
// read (0: nothing new). Each message whose delivery is behind becomes
// delivered or read, and its agent is told (router.NoteDelivery). It
// never blocks: the work is done on a goroutine of the dispatcher. A
// status only rises, so receipts may apply in any order.
func (d *Dispatcher) Receipt(contactID string, deliveredSeq, readSeq int) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		d.receiptMu.Lock() // one at a time: two never race on a message
		defer d.receiptMu.Unlock()
		d.applyReceipt(d.ctx, contactID, router.DeliveryDelivered, deliveredSeq)
		d.applyReceipt(d.ctx, contactID, router.DeliveryRead, readSeq)
	}()
}

// applyReceipt raises the outbound messages of contactID up to upTo to
// status.
// Each receipt reads only the messages after the last it raised to
// status: a chat's receipts come with every message read, and reading
// the conversation from its start each time grew with it.
func (d *Dispatcher) applyReceipt(ctx context.Context, contactID string, status router.DeliveryStatus, upTo int) {
	key := receiptKey{contactID, status}
	after := d.applied[key]
	if after >= upTo {
		return
	}
	defer func() {
		if after < upTo {
			return // stopped on an error: the next receipt reads again
		}
		if d.applied == nil || len(d.applied) >= maxApplied {
			d.applied = map[receiptKey]int{}
		}
		d.applied[key] = upTo
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
