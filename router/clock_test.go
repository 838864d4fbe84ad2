package router

import (
	"testing"
	"time"
)

func TestManualClockNext(t *testing.T) {
	clk := NewManualClock(epoch)
	if at, ok := clk.Next(); ok {
		t.Fatalf("got next %v on a clock with no timer, want none", at)
	}
	var fired []string
	late := clk.AfterFunc(3*time.Second, func() { fired = append(fired, "late") })
	clk.AfterFunc(2*time.Second, func() { fired = append(fired, "early") })
	stopped := clk.AfterFunc(time.Second, func() { fired = append(fired, "stopped") })
	stopped.Stop()
	if at, ok := clk.Next(); !ok || !at.Equal(epoch.Add(2*time.Second)) {
		t.Fatalf("got next %v, %v; want %v (the stopped timer skipped)", at, ok, epoch.Add(2*time.Second))
	}
	clk.Advance(2 * time.Second)
	if at, ok := clk.Next(); !ok || !at.Equal(epoch.Add(3*time.Second)) {
		t.Fatalf("after the first fired: got next %v, %v; want %v", at, ok, epoch.Add(3*time.Second))
	}
	late.Stop()
	if at, ok := clk.Next(); ok {
		t.Fatalf("got next %v after every timer fired or stopped, want none", at)
	}
	if len(fired) != 1 || fired[0] != "early" {
		t.Errorf("got fired %v, want [early]", fired)
	}
}
