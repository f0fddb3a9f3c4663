package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
)

// TestParseRefusesWeakAndSharedSecrets: a short token or key, or one value
// used twice (a monitor token that is also two districts' callback token),
// refuses the file, naming each key and never the value.
func TestParseRefusesWeakAndSharedSecrets(t *testing.T) {
	t.Parallel()
	t.Run("Short", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"KORPU_PORTAL_KEY", "KORPU_PORTAL_TOKEN", "KORPU_MONITOR_TOKEN", "KORPU_OPERATOR_TOKEN",
			"KORPU_REGISTRY_TOKEN", "SAT_TOKEN", "SAT_CALLBACK_TOKEN"} {
			env := exampleEnv()
			env[name] = "x"
			got := problemsOf(t, example(t), env)
			require.Len(t, got, 1, name)
			require.Contains(t, got[0].Message, "1 characters: a token or key needs at least 32", name)
		}
		env := exampleEnv()
		env["KORPU_MONITOR_TOKEN"] = strings.Repeat("a", 31)
		got := problemsOf(t, example(t), env)
		require.Equal(t, "monitor.token", got[0].Key)
		env["KORPU_MONITOR_TOKEN"] = strings.Repeat("ə", 32) // characters, not bytes
		_, err := Parse([]byte(example(t)), lookup(env), services)
		require.NoError(t, err)
	})
	t.Run("ShortESDPasswordAllowed", func(t *testing.T) {
		t.Parallel()
		env := exampleEnv()
		env["BIL_ESD_PASSWORD"] = "vendor-pw"
		_, err := Parse([]byte(example(t)), lookup(env), services)
		require.NoError(t, err)
	})
	t.Run("Shared", func(t *testing.T) {
		t.Parallel()
		src := edit(t, example(t), "    token: ${SAT_TOKEN}", "    token: ${KORPU_MONITOR_TOKEN}")
		src = edit(t, src, "    callback_token: ${SAT_CALLBACK_TOKEN}", "    callback_token: ${KORPU_MONITOR_TOKEN}")
		src = edit(t, src, "    password: ${BIL_ESD_PASSWORD}", "    password: ${KORPU_OPERATOR_TOKEN}")
		got := problemsOf(t, src, exampleEnv())
		var msgs []string
		for _, p := range got {
			msgs = append(msgs, p.Key+": "+p.Message)
			require.NotContains(t, p.String(), "S3CRET", "the value is never shown")
		}
		require.Equal(t, []string{
			"districts[AZ-BIL].password: the same value as access[1].token: every token, key and password must be unique",
			"districts[AZ-SAT].token: the same value as monitor.token: every token, key and password must be unique",
			"districts[AZ-SAT].callback_token: the same value as monitor.token: every token, key and password must be unique",
		}, msgs)
	})
	t.Run("SigningKeyAsToken", func(t *testing.T) {
		t.Parallel()
		env := exampleEnv()
		env["KORPU_PORTAL_TOKEN"] = env["KORPU_PORTAL_KEY"]
		got := problemsOf(t, example(t), env)
		require.Len(t, got, 1)
		require.Equal(t, "portal.token", got[0].Key)
		require.Equal(t, "the same value as portal.signing_key: every token, key and password must be unique", got[0].Message)
	})
}

func TestParseAccessList(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, old, replacement, key, message string
	}{
		{"DuplicateName", "  - name: duty-operator", "  - name: central-monitors", "access[1].name", `duplicate "central-monitors" (also at access[0].name)`},
		{"ShorthandName", "  - name: duty-operator", "  - name: monitor", "access[1].name", `duplicate "monitor" (also at monitor.token)`},
		{"BadName", "  - name: duty-operator", "  - name: duty operator", "access[1].name", "must be 1 to 64 letters"},
		{"UnknownRole", "    role: operator", "    role: admin", "access[1].role", `"admin" is not portal, monitor or operator`},
		{"NoRole", "    role: operator\n", "", "access[1].role", "required"},
		{"NoToken", "    token: ${KORPU_OPERATOR_TOKEN}\n", "", "access[1].token", "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := problemsOf(t, edit(t, example(t), tc.old, tc.replacement), exampleEnv())
			require.Len(t, got, 1, "%v", got)
			require.Equal(t, tc.key, got[0].Key)
			require.Contains(t, got[0].Message, tc.message)
		})
	}
}

func TestParseSigningKeys(t *testing.T) {
	t.Parallel()
	const one = "  signing_key: ${KORPU_PORTAL_KEY}      # HMAC-SHA256 key for x-signature; a message that fails it is refused\n"
	env := exampleEnv()
	env["KORPU_PORTAL_KEY_2"] = "portal-key-next-S3CRET12-0123456789abcdef"
	src := edit(t, example(t), one, "  signing_keys:\n    - { id: \"k-old\", key: \"${KORPU_PORTAL_KEY}\" }\n    - { id: \"k-new\", key: \"${KORPU_PORTAL_KEY_2}\" }\n")
	cfg, err := Parse([]byte(src), lookup(env), services)
	require.NoError(t, err)
	require.Equal(t, []SigningKey{{ID: "k-old", Key: env["KORPU_PORTAL_KEY"]}, {ID: "k-new", Key: env["KORPU_PORTAL_KEY_2"]}}, cfg.Portal.SigningKeys)

	got := problemsOf(t, edit(t, src, `id: "k-new"`, `id: "k-old"`), env)
	require.Equal(t, "portal.signing_keys[1].id", got[0].Key)
	require.Contains(t, got[0].Message, `duplicate "k-old"`)

	got = problemsOf(t, edit(t, src, `key: "${KORPU_PORTAL_KEY_2}"`, `key: "${KORPU_PORTAL_KEY}"`), env)
	require.Equal(t, "portal.signing_keys[1].key", got[0].Key)
	require.Contains(t, got[0].Message, "the same value as portal.signing_keys[0].key")

	got = problemsOf(t, edit(t, src, "\n  signing_keys:\n", "\n"+one+"  signing_keys:\n"), env)
	require.Equal(t, "portal.signing_keys", got[0].Key)
	require.Contains(t, got[0].Message, "not both")

	got = problemsOf(t, edit(t, example(t), one, "  signing_keys: []\n"), env)
	require.Equal(t, "portal.signing_key", got[0].Key)
}

func TestParseAccessRoles(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(example(t)), lookup(exampleEnv()), services)
	require.NoError(t, err)
	roles := map[string]access.Role{}
	for _, p := range cfg.Access {
		roles[p.Name] = p.Role
	}
	require.Equal(t, map[string]access.Role{PortalParty: access.RolePortal, MonitorParty: access.RoleMonitor,
		"central-monitors": access.RoleMonitor, "duty-operator": access.RoleOperator}, roles)
}
