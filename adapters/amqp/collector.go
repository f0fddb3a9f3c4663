package amqp

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// QueueCollector puts the depth and consumers of the hub's queues on
// /metrics, asked of the broker at scrape time (passive declares): the one
// thing Watermill's metrics cannot tell.
type QueueCollector struct {
	inspector *Inspector
	queues    []string

	messages, consumers, up *prometheus.Desc
}

// NewQueueCollector returns a collector of queues through inspector.
func NewQueueCollector(inspector *Inspector, queues []string) *QueueCollector {
	return &QueueCollector{
		inspector: inspector, queues: queues,
		messages:  prometheus.NewDesc("korpu_queue_messages", "Messages ready in the queue.", []string{"queue"}, nil),
		consumers: prometheus.NewDesc("korpu_queue_consumers", "Consumers attached to the queue.", []string{"queue"}, nil),
		up:        prometheus.NewDesc("korpu_queue_inspect_up", "1 when the broker answered for every queue at this scrape.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.consumers
	ch <- c.up
}

// Collect implements prometheus.Collector.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	up := 1.0
	for _, q := range c.queues {
		messages, consumers, err := c.inspector.Depth(ctx, q)
		if err != nil {
			up = 0
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(messages), q)
		ch <- prometheus.MustNewConstMetric(c.consumers, prometheus.GaugeValue, float64(consumers), q)
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
}
