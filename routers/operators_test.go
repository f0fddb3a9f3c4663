package routers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
)

// deskOperator is who acts at the desk in the flows' tests.
var deskOperator = routers.Operator{Name: "Aysel Məmmədova", Role: "operator", Channel: routers.ChannelCLI}

// TestDeskRecordsWhoActs: every replay and drop, done or refused for a
// reason the operator can act on, is in the record with who did it, how,
// on which letter and appeal, and when by the hub's clock; who is not said
// properly acts on nothing and is not recorded.
func TestDeskRecordsWhoActs(t *testing.T) {
	t.Parallel()
	at := time.Date(2031, 3, 20, 9, 0, 0, 0, routers.Baku)
	ledger := memory.NewLedger(func() time.Time { return at })
	ctx := context.Background()
	add := func(fp string, dl routers.DeadLetter) int64 {
		dl.Queue, dl.Error, dl.Fingerprint, dl.Attempts = "egov.portal.requests", "refused", fp, 1
		require.NoError(t, ledger.AddDeadLetter(ctx, dl))
		letters, err := ledger.DeadLetters(ctx, "", 0, 100)
		require.NoError(t, err)
		return letters[len(letters)-1].ID
	}
	poison := add("p", routers.DeadLetter{Kind: routers.DeadPoison, Body: []byte(`{}`)})
	cut := add("c", routers.DeadLetter{Kind: routers.DeadPoison, Body: []byte(`{`), Size: 1 << 20})
	appeal := add("a", routers.DeadLetter{Kind: routers.DeadAppeal, Body: []byte(`{}`), AppealNumber: "AZ-BIL-2031-000007"})
	desk := routers.NewDeadLetterDesk(ledger, func() time.Time { return at })
	web := routers.Operator{Name: "Rəşad", Role: "operator", Channel: routers.ChannelDashboard}

	require.NoError(t, desk.Replay(ctx, poison, deskOperator))
	require.ErrorIs(t, desk.Drop(ctx, poison, web), routers.ErrNotOpen)
	require.ErrorIs(t, desk.Replay(ctx, cut, web), routers.ErrTruncated)
	require.NoError(t, desk.Drop(ctx, appeal, web))
	require.ErrorIs(t, desk.Replay(ctx, 99, deskOperator), routers.ErrNotFound)
	for _, bad := range []routers.Operator{
		{Role: "operator", Channel: routers.ChannelAPI},
		{Name: "x\u2028y", Role: "operator", Channel: routers.ChannelAPI},
		{Name: strings.Repeat("ə", routers.MaxOperatorNameRunes+1), Role: "operator", Channel: routers.ChannelAPI},
		{Name: "Aysel", Channel: routers.ChannelAPI},
		{Name: "Aysel", Role: "operator", Channel: "email"},
	} {
		require.ErrorIs(t, desk.Drop(ctx, cut, bad), routers.ErrBadOperator, "%+v", bad)
	}
	shown, err := desk.Show(ctx, cut)
	require.NoError(t, err)
	require.Equal(t, routers.DeadLetterOpen, shown.State, "no one said properly dropped nothing")

	got, err := desk.Actions(ctx, 0, 100)
	require.NoError(t, err)
	type row struct {
		Who     string
		How     routers.Channel
		What    routers.ActionKind
		Letter  int64
		Appeal  string
		Outcome routers.Outcome
	}
	var rows []row
	for _, a := range got {
		require.Equal(t, at, a.At, "by the hub's clock")
		require.Equal(t, "operator", a.Operator.Role)
		rows = append(rows, row{a.Operator.Name, a.Operator.Channel, a.Action, a.DeadLetterID, a.AppealNumber, a.Outcome})
	}
	require.Equal(t, []row{ // newest first
		{"Aysel Məmmədova", routers.ChannelCLI, routers.ActionReplay, 99, "", routers.OutcomeNotFound},
		{"Rəşad", routers.ChannelDashboard, routers.ActionDrop, appeal, "AZ-BIL-2031-000007", routers.OutcomeDone},
		{"Rəşad", routers.ChannelDashboard, routers.ActionReplay, cut, "", routers.OutcomeTruncated},
		{"Rəşad", routers.ChannelDashboard, routers.ActionDrop, poison, "", routers.OutcomeNotOpen},
		{"Aysel Məmmədova", routers.ChannelCLI, routers.ActionReplay, poison, "", routers.OutcomeDone},
	}, rows)
}
