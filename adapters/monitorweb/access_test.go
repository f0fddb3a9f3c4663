package monitorweb_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
)

// TestSignInRoles: monitors and operators sign in, each with a session of
// their own name; the portal's token opens nothing here; a party's new
// token ends its sessions only.
func TestSignInRoles(t *testing.T) {
	t.Parallel()
	f := setup(t)
	operator := f.signIn(t, operatorToken, "", nil)
	require.NotNil(t, operator, "an operator signs in")
	require.Contains(t, operator.Value, "v2.duty-operator.operator.")
	require.Nil(t, f.signIn(t, portalToken, "", nil), "the portal has no dashboard")
	rec := f.getWith(t, "/monitor/", nil, "Authorization", "Bearer "+portalToken)
	require.Equal(t, http.StatusUnauthorized, rec.Code)

	// The operator's token changes; the monitor's does not.
	f.access.Swap(access.NewTable(map[string]access.Party{token: centralMonitors, operatorToken + "-new": dutyOperator}))
	require.Equal(t, http.StatusOK, f.getWith(t, "/monitor/", f.cookie).Code, "the monitor's session goes on")
	require.Equal(t, http.StatusUnauthorized, f.getWith(t, "/monitor/", operator).Code, "the operator's old session ended")
	require.NotNil(t, f.signIn(t, operatorToken+"-new", "", nil))
	require.Nil(t, f.signIn(t, operatorToken, "", nil))

	// A party removed from the list: its sessions end.
	f.access.Swap(access.NewTable(map[string]access.Party{operatorToken + "-new": dutyOperator}))
	require.Equal(t, http.StatusUnauthorized, f.getWith(t, "/monitor/", f.cookie).Code)
}
