package router

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// crockford is Crockford's base-32 alphabet: no I, L, O, U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a 26-character id that sorts by creation time to the
// millisecond (48 bits of time, 80 random bits), like a ULID.
func NewID(now time.Time) string {
	var g idGen
	return g.next(now)
}

// idGen makes ids that also sort in creation order within a millisecond:
// the random part of the previous id is incremented. Not safe for
// concurrent use; the router's writer owns one.
type idGen struct {
	ms     uint64
	hi, lo uint64 // the 80 random bits: 16 in hi, 64 in lo
}

func (g *idGen) next(now time.Time) string {
	ms := uint64(now.UnixMilli())
	if ms == g.ms && g.ms != 0 {
		g.lo++
		if g.lo == 0 {
			g.hi = (g.hi + 1) & 0xffff
		}
	} else {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic("router: no randomness: " + err.Error())
		}
		g.ms = ms
		g.hi = uint64(binary.BigEndian.Uint16(b[:2]))
		// Leave headroom so increments within a millisecond do not wrap.
		g.lo = binary.BigEndian.Uint64(b[2:]) >> 1
	}
	hi := ms<<16 | g.hi
	lo := g.lo
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
