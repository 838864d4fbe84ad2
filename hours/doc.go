// Package hours holds business hours: a Calendar of weekly opening spans
// in a time zone, with holidays that close a date or give it its own
// spans. A queue's calendar says whether the queue is open and when it
// opens next, for the chat's pre-chat form and the acknowledgements of
// the channels that answer later ("closed until Monday 09:00").
//
//	paris, _ := time.LoadLocation("Europe/Paris")
//	nine, _ := hours.ParseSpan("09:00-17:30")
//	christmas, _ := hours.ParseDate("12-25") // every year
//	c := &hours.Calendar{Location: paris, Holidays: []hours.Holiday{{Date: christmas}}}
//	c.Week[time.Monday] = []hours.Span{nine}
//	if err := c.Validate(); err != nil { ... }
//	if !c.Open(now) {
//		next, ok := c.NextOpen(now) // ok is false if c never opens
//		fmt.Println(c.Status(now))  // "closed until Monday 09:00"
//	}
//
// Spans are local wall-clock times: a span "09:00-17:30" is open while
// the clock on the wall of the calendar's time zone shows 09:00 to 17:29,
// on the day of a daylight saving change too. A span ends at or before
// 24:00 of its day; a night shift is two spans ("22:00-24:00" on one day,
// "00:00-06:00" on the next), which join. A nil *Calendar is always open.
// A Calendar is safe for concurrent use once built; nothing changes it.
package hours
