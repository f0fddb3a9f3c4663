package access_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	operator := access.Party{Name: "duty-operator", Role: access.RoleOperator}
	monitor := access.Party{Name: "central-monitors", Role: access.RoleMonitor}
	tokens := access.NewTokens(access.NewTable(map[string]access.Party{"op-token": operator, "mon-token": monitor}))

	p, ok := tokens.Lookup("op-token")
	require.True(t, ok)
	require.Equal(t, operator, p)
	for _, wrong := range []string{"", "op-toke", "op-token "} {
		_, ok := tokens.Lookup(wrong)
		require.False(t, ok, wrong)
	}

	// A party's key follows its token: the same token on another table
	// gives the same key, a new token another; a name with another role none.
	key, ok := tokens.Key(operator)
	require.True(t, ok)
	again, _ := access.NewTable(map[string]access.Party{"op-token": operator}).Key(operator)
	require.Equal(t, key, again)
	renewed, _ := access.NewTable(map[string]access.Party{"op-token-2": operator}).Key(operator)
	require.NotEqual(t, key, renewed)
	_, ok = tokens.Key(access.Party{Name: "duty-operator", Role: access.RoleMonitor})
	require.False(t, ok)

	tokens.Swap(access.NewTable(map[string]access.Party{"op-token-2": operator}))
	_, ok = tokens.Lookup("op-token")
	require.False(t, ok, "the old table is gone")
	_, ok = tokens.Lookup("op-token-2")
	require.True(t, ok)

	empty := access.NewTokens(nil)
	_, ok = empty.Lookup("op-token")
	require.False(t, ok, "no table admits no one")
	_, ok = empty.Key(operator)
	require.False(t, ok)
}
