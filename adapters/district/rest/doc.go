// Package rest is the client of the modern district systems (contract §4): it
// hands appeals and citizens' comments over to a district's REST API and sorts
// every failure into a routers.TransientError (retry later) or a
// routers.PermanentError (retrying cannot help).
//
// The client never retries by itself: the hub's delivery flow schedules the
// next attempt, so a slow district never holds a message handler. Every call
// carries an Idempotency-Key, which makes those retries safe.
package rest
