package ledgertest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// claimer uses a request ID the way one of the claiming methods does.
type claimer struct {
	name string
	// registers tells whether a success allocates an appeal number.
	registers bool
	claim     func(t *testing.T, l Ledger, id string, base routers.Appeal) error
}

var claimers = []claimer{
	{"Register", true, func(t *testing.T, l Ledger, id string, _ routers.Appeal) error {
		d := draft(id, bil, registeredAt)
		_, err := l.Register(t.Context(), d, nil, numberOf(d), registered)
		return err
	}},
	{"RecordInvalid", false, func(t *testing.T, l Ledger, id string, _ routers.Appeal) error {
		return l.RecordInvalid(t.Context(), routers.Refusal{RequestID: id}, invalid(id))
	}},
	{"AddComment", false, func(t *testing.T, l Ledger, id string, base routers.Appeal) error {
		c := comment(id, base)
		return l.AddComment(t.Context(), c, routers.Effects{Messages: []routers.OutboxMessage{commentMessage(c)}})
	}},
}

// invalid is what the hub commits for a request it refuses: the invalid
// event, which belongs to no appeal, and its message.
func invalid(requestID string) routers.Effects {
	ev := routers.StatusEvent{
		EventID:   stableUUID("invalid/" + requestID),
		RequestID: requestID,
		Status:    routers.StatusInvalid,
		Sequence:  1,
		At:        routers.FormatTime(registeredAt),
		Errors:    []routers.FieldError{{Field: "citizen.fin", Message: "FİN yanlışdır / FIN is malformed"}},
	}
	return routers.Effects{
		Events: []routers.StatusEvent{ev},
		Messages: []routers.OutboxMessage{
			statusMessage(ev),
			{Topic: "audit", UUID: stableUUID("audit/" + requestID), Payload: []byte(`{"refused":true}`)},
		},
	}
}

func testInbox(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("RecordInvalidCommitsMessagesInOrder", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		require.NoError(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "bad-1"}, invalid("bad-1")))
		requireMessages(t, invalid("bad-1").Messages, drain(t, l))
	})

	// Every pair of claiming methods shares one inbox: an ID one of them
	// used is a duplicate for all, and the duplicate commits nothing.
	for _, first := range claimers {
		for _, second := range claimers {
			t.Run("SharedBy"+first.name+"And"+second.name, func(t *testing.T) {
				t.Parallel()
				l := newLedger(t)
				base := registerDrained(t, l, draft("base", bil, registeredAt))
				require.NoError(t, first.claim(t, l, "dup", base))
				drain(t, l)

				require.ErrorIs(t, second.claim(t, l, "dup", base), routers.ErrDuplicate)
				require.Empty(t, drain(t, l), "the duplicate committed messages")
				want := 2
				if first.registers {
					want = 3
				}
				require.Equal(t, number(bil, 2026, want), register(t, l, draft("next", bil, registeredAt)).Number,
					"the duplicate consumed a number")
			})
		}
	}

	t.Run("AddCommentToUnknownAppealClaimsNothing", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ghost := draft("ghost", bil, registeredAt)
		ghost.Number = number(bil, 2026, 1)
		c := comment("c-1", ghost)
		err := l.AddComment(t.Context(), c, routers.Effects{Messages: []routers.OutboxMessage{commentMessage(c)}})
		require.ErrorIs(t, err, routers.ErrNotFound)
		require.Empty(t, drain(t, l))

		a := registerDrained(t, l, draft("real", bil, registeredAt))
		require.Equal(t, ghost.Number, a.Number)
		addComment(t, l, c)
		got, _ := peekComment(t, l, c.ID)
		requireComment(t, c, got)
	})
}
