package routers

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the hub's own Prometheus series, per district, beside
// Watermill's router metrics.
type Metrics struct {
	Received  *prometheus.CounterVec // requests accepted for a district (registered)
	Invalid   *prometheus.CounterVec // requests answered invalid
	Delivered *prometheus.CounterVec // appeals handed over to the district
	Failed    *prometheus.CounterVec // permanent delivery failures (flagged)
	Retries   *prometheus.CounterVec // deliveries postponed after a transient failure
	Statuses  *prometheus.CounterVec // status changes reported by districts
	Poisoned  *prometheus.CounterVec // messages sent to the poison queue, by handler
	Relayed   prometheus.Counter     // outbox messages published

	Signatures *prometheus.CounterVec // portal messages whose signature a key verified, by key id

	PollChanges *prometheus.CounterVec // changes read from polled districts
	PollErrors  *prometheus.CounterVec // failed polls
	Reconciled  *prometheus.CounterVec // appeals checked by reconciliation, by outcome
	Credentials *prometheus.CounterVec // calls a district refused for the hub's credentials
	Refused     *prometheus.CounterVec // district reports and changes refused, by field out of bounds

	BreakerState *prometheus.GaugeVec   // 0 closed, 1 half-open, 2 open
	BreakerTrips *prometheus.CounterVec // times a district's breaker opened

	Extended  *prometheus.CounterVec // deadlines extended to 30 working days, by district
	Forwarded *prometheus.CounterVec // appeals forwarded, by the district that forwarded and whether late

	PoisonLetters *prometheus.CounterVec // poisoned messages filed as dead letters, or absorbed by the letter of the same body
	PoisonedBytes *prometheus.CounterVec // bytes of poisoned bodies stored, and left out (cut off or repeated)

	Oversight  *prometheus.CounterVec // oversight events committed, by kind and district
	LastReport *prometheus.GaugeVec   // when each district last reported a change (health_metrics.go)

	LogFailures *prometheus.CounterVec // failed rounds of the transparency log's sequencer and checkpointer
}

// NewMetrics registers the hub's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	district := []string{"district"}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "korpu", Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	m := &Metrics{
		Received:    counter("appeals_received_total", "Requests registered as appeals, by district.", district),
		Invalid:     counter("requests_invalid_total", "Requests answered invalid, by district (empty if unknown).", district),
		Delivered:   counter("appeals_delivered_total", "Appeals handed over to their district's system.", district),
		Failed:      counter("deliveries_failed_total", "Appeals or comments the district refused for good, by district and reason.", []string{"district", "reason"}),
		Retries:     counter("delivery_retries_total", "Deliveries postponed after a transient failure.", district),
		Statuses:    counter("district_status_changes_total", "Status changes reported by districts.", []string{"district", "status"}),
		Poisoned:    counter("poisoned_messages_total", "Messages sent to the poison queue, by handler.", []string{"handler"}),
		PollChanges: counter("poll_changes_total", "State changes read from districts that are polled (ESD).", district),
		PollErrors:  counter("poll_errors_total", "Polls of a district's changes that failed.", district),
		Reconciled:  counter("reconciled_appeals_total", "Appeals checked against the district's state: agreed, corrected (the hub had missed a change) or hub_ahead.", []string{"district", "outcome"}),
		Credentials: counter("district_credential_errors_total", "Calls a district's system refused for the hub's credentials: a configuration error.", district),
		Refused:     counter("district_input_refused_total", "District reports and polled changes refused for a field out of bounds (text too long, control characters, time outside the appeal's span), by field.", []string{"district", "field"}),
		Extended:    counter("deadlines_extended_total", "Appeals whose deadline their district extended to 30 working days after registration.", district),
		Forwarded: counter("forwarded_total",
			"Appeals forwarded to the competent body, by the district that forwarded them; late: more than 3 working days after registration.", []string{"district", "late"}),
		Signatures: counter("portal_signatures_total",
			"Portal messages whose x-signature verified, by the id of the key that matched: a key at zero can be retired.", []string{"key"}),
		Relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "korpu", Name: "outbox_relayed_total", Help: "Outbox messages published to the broker.",
		}),
	}
	m.BreakerState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "korpu", Name: "district_breaker_state",
		Help: "Circuit breaker of each district's system: 0 closed (calls flow), 1 half-open (probing), 2 open (calls stopped).",
	}, district)
	m.BreakerTrips = counter("district_breaker_trips_total", "Times a district's circuit breaker opened.", district)
	m.PoisonLetters = counter("poison_letters_total",
		"Poisoned messages filed as dead letters (filed) or absorbed by the letter of the same body (repeat).", []string{"outcome"})
	m.PoisonedBytes = counter("poisoned_bytes_total",
		"Bytes of poisoned bodies stored in the ledger (stored) and left out: cut off or repeated (discarded).", []string{"outcome"})
	m.Oversight = counter("oversight_events_total",
		"Appeals that crossed into due soon (at most 3 working days left) or overdue, each one event on the oversight queue, by kind and district.",
		[]string{"kind", "district"})
	m.LogFailures = counter("log_failures_total",
		"Failed rounds of the transparency log, by step (sequence, checkpoint) and kind: permanent ones (bad data, a tree that no longer proves its checkpoint) stop the log until mended.",
		[]string{"step", "kind"})
	m.LastReport = newLastReport(reg)
	reg.MustRegister(m.Relayed, m.BreakerState)
	return m
}
