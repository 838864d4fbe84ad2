package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/store"
)

var _ attachments.Holders = (*store.DB)(nil)

// fileSweeper removes, every attachments.sweep_every, the files no
// message holds past their grace (attachments.Store.Sweep). Only the
// leading node builds one (serve starts the daemon's components once it
// holds the lease), so the nodes sharing attachments.dir never sweep it
// together. It logs counts, never a file's name or content.
type fileSweeper struct {
	files *attachments.Store
	every time.Duration
	log   *slog.Logger

	mu sync.Mutex
	// The totals since start, for the metrics; guarded by mu.
	removed, removedBytes, failures uint64
}

func newFileSweeper(files *attachments.Store, every time.Duration, log *slog.Logger) *fileSweeper {
	return &fileSweeper{files: files, every: every, log: log}
}

// start sweeps every interval, the first an interval from now, until
// stop, which waits for a sweep in progress.
func (w *fileSweeper) start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	t := time.NewTicker(w.every)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx, t.C)
	}()
	return func() {
		cancel()
		t.Stop()
		<-done
	}
}

// run sweeps at each time ticks delivers, until ctx ends.
func (w *fileSweeper) run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticks:
			w.sweep(ctx, now)
		}
	}
}

// sweep runs one sweep as at now, logs what it did and counts it.
func (w *fileSweeper) sweep(ctx context.Context, now time.Time) (attachments.SweepResult, error) {
	started := time.Now()
	res, err := w.files.Sweep(ctx, now)
	w.mu.Lock()
	w.removed += uint64(res.Removed + res.Partial)
	w.removedBytes += uint64(res.RemovedBytes)
	if err != nil && ctx.Err() == nil { // not a shutdown's
		w.failures++
	}
	w.mu.Unlock()
	attrs := []any{"files", res.Files, "young", res.Young, "held", res.Held, "removed", res.Removed,
		"removed_bytes", res.RemovedBytes, "partial_uploads", res.Partial, "took", time.Since(started).Round(time.Millisecond)}
	switch {
	case err != nil && ctx.Err() == nil:
		w.log.Error("attachments: sweep failed; the next one goes on", append(attrs, "err", err)...)
	case err != nil:
	case res.Removed+res.Partial > 0:
		w.log.Info("attachments: swept files no message names", attrs...)
	default:
		w.log.Debug("attachments: swept", attrs...)
	}
	return res, err
}

// Describe and Collect export the sweeper's totals (docs/metrics.md).
func (w *fileSweeper) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range sweepDescs {
		ch <- d
	}
}

func (w *fileSweeper) Collect(ch chan<- prometheus.Metric) {
	w.mu.Lock()
	values := []uint64{w.removed, w.removedBytes, w.failures}
	w.mu.Unlock()
	for i, d := range sweepDescs {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(values[i]))
	}
}

// sweepDescs are the sweeper's metrics, in the order Collect gives them.
var sweepDescs = []*prometheus.Desc{
	prometheus.NewDesc("switchboard_attachments_swept_files_total",
		"Files the attachment sweeper removed since routerd started leading: uploads no message named within attachments.sweep_after, and interrupted uploads.", nil, nil),
	prometheus.NewDesc("switchboard_attachments_swept_bytes_total",
		"Bytes of the files the attachment sweeper removed since routerd started leading.", nil, nil),
	prometheus.NewDesc("switchboard_attachments_sweep_failures_total",
		"Sweeps that stopped on an error (logged); the next one starts over.", nil, nil),
}
