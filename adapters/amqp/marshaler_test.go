package amqp

import (
	"math"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
)

func TestMarshalerMarshal(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	tests := []struct {
		name     string
		metadata message.Metadata
		want     amqp091.Publishing // Timestamp checked separately
		wantTime time.Time          // zero: about now
	}{
		{
			name:     "PropertiesFromMetadata",
			metadata: message.Metadata{"message_id": "evt-1", "correlation_id": "req-1", "content_type": "application/json", "x-signature": "sha256=ab"},
			want: amqp091.Publishing{
				MessageId: "evt-1", CorrelationId: "req-1", ContentType: "application/json",
				Headers: amqp091.Table{"x-signature": "sha256=ab", UUIDHeader: "uuid-1"},
			},
		},
		{
			name:     "MessageIDFromUUID",
			metadata: message.Metadata{"district": "AZ-BIL"},
			want: amqp091.Publishing{
				MessageId: "uuid-1",
				Headers:   amqp091.Table{"district": "AZ-BIL", UUIDHeader: "uuid-1"},
			},
		},
		{
			name:     "TimestampKept",
			metadata: message.Metadata{"timestamp": sent.Format(time.RFC3339Nano)},
			want: amqp091.Publishing{
				MessageId: "uuid-1",
				Headers:   amqp091.Table{UUIDHeader: "uuid-1"},
			},
			wantTime: sent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := message.NewMessage("uuid-1", []byte(`{"a":1}`))
			msg.Metadata = tt.metadata
			before := time.Now()
			got, err := Marshaler{}.Marshal(msg)
			require.NoError(t, err)

			if tt.wantTime.IsZero() {
				require.WithinRange(t, got.Timestamp, before, time.Now())
			} else {
				require.True(t, tt.wantTime.Equal(got.Timestamp), "timestamp %v", got.Timestamp)
			}
			want := tt.want
			want.Body = []byte(`{"a":1}`)
			want.DeliveryMode = amqp091.Persistent
			want.Timestamp = got.Timestamp
			require.Equal(t, want, got)
		})
	}
}

// TestMarshalerMarshalBadTimestamp: a "timestamp" that is no time (a
// foreign header) travels as a header; it must never make a message
// unpublishable.
func TestMarshalerMarshalBadTimestamp(t *testing.T) {
	t.Parallel()
	msg := message.NewMessage("uuid-1", nil)
	msg.Metadata.Set(MetadataTimestamp, "yesterday")
	p, err := Marshaler{}.Marshal(msg)
	require.NoError(t, err)
	require.Equal(t, "yesterday", p.Headers[MetadataTimestamp])
	require.False(t, p.Timestamp.IsZero(), "the property is now")
}

// TestMarshalerDropsDeliveryCount: a copy of a delivered message (poisoned,
// replayed) starts with no count of earlier deliveries.
func TestMarshalerDropsDeliveryCount(t *testing.T) {
	t.Parallel()
	msg, err := Marshaler{}.Unmarshal(amqp091.Delivery{Headers: amqp091.Table{"x-delivery-count": int64(19), "x-other": int64(1)}})
	require.NoError(t, err)
	require.Equal(t, "19", msg.Metadata.Get("x-delivery-count"))
	p, err := Marshaler{}.Marshal(msg)
	require.NoError(t, err)
	require.NotContains(t, p.Headers, "x-delivery-count")
	require.Equal(t, "1", p.Headers["x-other"])
}

func TestMarshalerUnmarshal(t *testing.T) {
	t.Parallel()
	// Values as amqp091 decodes them from the wire: a timestamp is local
	// time, whole seconds; a long string is a string; a byte array is []byte.
	deathTime := time.Unix(1772357400, 0)
	tests := []struct {
		name     string
		delivery amqp091.Delivery
		wantUUID string
		wantMD   message.Metadata
	}{
		{
			name: "WatermillMessage",
			delivery: amqp091.Delivery{
				MessageId: "evt-1", CorrelationId: "req-1", ContentType: "application/json",
				Timestamp: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
				Headers:   amqp091.Table{UUIDHeader: "uuid-1", "district": "AZ-BIL"},
			},
			wantUUID: "uuid-1",
			wantMD: message.Metadata{
				"message_id": "evt-1", "correlation_id": "req-1", "content_type": "application/json",
				"timestamp": "2026-03-01T09:30:00Z", "district": "AZ-BIL",
			},
		},
		{
			name:     "PortalMessageUUIDFromMessageID",
			delivery: amqp091.Delivery{MessageId: "req-7", Headers: amqp091.Table{"x-signature": "sha256=ff"}},
			wantUUID: "req-7",
			wantMD:   message.Metadata{"message_id": "req-7", "x-signature": "sha256=ff"},
		},
		{
			name:     "NoIdentity",
			delivery: amqp091.Delivery{},
			wantUUID: "",
			wantMD:   message.Metadata{},
		},
		{
			name: "DeadLetteredFromQuorumQueue",
			delivery: amqp091.Delivery{
				MessageId: "req-8",
				Headers: amqp091.Table{
					"x-delivery-count":    int64(3),
					"x-first-death-queue": "egov.portal.requests",
					"x-death": []any{amqp091.Table{
						"count": int64(1), "reason": "rejected", "queue": "egov.portal.requests",
						"time": deathTime, "exchange": "", "routing-keys": []any{"egov.portal.requests"},
					}},
				},
			},
			wantUUID: "req-8",
			wantMD: message.Metadata{
				"message_id":          "req-8",
				"x-delivery-count":    "3",
				"x-first-death-queue": "egov.portal.requests",
				"x-death": `[{"count":1,"exchange":"","queue":"egov.portal.requests","reason":"rejected",` +
					`"routing-keys":["egov.portal.requests"],"time":"2026-03-01T09:30:00Z"}]`,
			},
		},
		{
			name: "ScalarsOfEveryKind",
			delivery: amqp091.Delivery{Headers: amqp091.Table{
				"bool": true, "int8": int8(-8), "uint16": uint16(16), "int32": int32(-32), "float32": float32(1.5),
				"float64": 0.25, "bytes": []byte("sha256=ab"), "void": nil, "time": deathTime,
				"nan": math.NaN(), "decimal": amqp091.Decimal{Scale: 2, Value: 1234},
				"table": amqp091.Table{"b": []byte{0xff}, "a": int16(1)},
			}},
			wantMD: message.Metadata{
				"bool": "true", "int8": "-8", "uint16": "16", "int32": "-32", "float32": "1.5",
				"float64": "0.25", "bytes": "sha256=ab", "void": "", "time": "2026-03-01T09:30:00Z",
				"nan": "NaN", "decimal": `{"Scale":2,"Value":1234}`,
				"table": `{"a":1,"b":"/w=="}`,
			},
		},
		{
			name: "PropertiesWinOverHeaders",
			delivery: amqp091.Delivery{
				MessageId: "prop", Headers: amqp091.Table{"message_id": "header", UUIDHeader: int64(42)},
			},
			wantUUID: "42",
			wantMD:   message.Metadata{"message_id": "prop"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.delivery.Body = []byte("body")
			msg, err := Marshaler{}.Unmarshal(tt.delivery)
			require.NoError(t, err)
			require.Equal(t, tt.wantUUID, msg.UUID)
			require.Equal(t, tt.wantMD, msg.Metadata)
			require.Equal(t, []byte("body"), []byte(msg.Payload))
		})
	}
}

// TestMarshalerRoundTrip: what the hub publishes comes back as it was sent,
// so a message forwarded to another queue keeps its identity and time.
func TestMarshalerRoundTrip(t *testing.T) {
	t.Parallel()
	msg := message.NewMessage("uuid-1", []byte("payload"))
	msg.Metadata = message.Metadata{
		"message_id": "evt-1", "correlation_id": "req-1", "content_type": "application/json",
		"timestamp": "2026-03-01T09:30:00Z", "handler": "status",
	}
	p, err := Marshaler{}.Marshal(msg)
	require.NoError(t, err)

	got, err := Marshaler{}.Unmarshal(amqp091.Delivery{
		Headers: p.Headers, MessageId: p.MessageId, CorrelationId: p.CorrelationId,
		ContentType: p.ContentType, Timestamp: p.Timestamp, Body: p.Body,
	})
	require.NoError(t, err)
	require.Equal(t, msg.UUID, got.UUID)
	require.Equal(t, msg.Metadata, got.Metadata)
	require.Equal(t, msg.Payload, got.Payload)
}
