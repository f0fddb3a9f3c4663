package routers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// Config tunes a hub; zero fields take the defaults noted.
type Config struct {
	Topics            Topics
	SigningKey        []byte        // portal's HMAC key for x-signature
	IntakeConsumers   int           // handlers on the requests queue; default 16
	DeliveryConsumers int           // handlers per district queue; default 2
	RegistryTimeout   time.Duration // budget of the registry lookup at intake; default 5s
	DistrictTimeout   time.Duration // budget of one call to a district; default 10s
	RetryInitial      time.Duration // first delivery retry delay; default 1s
	RetryMax          time.Duration // longest delivery retry delay; default 5m
	RetryMaxAttempts  int           // transient failures of one delivery before it is dead-lettered; default 100
	RetryMaxAge       time.Duration // age of an appeal or comment after which a failing delivery is dead-lettered; default 72h
	RelayBatch        int           // outbox records per publish; default 200
	RelayIdle         time.Duration // outbox poll when idle; default 20ms
	SweepInterval     time.Duration // how often due retries are queued; default 500ms
	ReconcileAfter    time.Duration // an appeal unchanged this long is checked with its district; default 1h
	ReconcileInterval time.Duration // how often stale appeals are looked for; default 1m
	BreakerFailures   int           // consecutive transient failures that open a district's breaker; default 5
	BreakerCooldown   time.Duration // how long an open breaker waits before a probe; default 30s
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.IntakeConsumers, 16)
	def(&c.DeliveryConsumers, 2)
	def(&c.RelayBatch, 200)
	def(&c.RetryMaxAttempts, 100)
	defDur(&c.RetryMaxAge, 72*time.Hour)
	def(&c.BreakerFailures, 5)
	defDur(&c.BreakerCooldown, 30*time.Second)
	defDur(&c.RegistryTimeout, 5*time.Second)
	defDur(&c.DistrictTimeout, 10*time.Second)
	defDur(&c.RetryInitial, time.Second)
	defDur(&c.RetryMax, 5*time.Minute)
	defDur(&c.RelayIdle, 20*time.Millisecond)
	defDur(&c.SweepInterval, 500*time.Millisecond)
	defDur(&c.ReconcileAfter, time.Hour)
	defDur(&c.ReconcileInterval, time.Minute)
}

func (c *Config) validate() error {
	var errs []error
	if c.Topics.Requests == "" || c.Topics.Status == "" || c.Topics.Poison == "" || c.Topics.DistrictQueuePrefix == "" {
		errs = append(errs, errors.New("every topic must be named"))
	}
	if len(c.SigningKey) == 0 {
		errs = append(errs, errors.New("the portal's signing key is empty"))
	}
	return errors.Join(errs...)
}

// Hub is the whole of Körpü's logic, wired to its ports.
type Hub struct {
	cfg        Config
	ledger     Ledger
	registry   Registry
	districts  map[string]District
	guards     map[string]*guardedDistrict
	recovered  chan string   // districts whose breaker just closed
	registryUp chan struct{} // the registry answered again after failing
	polled     map[string]Polled
	validator  *Validator
	publisher  message.Publisher
	subscriber message.Subscriber
	outbox     OutboxPublisher
	metrics    *Metrics
	logger     *slog.Logger
	now        func() time.Time
	wake       chan struct{} // nudges the relay after a commit
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
	Metrics    *Metrics
	Logger     *slog.Logger
	Now        func() time.Time // default time.Now
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
	if deps.Now == nil {
		deps.Now = time.Now
	}
	recovered := make(chan string, len(deps.Districts))
	guards := make(map[string]*guardedDistrict, len(deps.Districts))
	guarded := make(map[string]District, len(deps.Districts))
	for code, d := range deps.Districts {
		guards[code] = newGuardedDistrict(code, d, uint32(cfg.BreakerFailures), cfg.BreakerCooldown, deps.Now, deps.Metrics, deps.Logger,
			func(code string) {
				select {
				case recovered <- code:
				default: // already signalled
				}
			})
		guarded[code] = guards[code]
	}
	h := &Hub{
		cfg: cfg, ledger: deps.Ledger, registry: deps.Registry, districts: guarded, guards: guards, recovered: recovered, polled: deps.Polled,
		validator: deps.Validator, publisher: deps.Publisher, subscriber: deps.Subscriber,
		outbox: deps.Outbox, metrics: deps.Metrics, logger: deps.Logger, now: deps.Now, wake: make(chan struct{}, 1),
		registryUp: make(chan struct{}, 1),
	}
	if h.outbox == nil {
		h.outbox = watermillOutbox{h.publisher}
	}
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
	q := []string{h.cfg.Topics.Requests, h.cfg.Topics.Status, h.cfg.Topics.Poison}
	for code := range h.validator.Directory.Districts {
		q = append(q, h.cfg.Topics.District(code))
	}
	return q
}

// AddHandlers registers the hub's handlers and middleware on router.
func (h *Hub) AddHandlers(router *message.Router) error {
	poison, err := middleware.PoisonQueueWithFilter(h.publisher, h.cfg.Topics.Poison, func(err error) bool {
		var panicked middleware.RecoveredPanicError
		return IsPermanent(err) || errors.As(err, &panicked)
	})
	if err != nil {
		return fmt.Errorf("poison queue: %w", err)
	}
	router.AddMiddleware(
		// Outermost: failures of the hub's own dependencies (database, broker)
		// are retried briefly, then the message is returned to its queue.
		middleware.Retry{MaxRetries: 3, InitialInterval: 200 * time.Millisecond, MaxInterval: 2 * time.Second, Multiplier: 2}.Middleware,
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
	return context.WithTimeout(context.WithoutCancel(msg.Context()), h.cfg.DistrictTimeout+h.cfg.RegistryTimeout+5*time.Second)
}

// countPoisoned counts the messages the poison middleware is about to take.
func (h *Hub) countPoisoned(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := next(msg)
		var panicked middleware.RecoveredPanicError
		if err != nil && (IsPermanent(err) || errors.As(err, &panicked)) {
			handler := message.HandlerNameFromCtx(msg.Context())
			h.metrics.Poisoned.WithLabelValues(handler).Inc()
			h.logger.Warn("message poisoned", "handler", handler, "message_id", msg.UUID, "reason", err)
		}
		return out, err
	}
}

// Run runs the outbox relay, the retry sweeper, and the polling and
// reconciliation of districts that cannot call back, until ctx ends. The
// router runs beside it (see cmd/korpu).
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	var relayErr, sweepErr error
	wg.Go(func() { relayErr = h.relayLoop(ctx) })
	wg.Go(func() { sweepErr = h.sweepLoop(ctx) })
	for code, p := range h.polled {
		wg.Go(func() { h.pollLoop(ctx, code, p) })
		wg.Go(func() { h.reconcileLoop(ctx, code, p.Poller) })
	}
	wg.Wait()
	return errors.Join(relayErr, sweepErr)
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
