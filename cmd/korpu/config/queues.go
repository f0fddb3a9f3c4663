package config

// The broker's queue settings: the one place of their defaults and bounds
// (the README's Configuration and "Quorum queues" sections explain them).
const (
	// QueueQuorum (amqp.queue_type: quorum, the default): every queue the
	// hub declares is a quorum queue, replicated across the cluster.
	QueueQuorum = "quorum"
	// QueueClassic: plain durable queues with no arguments, for a single
	// broker node (the hub's queues before quorum queues).
	QueueClassic = "classic"
	// DefaultDeliveryLimit is amqp.delivery_limit's default: RabbitMQ 4's
	// own default for quorum queues.
	DefaultDeliveryLimit = 20
	// minDeliveryLimit: the hub poisons a message itself on its last
	// allowed delivery, so one delivery alone would never be retried.
	minDeliveryLimit = 2
	// maxDeliveryLimit: with the wait of up to 30 s before each nack, a
	// failing message already loops for about 8 hours before it is poisoned.
	maxDeliveryLimit = 1000
)

// queues reads amqp.queue_type and amqp.delivery_limit, defaults applied.
func (ps *problems) queues(typ string, limit any) (string, int) {
	switch typ {
	case "":
		typ = QueueQuorum
	case QueueQuorum, QueueClassic:
	default:
		ps.add("amqp.queue_type", "must be %s or %s, not %s", QueueQuorum, QueueClassic, describe(typ))
	}
	if limit == nil {
		return typ, DefaultDeliveryLimit
	}
	n, ok := wholeNumber(limit)
	if !ok {
		ps.add("amqp.delivery_limit", "must be a whole number, not %s", describe(limit))
		return typ, DefaultDeliveryLimit
	}
	if n < minDeliveryLimit {
		ps.add("amqp.delivery_limit", "must be at least %d, not %d", minDeliveryLimit, n)
	} else if n > maxDeliveryLimit {
		ps.add("amqp.delivery_limit", "must be at most %d (a failing message would loop for days), not %d", maxDeliveryLimit, n)
	}
	return typ, n
}
