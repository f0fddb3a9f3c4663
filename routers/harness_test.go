package routers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
	"github.com/korpu-az/korpu/routers/ledgertest"
	"github.com/korpu-az/korpu/routers/tlog"
	"github.com/korpu-az/korpu/schemas"
)

// waitFor bounds every poll of the harness; the flows take milliseconds.
const waitFor = 5 * time.Second

var (
	signingKey = []byte("test-portal-key")
	topics     = routers.Topics{
		Requests: "requests", Status: "status", Poison: "poison", DistrictQueuePrefix: "district.", Oversight: "oversight", Checkpoints: "checkpoints",
	}
)

// For a harness started at arrival: the number of the first appeal, the
// fake district's reference of it, and when its comments are written.
var (
	firstNumber = appealNumber(arrival, 1)
	firstRef    = "REF-" + firstNumber
	commentAt   = arrival.Add(-10 * time.Minute).Format(time.RFC3339)
)

// testCalendar is the embedded calendar with an operator's file for 2031
// (testdata/holidays-2031.json), so the flows also run years ahead.
var testCalendar = sync.OnceValue(func() *calendar.Calendar {
	extra, err := os.ReadFile("testdata/holidays-2031.json")
	if err != nil {
		panic(err)
	}
	c, err := calendar.Load(schemas.Holidays, extra)
	if err != nil {
		panic(err)
	}
	return c
})

// hubValidator serves AZ-BIL (everything; BIL-01 receives 2 citizens on
// Tuesdays) and AZ-SAT (a few services).
func hubValidator() *routers.Validator {
	return &routers.Validator{
		Catalogue: catalogue.Default(),
		Calendar:  testCalendar(),
		Directory: routers.Directory{Districts: map[string]routers.DistrictInfo{
			"AZ-BIL": {Code: "AZ-BIL", AllServices: true, Officials: map[string]routers.Official{
				"BIL-01": {ID: "BIL-01", Name: "Əliyev Rauf Kamal oğlu", Position: "İcra hakimiyyətinin başçısı", Sessions: []routers.Session{{Weekday: time.Tuesday, From: "10:00", To: "13:00", Capacity: 2}}},
			}},
			"AZ-SAT": {Code: "AZ-SAT", Services: map[string]bool{"appeal": true, "family-composition-certificate": true}},
		}},
	}
}

// clock is the hub's (and its ledger's) one clock: it starts at the
// harness's start and runs at real speed, so retry times computed from it
// fall due as the test runs; moveTo jumps it ahead, across days.
type clock struct {
	base  time.Time
	start time.Time
	jump  *atomic.Int64 // nanoseconds moveTo added
}

func (c clock) Now() time.Time { return c.at(time.Now()) }

// at is the hub's time at the real instant t.
func (c clock) at(t time.Time) time.Time {
	return c.base.Add(t.Sub(c.start) + time.Duration(c.jump.Load()))
}

// moveTo sets the clock ahead to t, from where it runs on.
func (c clock) moveTo(t time.Time) { c.jump.Add(int64(t.Sub(c.Now()))) }

// fakeRegistry answers {"fin": …} for every FİN, unless told to fail for
// one. Like registry.Client it tells OnRecovery's function when it answers
// after a transient failure.
type fakeRegistry struct {
	mu        sync.Mutex
	fail      map[string]error
	calls     map[string]int
	callTimes map[string][]time.Time
	failing   bool
	recovered func()
	records   map[string]json.RawMessage // answers other than {"fin": …}
}

func (r *fakeRegistry) OnRecovery(fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recovered = fn
}

// setRecord makes the registry answer record for fin.
func (r *fakeRegistry) setRecord(fin string, record json.RawMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.records == nil {
		r.records = map[string]json.RawMessage{}
	}
	r.records[fin] = record
}

func (r *fakeRegistry) set(fin string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail[fin] = err
}

func (r *fakeRegistry) Person(_ context.Context, fin string) (json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[fin]++
	r.callTimes[fin] = append(r.callTimes[fin], time.Now())
	err := r.fail[fin]
	var transient *routers.TransientError
	switch {
	case errors.As(err, &transient):
		r.failing = true
	case err == nil || errors.Is(err, routers.ErrPersonNotFound):
		if r.failing && r.recovered != nil {
			r.recovered()
		}
		r.failing = false
	}
	if err != nil {
		return nil, err
	}
	if record, ok := r.records[fin]; ok {
		return record, nil
	}
	return json.RawMessage(fmt.Sprintf(`{"fin": %q}`, fin)), nil
}

func (r *fakeRegistry) callsFor(fin string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[fin]
}

// callTimesOf returns when fin was looked up, in order.
func (r *fakeRegistry) callTimesOf(fin string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.callTimes[fin]...)
}

// submitCall is one call of fakeDistrict.Submit and when it came.
type submitCall struct {
	at time.Time
	s  routers.Submission
}

// fakeDistrict accepts everything with the reference "REF-<number>", except
// for the errors queued with plan (one per call, in order) and whatever its
// hook returns.
type fakeDistrict struct {
	mu       sync.Mutex
	planned  []error
	hook     func(ctx context.Context) error
	submits  []submitCall
	comments []routers.CommentSubmission
}

func (d *fakeDistrict) plan(errs ...error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.planned = append(d.planned, errs...)
}

func (d *fakeDistrict) setHook(hook func(ctx context.Context) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hook = hook
}

func (d *fakeDistrict) Submit(ctx context.Context, s routers.Submission) (string, error) {
	d.mu.Lock()
	d.submits = append(d.submits, submitCall{at: time.Now(), s: s})
	hook := d.hook
	var planned error
	if len(d.planned) > 0 {
		planned, d.planned = d.planned[0], d.planned[1:]
	}
	d.mu.Unlock()
	if planned != nil {
		return "", planned
	}
	if hook != nil {
		if err := hook(ctx); err != nil {
			return "", err
		}
	}
	return "REF-" + s.AppealNumber, nil
}

func (d *fakeDistrict) Comment(_ context.Context, c routers.CommentSubmission) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.comments = append(d.comments, c)
	return nil
}

// submitsOf returns the calls of Submit for one appeal.
func (d *fakeDistrict) submitsOf(number string) []submitCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []submitCall
	for _, c := range d.submits {
		if c.s.AppealNumber == number {
			out = append(out, c)
		}
	}
	return out
}

func (d *fakeDistrict) commentsReceived() []routers.CommentSubmission {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]routers.CommentSubmission(nil), d.comments...)
}

// observed is one status event as the portal would receive it.
type observed struct {
	routers.StatusEvent
	metadata message.Metadata
}

// observer records the status and poison topics.
type observer struct {
	mu     sync.Mutex
	events []observed
	poison []*message.Message
}

func (o *observer) consume(t *testing.T, msgs <-chan *message.Message, poison bool) {
	for msg := range msgs {
		o.mu.Lock()
		if poison {
			o.poison = append(o.poison, msg)
		} else {
			var ev routers.StatusEvent
			if err := json.Unmarshal(msg.Payload, &ev); err != nil {
				t.Errorf("status event is not JSON: %v", err)
			}
			o.events = append(o.events, observed{StatusEvent: ev, metadata: msg.Metadata})
		}
		o.mu.Unlock()
		msg.Ack()
	}
}

// harness is a hub with in-memory ports, running on a GoChannel pub/sub.
type harness struct {
	t         *testing.T
	metrics   *prometheus.Registry
	m         *routers.Metrics
	hub       *routers.Hub
	ledger    ledgertest.Ledger
	pubsub    *gochannel.GoChannel
	registry  *fakeRegistry
	districts map[string]*fakeDistrict
	obs       *observer
	clock     clock
	start     time.Time // where the clock started
}

// harnessOptions shape a harness beyond the defaults.
type harnessOptions struct {
	polled          map[string]*fakePoller    // districts the hub polls
	pollers         map[string]routers.Poller // more districts the hub polls, with pollers of their own
	reconcileAfter  time.Duration
	breakerFailures int
	breakerCooldown time.Duration
	districtTimeout time.Duration // default 10s
	retryInitial    time.Duration // default 10ms
	retryMax        time.Duration // default 50ms
	maxAttempts     int           // default harnessMaxAttempts
	start           time.Time     // where the clock starts; default arrival
	// ledger makes the hub's ledger on the harness's clock; default a memory ledger.
	ledger func(t *testing.T, now func() time.Time) ledgertest.Ledger
	// districtTimeouts give some districts their own call budget.
	districtTimeouts map[string]time.Duration
	// signer, if set, runs the transparency log on the ledger.
	signer *tlog.Signer
	// logLedger, if set, stands between the hub and the ledger's log.
	logLedger func(routers.LogLedger) routers.LogLedger
	// logger is the hub's; default one that discards.
	logger *slog.Logger
	// deliveryLimit is the queues' delivery limit; default none.
	deliveryLimit int
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, harnessOptions{})
}

func newHarnessWith(t *testing.T, opts harnessOptions) *harness {
	t.Helper()
	if opts.districtTimeout == 0 {
		opts.districtTimeout = 10 * time.Second
	}
	if opts.retryInitial == 0 {
		opts.retryInitial = 10 * time.Millisecond
	}
	if opts.retryMax == 0 {
		opts.retryMax = 50 * time.Millisecond
	}
	if opts.maxAttempts == 0 {
		opts.maxAttempts = harnessMaxAttempts
	}
	if opts.start.IsZero() {
		opts.start = arrival
	}
	if opts.ledger == nil {
		opts.ledger = func(_ *testing.T, now func() time.Time) ledgertest.Ledger { return memory.NewLedger(now) }
	}
	// The hub takes no defaults of the operator's tuning: these stand in.
	if opts.reconcileAfter == 0 {
		opts.reconcileAfter = time.Hour
	}
	if opts.breakerFailures == 0 {
		opts.breakerFailures = 5
	}
	if opts.breakerCooldown == 0 {
		opts.breakerCooldown = 30 * time.Second
	}
	// Blocking until the subscriber acks keeps messages in publish order
	// (GoChannel otherwise hands each one over in its own goroutine) and
	// means a request published by the test has been handled on return.
	ps := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
	h := &harness{
		t:         t,
		start:     opts.start,
		pubsub:    ps,
		registry:  &fakeRegistry{fail: map[string]error{}, calls: map[string]int{}, callTimes: map[string][]time.Time{}},
		districts: map[string]*fakeDistrict{"AZ-BIL": {}, "AZ-SAT": {}},
		obs:       &observer{},
		clock:     clock{base: opts.start, start: time.Now(), jump: new(atomic.Int64)},
		metrics:   prometheus.NewRegistry(),
	}
	h.ledger = opts.ledger(t, h.clock.Now)
	logLedger := logOf(h.ledger, opts.signer)
	if opts.logLedger != nil {
		logLedger = opts.logLedger(logLedger)
	}
	if opts.logger == nil {
		opts.logger = slog.New(slog.DiscardHandler)
	}
	h.m = routers.NewMetrics(h.metrics)
	polled := map[string]routers.Polled{}
	for code, p := range opts.polled {
		polled[code] = routers.Polled{Poller: p, Interval: 10 * time.Millisecond}
	}
	for code, p := range opts.pollers {
		polled[code] = routers.Polled{Poller: p, Interval: 10 * time.Millisecond}
	}
	districts := map[string]routers.District{}
	for code, d := range h.districts {
		districts[code] = d
	}
	hub, err := routers.NewHub(routers.Config{
		Topics:             topics,
		SigningKeys:        []routers.SigningKey{{ID: "test", Key: signingKey}},
		IntakeConsumers:    1,
		DeliveryConsumers:  1,
		RegistryTimeout:    5 * time.Second,
		DistrictTimeout:    opts.districtTimeout,
		DistrictTimeouts:   opts.districtTimeouts,
		RetryMaxAge:        72 * time.Hour,
		RelayBatch:         200,
		RetryInitial:       opts.retryInitial,
		RetryMax:           opts.retryMax,
		RetryMaxAttempts:   opts.maxAttempts,
		SweepInterval:      10 * time.Millisecond,
		RelayIdle:          5 * time.Millisecond,
		ReconcileAfter:     opts.reconcileAfter,
		ReconcileInterval:  10 * time.Millisecond,
		BreakerFailures:    opts.breakerFailures,
		BreakerCooldown:    opts.breakerCooldown,
		OversightInterval:  10 * time.Millisecond,
		CheckpointInterval: 30 * time.Millisecond,
		SequenceInterval:   5 * time.Millisecond,
		DeliveryLimit:      opts.deliveryLimit,
		NackBackoff:        time.Millisecond,
	}, routers.Deps{
		Ledger: h.ledger, Registry: h.registry, Districts: districts, Polled: polled, Validator: hubValidator(),
		Publisher: ps, Subscriber: ps, Metrics: h.m,
		Logger: opts.logger, Now: h.clock.Now,
		Log: logLedger, CheckpointSigner: opts.signer,
	})
	require.NoError(t, err)
	h.hub = hub

	ctx, cancel := context.WithCancel(context.Background())
	statusMsgs, err := ps.Subscribe(ctx, topics.Status)
	require.NoError(t, err)
	poisonMsgs, err := ps.Subscribe(ctx, topics.Poison)
	require.NoError(t, err)
	go h.obs.consume(t, statusMsgs, false)
	go h.obs.consume(t, poisonMsgs, true)

	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 2 * time.Second}, watermill.NopLogger{})
	require.NoError(t, err)
	require.NoError(t, hub.AddHandlers(router))
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(ctx) }()
	hubDone := make(chan error, 1)
	go func() { hubDone <- hub.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, router.Close())
		require.NoError(t, <-routerDone)
		require.NoError(t, <-hubDone)
		require.NoError(t, ps.Close())
	})
	select {
	case <-router.Running():
	case <-time.After(waitFor):
		t.Fatal("router did not start")
	}
	return h
}

func (h *harness) metricsOf() *routers.Metrics { return h.m }

// logOf is Deps.Log: the ledger when the log runs, else none.
func logOf(l ledgertest.Ledger, signer *tlog.Signer) routers.LogLedger {
	if signer == nil {
		return nil
	}
	return l
}

// body returns an example of testdata with a fresh id, moved to the
// harness's start (sent half an hour before it, a reception booked on
// BIL-01's first reception day after it), then changed by edits
// ("citizen.fin" → value; a nil value deletes the field).
func (h *harness) body(name string, edits map[string]any) (body []byte, id string) {
	h.t.Helper()
	moved := map[string]any{"submitted_at": h.start.Add(-30 * time.Minute).Format(time.RFC3339)}
	if name == "request-reception.json" {
		moved["reception.date"] = h.receptionDay()
	}
	for k, v := range edits {
		moved[k] = v
	}
	return exampleBody(h.t, name, moved)
}

// receptionDay is BIL-01's first reception day (a working Tuesday) after the start.
func (h *harness) receptionDay() string {
	h.t.Helper()
	days, err := testCalendar().NextWorkingDays(h.start, 1, func(wd time.Weekday) bool { return wd == time.Tuesday })
	require.NoError(h.t, err)
	return days[0].Format(time.DateOnly)
}

// exampleBody is harness.body without a harness.
func exampleBody(t *testing.T, name string, edits map[string]any) (body []byte, id string) {
	t.Helper()
	m := example(t, name)
	id = uuid.NewString()
	m["id"] = id
	for path, v := range edits {
		obj := m
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			obj = obj[k].(map[string]any)
		}
		if v == nil {
			delete(obj, keys[len(keys)-1])
		} else {
			obj[keys[len(keys)-1]] = v
		}
	}
	body, err := json.Marshal(m)
	require.NoError(t, err)
	return body, id
}

// publish sends a correctly signed body to the requests queue and returns
// once the hub has handled it.
func (h *harness) publish(body []byte) {
	h.t.Helper()
	msg := message.NewMessage(uuid.NewString(), body)
	msg.Metadata.Set(routers.SignatureHeader, routers.Sign(signingKey, body))
	h.publishMsg(msg)
}

func (h *harness) publishMsg(msg *message.Message) {
	h.t.Helper()
	done := make(chan error, 1)
	go func() { done <- h.pubsub.Publish(topics.Requests, msg) }()
	select {
	case err := <-done:
		require.NoError(h.t, err)
	case <-time.After(waitFor):
		h.t.Fatal("the hub did not acknowledge the request")
	}
}

// allEvents returns every status event seen so far.
func (h *harness) allEvents() []observed {
	h.obs.mu.Lock()
	defer h.obs.mu.Unlock()
	return append([]observed(nil), h.obs.events...)
}

// eventsOf returns the status events seen so far for a request id.
func (h *harness) eventsOf(requestID string) []observed {
	h.obs.mu.Lock()
	defer h.obs.mu.Unlock()
	var out []observed
	for _, ev := range h.obs.events {
		if ev.RequestID == requestID {
			out = append(out, ev)
		}
	}
	return out
}

// eventsOfAppeal returns the status events seen so far for an appeal number.
func (h *harness) eventsOfAppeal(number string) []observed {
	h.obs.mu.Lock()
	defer h.obs.mu.Unlock()
	var out []observed
	for _, ev := range h.obs.events {
		if ev.AppealNumber == number {
			out = append(out, ev)
		}
	}
	return out
}

// waitEvent waits for the event of requestID with status and returns it.
func (h *harness) waitEvent(requestID string, status routers.Status) observed {
	h.t.Helper()
	var found observed
	require.Eventuallyf(h.t, func() bool {
		for _, ev := range h.eventsOf(requestID) {
			if ev.Status == status {
				found = ev
				return true
			}
		}
		return false
	}, waitFor, 2*time.Millisecond, "no %s event for request %s", status, requestID)
	return found
}

// barrier registers a fresh appeal and waits for its event. The relay
// publishes in commit order, so every event committed before has been seen
// when it returns. It returns the barrier's appeal number.
func (h *harness) barrier() string {
	h.t.Helper()
	body, id := h.body("request-appeal.json", map[string]any{"citizen.fin": "7SENTXN"})
	h.publish(body)
	return h.waitEvent(id, routers.StatusRegistered).AppealNumber
}

func (h *harness) poisoned() []*message.Message {
	h.obs.mu.Lock()
	defer h.obs.mu.Unlock()
	return append([]*message.Message(nil), h.obs.poison...)
}

// waitPoisoned waits for the poison message with uuid and returns it.
func (h *harness) waitPoisoned(uuid string) *message.Message {
	h.t.Helper()
	var found *message.Message
	require.Eventuallyf(h.t, func() bool {
		for _, m := range h.poisoned() {
			if m.UUID == uuid {
				found = m
				return true
			}
		}
		return false
	}, waitFor, 2*time.Millisecond, "message %s was not poisoned", uuid)
	return found
}

// waitDeadLetter waits for the first open dead letter of kind.
func (h *harness) waitDeadLetter(kind routers.DeadLetterKind) routers.DeadLetter {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		letters, err := h.ledger.DeadLetters(h.t.Context(), routers.DeadLetterOpen, 0, 100)
		require.NoError(h.t, err)
		for _, dl := range letters {
			if dl.Kind == kind {
				return dl
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("no %s dead letter within 5 s", kind)
	return routers.DeadLetter{}
}

func sequencesOf(events []routers.StatusEvent) []int {
	out := make([]int, len(events))
	for i, ev := range events {
		out[i] = ev.Sequence
	}
	return out
}

func (h *harness) appeal(number string) routers.Appeal {
	h.t.Helper()
	a, err := h.ledger.Appeal(context.Background(), number)
	require.NoError(h.t, err)
	return a
}

func (h *harness) history(number string) []routers.StatusEvent {
	h.t.Helper()
	evs, err := h.ledger.History(context.Background(), number)
	require.NoError(h.t, err)
	return evs
}

// comment reads a comment from the ledger without changing it.
func (h *harness) comment(id string) routers.Comment {
	h.t.Helper()
	c, err := h.ledger.Comment(context.Background(), id)
	require.NoError(h.t, err)
	return c
}

func statuses(evs []observed) []routers.Status {
	out := make([]routers.Status, len(evs))
	for i, ev := range evs {
		out[i] = ev.Status
	}
	return out
}

func sequences(evs []observed) []int {
	out := make([]int, len(evs))
	for i, ev := range evs {
		out[i] = ev.Sequence
	}
	return out
}

// harnessMaxAttempts is the harness hub's retry budget for transient failures.
const harnessMaxAttempts = 3

// allSubmits returns every call of Submit.
func (d *fakeDistrict) allSubmits() []submitCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]submitCall(nil), d.submits...)
}
