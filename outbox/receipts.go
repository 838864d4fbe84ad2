package outbox

import (
	"context"
	"time"

	"github.com/switchboard/switchboard/router"
)

// receiptLimit is how many messages one receipt reads at a time.
const receiptLimit = 100

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
func (d *Dispatcher) applyReceipt(ctx context.Context, contactID string, status router.DeliveryStatus, upTo int) {
	for after := 0; after < upTo; {
		msgs, err := d.o.Store.Messages(ctx, contactID, after, receiptLimit)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("outbox: receipt: read messages", "contact", contactID, "err", err)
			}
			return
		}
		for _, m := range msgs {
			if m.Seq > upTo {
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
			return
		}
		after = msgs[len(msgs)-1].Seq
	}
}
