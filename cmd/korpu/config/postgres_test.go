package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPostgresURL: a multi-host URL is accepted only when pgx is told to
// pick the primary, and the hub is never pointed at a standby.
func TestPostgresURL(t *testing.T) {
	t.Parallel()
	const exampleURL = "postgres://postgres@127.0.0.1:5432/korpu?sslmode=disable"
	accepted := []string{
		"postgres://korpu@db-a:5432,db-b:5432/korpu?target_session_attrs=read-write",
		"postgresql://korpu@db-a:5432,db-b:5433,db-c/korpu?sslmode=require&target_session_attrs=primary&connect_timeout=3",
		"postgres://korpu@db-a/korpu?target_session_attrs=any", // one host, though sslmode=prefer tries it twice
		"postgres://korpu@db-a/korpu?target_session_attrs=read-write",
		// pgx reads an unescaped "?" in the password as the password's.
		"postgres://korpu:pa?ss@db-a,db-b/korpu?target_session_attrs=read-write",
	}
	for _, u := range accepted {
		t.Run("Accepted", func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse([]byte(edit(t, example(t), exampleURL, u)), lookup(exampleEnv()), services)
			require.NoError(t, err, u)
			require.Equal(t, u, cfg.Postgres.URL)
		})
	}
	refused := []struct{ name, url, message string }{
		{"HostsWithoutAttrs", "postgres://korpu@db-a:5432,db-b:5432/korpu", "lists 2 hosts without target_session_attrs=read-write"},
		{"HostsWithAny", "postgres://korpu@db-a,db-b,db-c/korpu?target_session_attrs=any", "lists 3 hosts without target_session_attrs=read-write"},
		{"HostsPreferStandby", "postgres://korpu@db-a,db-b/korpu?target_session_attrs=prefer-standby", "target_session_attrs=prefer-standby would connect the hub"},
		{"OneHostReadOnly", "postgres://korpu@db-a/korpu?target_session_attrs=read-only", "target_session_attrs=read-only would connect the hub"},
		{"RepeatedAttrsLastWins", "postgres://korpu@db-a,db-b/korpu?target_session_attrs=read-write&target_session_attrs=any", "lists 2 hosts without"},
		{"UnknownAttrs", "postgres://korpu@db-a,db-b/korpu?target_session_attrs=master", "not a valid URL"},
		{"MultiHostMalformed", "postgres://korpu@db-a:5432,[::1/korpu?target_session_attrs=read-write", "not a valid URL"},
		// The "query" is the password's: pgx sees no target_session_attrs.
		{"AttrsInPassword", "postgres://korpu:x?target_session_attrs=read-write&y@db-a,db-b/korpu", "lists 2 hosts without"},
		{"PasswordNotQuoted", "postgres://korpu:S3CRET@db-a:port,db-b/korpu", "not a valid URL"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			problems := problemsOf(t, edit(t, example(t), exampleURL, tt.url), exampleEnv())
			require.Len(t, problems, 1, "%v", problems)
			require.Equal(t, "postgres.url", problems[0].Key)
			require.Contains(t, problems[0].Message, tt.message)
			require.NotContains(t, problems[0].Message, "S3CRET")
		})
	}
}

// TestPostgresURLEnvAttrs: pgx takes target_session_attrs from the
// environment when the URL has none; the hub's check reads what pgx read.
func TestPostgresURLEnvAttrs(t *testing.T) {
	t.Setenv("PGTARGETSESSIONATTRS", "standby")
	ps := &problems{}
	ps.postgresURL("postgres.url", "postgres://korpu@db-a/korpu")
	require.Len(t, ps.list, 1)
	require.Contains(t, ps.list[0].Message, "target_session_attrs=standby would connect the hub")

	t.Setenv("PGTARGETSESSIONATTRS", "read-write")
	ps = &problems{}
	ps.postgresURL("postgres.url", "postgres://korpu@db-a,db-b/korpu")
	require.Empty(t, ps.list)
}

// TestMaskURLHosts: a multi-host URL is logged with every host and no password.
func TestMaskURLHosts(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://korpu:***@db-a:5432,db-b:5432/korpu?target_session_attrs=read-write",
		maskURL("postgres://korpu:S3CRET@db-a:5432,db-b:5432/korpu?target_session_attrs=read-write"))
}
