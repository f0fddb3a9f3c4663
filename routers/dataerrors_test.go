package routers_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/ledgertest"
)

// TestDataErrors: a value the ledger cannot keep never loops. Validation
// answers a control character with one invalid event; what passes
// validation but the store refuses is a dead letter with the store's
// reason, after one attempt. Both ledgers behave alike; the PostgreSQL one
// is the real server.
func TestDataErrors(t *testing.T) {
	t.Parallel()
	ledgers := []struct {
		name string
		make func(t *testing.T, now func() time.Time) ledgertest.Ledger
	}{
		{"Memory", func(_ *testing.T, now func() time.Time) ledgertest.Ledger { return memory.NewLedger(now) }},
		{"PostgreSQL", func(t *testing.T, now func() time.Time) ledgertest.Ledger {
			return postgres.NewLedger(postgrestest.NewPool(t), now)
		}},
	}
	for _, lg := range ledgers {
		t.Run(lg.name, func(t *testing.T) {
			t.Parallel()
			setup := func(t *testing.T) *harness {
				t.Helper()
				return newHarnessWith(t, harnessOptions{ledger: lg.make})
			}

			t.Run("NULInRequestIsOneInvalid", func(t *testing.T) {
				t.Parallel()
				h := setup(t)
				body, id := h.body("request-appeal.json", map[string]any{"appeal.text": "İçməli su\x00 yoxdur"})
				h.publish(body)
				h.publish(body) // the portal may deliver it twice
				h.barrier()
				evs := h.eventsOf(id)
				require.Len(t, evs, 1)
				require.Equal(t, routers.StatusInvalid, evs[0].Status)
				require.Equal(t, []string{"appeal.text"}, fields(evs[0].Errors))
				require.Contains(t, evs[0].Errors[0].Message, "U+0000")
				require.Empty(t, h.poisoned())
			})

			// A key given twice is invalid itself; its first value's NUL is in
			// the body as stored, though not in the request as decoded, and
			// is reported too.
			t.Run("NULInADuplicatedKeyIsOneInvalid", func(t *testing.T) {
				t.Parallel()
				h := setup(t)
				valid, id := h.body("request-appeal.json", nil)
				body := bytes.Replace(valid, []byte(`"appeal":{`), []byte(`"appeal":{"text":"su\u0000 yoxdur",`), 1)
				require.NotEqual(t, valid, body)
				h.publish(body)
				h.barrier()
				evs := h.eventsOf(id)
				require.Len(t, evs, 1)
				require.Equal(t, routers.StatusInvalid, evs[0].Status)
				require.Equal(t, []string{"appeal.text", "request"}, fields(evs[0].Errors))
				require.Contains(t, evs[0].Errors[0].Message, "more than once")
				require.Contains(t, evs[0].Errors[1].Message, "U+0000")
				require.Empty(t, h.poisoned())
			})

			t.Run("NULInCommentIsOneInvalid", func(t *testing.T) {
				t.Parallel()
				h := setup(t)
				body, id := h.body("request-appeal.json", nil)
				h.publish(body)
				h.waitEvent(id, routers.StatusDelivered)
				comment, commentID := h.body("comment.json", map[string]any{
					"appeal_number": firstNumber, "submitted_at": commentAt, "text": "Cavab\x00 yoxdur",
				})
				h.publish(comment)
				h.barrier()
				evs := h.eventsOf(commentID)
				require.Len(t, evs, 1)
				require.Equal(t, routers.StatusInvalid, evs[0].Status)
				require.Equal(t, []string{"text"}, fields(evs[0].Errors))
				require.Empty(t, h.districts["AZ-BIL"].commentsReceived())
				require.Empty(t, h.poisoned())
			})

			// Go's decoder turns a lone surrogate escape into U+FFFD, so the
			// request passes validation; jsonb refuses the body as sent.
			t.Run("RefusedByTheStoreIsADeadLetter", func(t *testing.T) {
				t.Parallel()
				h := setup(t)
				const fin = "9DATERR"
				valid, id := h.body("request-appeal.json", map[string]any{"citizen.fin": fin, "appeal.text": "MARKER"})
				body := bytes.Replace(valid, []byte(`"MARKER"`), []byte(`"Su \ud800 yoxdur"`), 1)
				require.NotEqual(t, valid, body)
				msg := message.NewMessage("refused-1", body)
				msg.Metadata.Set(routers.SignatureHeader, routers.Sign(signingKey, body))
				h.publishMsg(msg)

				letter := h.waitDeadLetter(routers.DeadPoison)
				require.Contains(t, letter.Error, routers.ErrDataRefused.Error())
				require.Equal(t, "refused-1", letter.MessageID)
				require.Equal(t, body, letter.Body, "kept whole: it is small")
				require.Equal(t, 1, h.registry.callsFor(fin), "tried once, not retried")
				require.Equal(t, firstNumber, h.barrier(), "the refused registration took no number")
				require.Empty(t, h.eventsOf(id))
			})

			// A district's failure is quoted in the delivery's last error: a NUL
			// or an endless answer in it must not make the failure unrecordable.
			t.Run("DistrictErrorWithNULIsKeptAndRetried", func(t *testing.T) {
				t.Parallel()
				h := setup(t)
				answer := "HTTP 503: " + strings.Repeat("\x00busy ", 1000)
				h.districts["AZ-BIL"].plan(&routers.TransientError{Err: errors.New(answer)})
				body, id := h.body("request-appeal.json", nil)
				h.publish(body)
				h.waitEvent(id, routers.StatusDelivered)
				a := h.appeal(firstNumber)
				require.Equal(t, 2, a.Delivery.Attempts, "the failed attempt was recorded, then the retry delivered")
				require.Empty(t, h.poisoned(), "the delivery job was not poisoned")
				require.Len(t, h.districts["AZ-BIL"].submitsOf(firstNumber), 2)
			})

			// A refusal quoting a NUL, and a registry record the store cannot
			// keep, end as the appeal's dead letter: never a poisoned job that
			// leaves the appeal pending for ever.
			t.Run("DistrictRefusalWithNULIsADeadLetter", func(t *testing.T) {
				t.Parallel()
				h := setup(t)
				h.districts["AZ-BIL"].plan(&routers.PermanentError{Err: errors.New("HTTP 422: bad\x00data")})
				body, _ := h.body("request-appeal.json", nil)
				h.publish(body)
				letter := h.waitDeadLetter(routers.DeadAppeal)
				require.Equal(t, firstNumber, letter.AppealNumber)
				require.NotContains(t, letter.Error, "\x00")
				require.Equal(t, routers.DeliveryFailed, h.appeal(firstNumber).Delivery.State)
				require.Empty(t, h.poisoned())
			})

			t.Run("UnstorableRegistryRecordIsADeadLetter", func(t *testing.T) {
				t.Parallel()
				h := setup(t)
				h.registry.setRecord(filer, json.RawMessage(`{"fin":"5ZJ7K2M","name":"\u0000"}`))
				body, _ := h.body("request-appeal.json", nil)
				h.publish(body)
				letter := h.waitDeadLetter(routers.DeadAppeal)
				require.Contains(t, letter.Error, "registry's record cannot be stored")
				require.Equal(t, routers.DeliveryFailed, h.appeal(firstNumber).Delivery.State)
				require.Empty(t, h.districts["AZ-BIL"].submitsOf(firstNumber), "handed over without its record")
				require.Empty(t, h.poisoned())
			})

			t.Run("PoisonWithNULInHeadersIsFiled", func(t *testing.T) {
				t.Parallel()
				h := setup(t)
				body := []byte(`{"id":"x"}`)
				msg := message.NewMessage("bad\x00id", body)
				msg.Metadata.Set(routers.SignatureHeader, "sha256=\x00")
				msg.Metadata.Set("x-\x00", "\xff")
				h.publishMsg(msg)
				letter := h.waitDeadLetter(routers.DeadPoison)
				require.Equal(t, "bad\uFFFDid", letter.MessageID)
				require.Equal(t, map[string]string{routers.SignatureHeader: "sha256=\uFFFD", "x-\uFFFD": "\uFFFD"}, letter.Headers)
				require.Equal(t, body, letter.Body)
			})
		})
	}
}
