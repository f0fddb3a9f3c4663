package amqp

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"
	"unicode/utf8"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v2/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Metadata keys that Marshaler maps to AMQP properties instead of headers.
const (
	MetadataMessageID     = "message_id"
	MetadataCorrelationID = "correlation_id"
	MetadataContentType   = "content_type"
	// MetadataTimestamp holds the timestamp property in RFC 3339 with
	// nanoseconds (time.RFC3339Nano), in UTC.
	MetadataTimestamp = "timestamp"
)

// deliveryCountHeader is a quorum queue's count of a message's earlier deliveries.
const deliveryCountHeader = "x-delivery-count"

// UUIDHeader is the header that carries a Watermill message's UUID.
const UUIDHeader = wamqp.DefaultMessageUUIDHeaderKey

// Marshaler converts Watermill messages to AMQP publishings and back. Unlike
// watermill-amqp's DefaultMarshaler it maps message_id, correlation_id,
// content_type and timestamp to AMQP properties (the portal reads and sets
// those), and its Unmarshal never fails: a header that is not a string
// (x-death, x-delivery-count, …) is stringified instead of making the message
// unreadable and nack-looping forever.
type Marshaler struct{}

var _ wamqp.Marshaler = Marshaler{}

// Marshal turns msg into a persistent publishing. The metadata keys
// message_id, correlation_id and content_type become the properties of the
// same name; the others become string headers, but x-delivery-count, the
// broker's. The message UUID travels in
// UUIDHeader and is the MessageId when no message_id is given. The timestamp
// is the metadata's timestamp when present (so a message forwarded to another
// queue keeps its original time), otherwise now.
func (Marshaler) Marshal(msg *message.Message) (amqp091.Publishing, error) {
	p := amqp091.Publishing{
		Headers:      make(amqp091.Table, len(msg.Metadata)+1),
		Body:         msg.Payload,
		DeliveryMode: amqp091.Persistent,
		MessageId:    msg.UUID,
		Timestamp:    time.Now(),
	}
	for k, v := range msg.Metadata {
		switch k {
		case MetadataMessageID:
			p.MessageId = v
		case MetadataCorrelationID:
			p.CorrelationId = v
		case MetadataContentType:
			p.ContentType = v
		case deliveryCountHeader:
			// The broker's count of the delivery the message was read from:
			// a copy (poisoned, replayed) is a new message, and a count
			// carried over would shorten its allowance of deliveries.
		case MetadataTimestamp:
			// A foreign "timestamp" header that is no time stays a header:
			// failing here would leave its message unpublishable forever.
			if ts, err := time.Parse(time.RFC3339Nano, v); err == nil {
				p.Timestamp = ts
			} else {
				p.Headers[k] = v
			}
		default:
			p.Headers[k] = v
		}
	}
	p.Headers[UUIDHeader] = msg.UUID
	return p, nil
}

// Unmarshal turns a delivery into a message. Headers become metadata,
// stringified when they are not strings (see headerString); the properties
// message_id, correlation_id, content_type and timestamp, when set, become
// the metadata keys of the same name and win over headers so named. The UUID
// is UUIDHeader's value, else the MessageId (messages from other producers,
// such as the portal), else empty. It never returns an error.
func (Marshaler) Unmarshal(d amqp091.Delivery) (*message.Message, error) {
	uuid := d.MessageId
	md := make(message.Metadata, len(d.Headers)+4)
	for k, v := range d.Headers {
		if k == UUIDHeader {
			if s := headerString(v); s != "" {
				uuid = s
			}
			continue
		}
		md[k] = headerString(v)
	}
	for k, v := range map[string]string{
		MetadataMessageID:     d.MessageId,
		MetadataCorrelationID: d.CorrelationId,
		MetadataContentType:   d.ContentType,
	} {
		if v != "" {
			md[k] = v
		}
	}
	if !d.Timestamp.IsZero() {
		md[MetadataTimestamp] = d.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	msg := message.NewMessage(uuid, d.Body)
	msg.Metadata = md
	return msg, nil
}

// headerString renders an AMQP field value as a string, the same way every
// time: scalars in their usual text form, byte arrays as text, timestamps in
// UTC RFC 3339, and tables and arrays (x-death) as JSON with sorted keys.
func headerString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(v)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		// Only NaN or infinite floats get here; fmt sorts map keys too.
		return fmt.Sprint(v)
	}
	return string(b)
}

// jsonable prepares nested field values for encoding/json: byte arrays that
// hold text become strings (rather than base64) and timestamps become UTC.
func jsonable(v any) any {
	switch v := v.(type) {
	case amqp091.Table:
		return jsonableMap(v)
	case map[string]any:
		return jsonableMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonable(e)
		}
		return out
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		return v
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return v
}

func jsonableMap(m map[string]any) map[string]any {
	out := maps.Clone(m)
	for k, e := range out {
		out[k] = jsonable(e)
	}
	return out
}
