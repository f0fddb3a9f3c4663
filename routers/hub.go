package routers

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/korpu-az/korpu/routers/tlog"
)

// Config tunes a hub. The operator's tuning (every count and duration but
// RelayIdle and SweepInterval) must be set and positive: its defaults live
// in one place, the table of settings in cmd/korpu/config. RelayIdle and
// SweepInterval are the hub's own; zero takes the default noted.
type Config struct {
	Topics            Topics
	SigningKeys       []SigningKey  // portal's current HMAC keys for x-signature; SetSigningKeys swaps them
	IntakeConsumers   int           // handlers on the requests queue
	DeliveryConsumers int           // handlers per district queue
	RegistryTimeout   time.Duration // budget of the registry lookup at intake
	DistrictTimeout   time.Duration // budget of one call to a district
	// DistrictTimeouts, by district code, replace DistrictTimeout for those
	// districts: a slow system may get longer, a fast one shorter.
	DistrictTimeouts map[string]time.Duration
	RetryInitial     time.Duration // first delivery retry delay
	RetryMax         time.Duration // longest delivery retry delay
	RetryMaxAttempts int           // transient failures of one delivery before it is dead-lettered
	RetryMaxAge      time.Duration // age of an appeal or comment after which a failing delivery is dead-lettered
	RelayBatch       int           // outbox records per publish
	RelayIdle        time.Duration // outbox poll when idle; default 20ms
	SweepInterval    time.Duration // how often due retries are queued; default 500ms
	// DeliveryLimit is the queues' x-delivery-limit: a message failing
	// transiently on its last allowed delivery is poisoned by the hub with
	// its reason. 0: no limit (classic queues).
	DeliveryLimit int
	// NackBackoff is how long a transient failure waits, per delivery of
	// its message, before the message returns to its queue; default 2s.
	NackBackoff       time.Duration
	ReconcileAfter    time.Duration // an appeal unchanged this long is checked with its district
	ReconcileInterval time.Duration // how often stale appeals are looked for
	BreakerFailures   int           // consecutive transient failures that open a district's breaker
	BreakerCooldown   time.Duration // how long an open breaker waits before a probe
	OversightInterval time.Duration // how often crossings into due soon and overdue are looked for
	// CheckpointInterval is how often the log is signed (with Deps.Log);
	// SequenceInterval how often queued events join it, default 1s.
	CheckpointInterval time.Duration
	SequenceInterval   time.Duration
}

func (c *Config) setDefaults() {
	if c.RelayIdle <= 0 {
		c.RelayIdle = 20 * time.Millisecond
	}
	if c.NackBackoff <= 0 {
		c.NackBackoff = defaultNackBackoff
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = 500 * time.Millisecond
	}
	if c.SequenceInterval <= 0 {
		c.SequenceInterval = time.Second
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Topics.Requests == "" || c.Topics.Status == "" || c.Topics.Poison == "" || c.Topics.DistrictQueuePrefix == "" || c.Topics.Oversight == "" {
		errs = append(errs, errors.New("every topic must be named"))
	}
	if err := CheckSigningKeys(c.SigningKeys); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []struct {
		name  string
		value int64
	}{
		{"IntakeConsumers", int64(c.IntakeConsumers)}, {"DeliveryConsumers", int64(c.DeliveryConsumers)},
		{"RegistryTimeout", int64(c.RegistryTimeout)}, {"DistrictTimeout", int64(c.DistrictTimeout)},
		{"RetryInitial", int64(c.RetryInitial)}, {"RetryMax", int64(c.RetryMax)},
		{"RetryMaxAttempts", int64(c.RetryMaxAttempts)}, {"RetryMaxAge", int64(c.RetryMaxAge)},
		{"RelayBatch", int64(c.RelayBatch)}, {"ReconcileAfter", int64(c.ReconcileAfter)},
		{"ReconcileInterval", int64(c.ReconcileInterval)}, {"BreakerFailures", int64(c.BreakerFailures)},
		{"BreakerCooldown", int64(c.BreakerCooldown)}, {"OversightInterval", int64(c.OversightInterval)},
	} {
		if f.value <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", f.name))
		}
	}
	if c.DeliveryLimit < 0 || c.DeliveryLimit == 1 {
		errs = append(errs, fmt.Errorf("DeliveryLimit must be 0 (none) or at least 2, not %d", c.DeliveryLimit))
	}
	for code, d := range c.DistrictTimeouts {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("DistrictTimeouts[%s] must be positive, not %s", code, d))
		}
	}
	return errors.Join(errs...)
}

// Ledger is what a hub needs of its durable record of appeals (PostgreSQL
// in production, memory in the demo): the ports of its flows, each declared
// beside the flow that uses it. Every method that changes state commits
// that change together with its Effects, or nothing. A value the store
// cannot keep (see ErrDataRefused) commits nothing and gives a
// *PermanentError.
type Ledger interface {
	RegistrationLedger
	DeliveryLedger
	StatusLedger
	PollingLedger
	OutboxLedger
	DeadLetterFiler
	OversightLedger
}

// Hub is the whole of Körpü's logic, wired to its ports.
type Hub struct {
	cfg Config
	// The ledger, seen by each flow through its own port only.
	intakeLedger     RegistrationLedger
	deliveryLedger   DeliveryLedger
	statusLedger     StatusLedger
	pollingLedger    PollingLedger
	outboxLedger     OutboxLedger
	deadLetterLedger DeadLetterFiler
	oversightLedger  OversightLedger
	logLedger        LogLedger         // nil: no transparency log
	signer           *tlog.Signer      // the log's checkpoint key, with logLedger
	logStuck         map[string]string // the permanent failure last logged, by step of the log's loop (logLoop's own)
	registry         Registry
	districts        map[string]District
	guards           map[string]*guardedDistrict
	recovered        chan string   // districts whose breaker just closed
	registryUp       chan struct{} // the registry answered again after failing
	polled           map[string]Polled
	validator        *Validator
	publisher        message.Publisher
	subscriber       message.Subscriber
	outbox           OutboxPublisher
	metrics          *Metrics
	logger           *slog.Logger
	now              func() time.Time
	wake             chan struct{} // nudges the relay after a commit
	// longestCall is the longest budget of a call to any district.
	longestCall time.Duration
	counted     deliveryCounter
	// signingKeys are the portal's current keys, swapped whole by
	// SetSigningKeys while the intake runs.
	signingKeys atomic.Pointer[[]SigningKey]
}

// Deps are the ports and collaborators a Hub needs.
type Deps struct {
	Ledger     Ledger
	Registry   Registry
	Districts  map[string]District // by code; every district of the directory
	Polled     map[string]Polled   // by code: districts that cannot call back
	Validator  *Validator
	Publisher  message.Publisher
	Subscriber message.Subscriber
	Outbox     OutboxPublisher // optional: batches the relay's publishing
	// Log and CheckpointSigner, both or neither, run the transparency log:
	// its sequencer and its checkpoints on Topics.Checkpoints.
	Log              LogLedger
	CheckpointSigner *tlog.Signer
	Metrics          *Metrics
	Logger           *slog.Logger
	Now              func() time.Time // default time.Now
}

// NewHub checks cfg and deps and returns a hub ready to Run.
func NewHub(cfg Config, deps Deps) (*Hub, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("hub config: %w", err)
	}
	if deps.Ledger == nil || deps.Registry == nil || deps.Validator == nil || deps.Publisher == nil || deps.Subscriber == nil || deps.Metrics == nil || deps.Logger == nil {
		return nil, errors.New("hub: a dependency is missing")
	}
	for code := range deps.Validator.Directory.Districts {
		if deps.Districts[code] == nil {
			return nil, fmt.Errorf("hub: district %s has no adapter", code)
		}
	}
	longestCall := cfg.DistrictTimeout
	for code, d := range cfg.DistrictTimeouts {
		if deps.Districts[code] == nil {
			return nil, fmt.Errorf("hub config: DistrictTimeouts names %s, which has no adapter", code)
		}
		longestCall = max(longestCall, d)
	}
	if (deps.Log == nil) != (deps.CheckpointSigner == nil) {
		return nil, errors.New("hub: the log needs both its ledger and its checkpoint signer")
	}
	if deps.Log != nil && (cfg.Topics.Checkpoints == "" || cfg.CheckpointInterval <= 0) {
		return nil, errors.New("hub config: the log needs Topics.Checkpoints and a positive CheckpointInterval")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	recovered := make(chan string, len(deps.Districts))
	guards := make(map[string]*guardedDistrict, len(deps.Districts))
	guarded := make(map[string]District, len(deps.Districts))
	for code, d := range deps.Districts {
		guards[code] = newGuardedDistrict(code, d, cfg.BreakerFailures, cfg.BreakerCooldown, deps.Now, deps.Metrics, deps.Logger,
			func(code string) {
				select {
				case recovered <- code:
				default: // already signalled
				}
			})
		guarded[code] = guards[code]
	}
	h := &Hub{
		cfg: cfg, registry: deps.Registry,
		intakeLedger: deps.Ledger, deliveryLedger: deps.Ledger, statusLedger: deps.Ledger, pollingLedger: deps.Ledger,
		outboxLedger: deps.Ledger, deadLetterLedger: deps.Ledger, oversightLedger: deps.Ledger, districts: guarded, guards: guards, recovered: recovered, polled: deps.Polled,
		validator: deps.Validator, publisher: deps.Publisher, subscriber: deps.Subscriber,
		outbox: deps.Outbox, metrics: deps.Metrics, logger: deps.Logger, now: deps.Now, wake: make(chan struct{}, 1),
		longestCall: longestCall, counted: deliveryCounter{failed: map[[sha256.Size]byte]int{}},
		registryUp: make(chan struct{}, 1),
		logLedger:  deps.Log, signer: deps.CheckpointSigner,
	}
	if h.outbox == nil {
		h.outbox = watermillOutbox{h.publisher}
	}
	h.storeSigningKeys(cfg.SigningKeys)
	if n, ok := deps.Registry.(RecoveryNotifier); ok {
		n.OnRecovery(func() {
			select {
			case h.registryUp <- struct{}{}:
			default: // already signalled
			}
		})
	}
	return h, nil
}

// Queues lists every queue the hub consumes or publishes to, for declaring
// them before anything is published (an undeclared queue drops messages).
func (h *Hub) Queues() []string {
	q := []string{h.cfg.Topics.Requests, h.cfg.Topics.Status, h.cfg.Topics.Poison, h.cfg.Topics.Oversight}
	if h.logLedger != nil {
		q = append(q, h.cfg.Topics.Checkpoints)
	}
	for code := range h.validator.Directory.Districts {
		q = append(q, h.cfg.Topics.District(code))
	}
	return q
}

// AddHandlers registers the hub's handlers and middleware on router.
func (h *Hub) AddHandlers(router *message.Router) error {
	poison, err := middleware.PoisonQueueWithFilter(h.publisher, h.cfg.Topics.Poison, func(err error) bool {
		return IsPermanent(err) || isPanic(err)
	})
	if err != nil {
		return fmt.Errorf("poison queue: %w", err)
	}
	limited, err := middleware.PoisonQueueWithFilter(h.publisher, h.cfg.Topics.Poison, func(err error) bool {
		var limited *DeliveryLimitError
		return errors.As(err, &limited)
	})
	if err != nil {
		return fmt.Errorf("poison queue: %w", err)
	}
	router.AddMiddleware(
		// Outermost: a message that failed transiently on the last delivery
		// its queue allows goes to the poison queue with the last failure.
		limited,
		h.countPoisoned,
		// A transient failure waits, longer each delivery, before its
		// message is returned to its queue; see limitDeliveries.
		h.limitDeliveries,
		// Failures of the hub's own dependencies (database, broker) are
		// retried briefly within the delivery.
		dependencyRetry.Middleware,
		// Failures no retry can mend, and panics, go to the poison queue with the reason.
		poison,
		h.countPoisoned,
		// A panic becomes an error instead of killing the process.
		middleware.Recoverer,
	)
	router.AddConsumerHandler("dead-letter-keeper", h.cfg.Topics.Poison, h.subscriber, h.keepPoisoned)
	for i := 1; i <= h.cfg.IntakeConsumers; i++ {
		router.AddConsumerHandler(fmt.Sprintf("intake-%d", i), h.cfg.Topics.Requests, h.subscriber, h.handleRequest)
	}
	for code := range h.validator.Directory.Districts {
		for i := 1; i <= h.cfg.DeliveryConsumers; i++ {
			router.AddConsumerHandler(fmt.Sprintf("deliver-%s-%d", code, i), h.cfg.Topics.District(code), h.subscriber, h.handleJob)
		}
	}
	return nil
}

// workContext is the context of a handler's work. It does not end when the
// router stops: Router.Close cancels every message at once, and a district
// call or ledger commit cut off half-way would have to be redone. Work in
// flight finishes within its own bounds (the registry and district
// timeouts, and this cap); its message, nacked by the stopping subscriber,
// comes back and finds the work done.
func (h *Hub) workContext(msg *message.Message) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(msg.Context()), h.longestWork())
}

// longestWork caps one attempt at a message's work.
func (h *Hub) longestWork() time.Duration {
	return h.longestCall + h.cfg.RegistryTimeout + 5*time.Second
}

// dependencyRetry retries failures of the hub's own dependencies within a
// delivery: 4 attempts, 1.4 s of waits.
var dependencyRetry = middleware.Retry{MaxRetries: 3, InitialInterval: 200 * time.Millisecond, MaxInterval: 2 * time.Second, Multiplier: 2}

// LongestHold is the longest a handler holds one delivery unacknowledged:
// every attempt of dependencyRetry at its cap, the waits between them, and
// the wait before a nack. The broker's consumer_timeout must be well above
// it, or the broker closes the channel of a consumer still working.
func (h *Hub) LongestHold() time.Duration {
	hold, wait := time.Duration(dependencyRetry.MaxRetries+1)*h.longestWork(), dependencyRetry.InitialInterval
	for range dependencyRetry.MaxRetries {
		hold += wait
		wait = min(time.Duration(float64(wait)*dependencyRetry.Multiplier), dependencyRetry.MaxInterval)
	}
	return hold + maxNackBackoff
}

// districtTimeout is the budget of one call to the district: its own, else
// the hub's.
func (h *Hub) districtTimeout(code string) time.Duration {
	if d, ok := h.cfg.DistrictTimeouts[code]; ok {
		return d
	}
	return h.cfg.DistrictTimeout
}

// countPoisoned counts the messages the poison middleware above it is
// about to take.
func (h *Hub) countPoisoned(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := next(msg)
		if err != nil && poisonable(err) {
			handler := message.HandlerNameFromCtx(msg.Context())
			h.metrics.Poisoned.WithLabelValues(handler).Inc()
			h.logger.Warn("message poisoned", "handler", handler, "message_id", msg.UUID, "reason", err)
		}
		return out, err
	}
}

// Run runs the outbox relay, the retry sweeper, the oversight sweep, the
// transparency log's sequencer and checkpoints (with Deps.Log), and
// the polling and reconciliation of districts that cannot call back, until
// ctx ends. The router runs beside it (see cmd/korpu).
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	var relayErr, sweepErr, oversightErr, logErr error
	wg.Go(func() { relayErr = h.relayLoop(ctx) })
	wg.Go(func() { sweepErr = h.sweepLoop(ctx) })
	wg.Go(func() { oversightErr = h.oversightLoop(ctx) })
	if h.logLedger != nil {
		wg.Go(func() { logErr = h.logLoop(ctx) })
	}
	for code, p := range h.polled {
		wg.Go(func() { h.pollLoop(ctx, code, p) })
		wg.Go(func() { h.reconcileLoop(ctx, code, p.Poller) })
	}
	wg.Wait()
	return errors.Join(relayErr, sweepErr, oversightErr, logErr)
}

// committed nudges the relay: something was just written to the outbox.
func (h *Hub) committed() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// backoff is the delay after a delivery's attempts failed, the last with
// cause: exponential with full jitter, never shorter than the Retry-After
// the other side sent with a transient error. A hold-off the hub imposes on
// itself delays to its end, no more: it is not an attempt.
func (h *Hub) backoff(attempts int, cause error) time.Duration {
	var held *HoldOffError
	if errors.As(cause, &held) {
		return max(held.Wait, 0)
	}
	d := h.cfg.RetryInitial << min(max(attempts-1, 0), 20)
	if d <= 0 || d > h.cfg.RetryMax {
		d = h.cfg.RetryMax
	}
	d = d/2 + rand.N(d/2+1)
	var transient *TransientError
	if errors.As(cause, &transient) {
		d = max(d, transient.RetryAfter)
	}
	return d
}
