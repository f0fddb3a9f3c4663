// Package amqp is the hub's only door to RabbitMQ. It keeps watermill-amqp and
// amqp091-go behind one package, so a move to another major version of
// watermill-amqp is one import here and nowhere else.
//
// It provides:
//   - Marshaler, which maps the AMQP properties the portal uses (message_id,
//     correlation_id, content_type, timestamp) to and from Watermill metadata
//     and never fails on a header that is not a string (x-death, x-delivery-count);
//   - PublisherConfig, SubscriberConfig, NewPublisher and NewSubscriber for
//     durable queues named after the topic, persistent messages and publisher
//     confirms;
//   - Topology, which declares the hub's queues (quorum, with a delivery
//     limit and dead-lettering to the poison queue, or classic) and makes
//     subscribers declare each queue the same way; DeclareQueues (classic
//     queues) and PurgeAndDelete; WaitForBroker for start-up, and Inspector
//     for queue depths and readiness.
//
// Every function takes the broker as one address: a node's AMQP URI, or a
// cluster's nodes' URIs as JoinNodes joins them. Every connection, and every
// reconnection, dials the nodes in turn from a rotating start until one
// answers, so that a hub spreads its connections over a cluster and moves
// to another node when it loses one.
//
// Publishing to a queue nobody has declared is silently dropped by RabbitMQ,
// even with publisher confirms: declare every queue the hub
// publishes to (the portal's status queue included) before publishing.
package amqp
