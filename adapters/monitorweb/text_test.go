package monitorweb

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryWordExists: each text a template, a column or the period
// selector names is in both languages (an unknown key would show itself
// on the page).
func TestEveryWordExists(t *testing.T) {
	t.Parallel()
	var keys []string
	files, err := fs.Glob(templateFS, "templates/*.html")
	require.NoError(t, err)
	for _, name := range files {
		b, err := fs.ReadFile(templateFS, name)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`\bT "(\w+)"`).FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	require.Greater(t, len(keys), 50)
	for _, c := range columns {
		keys = append(keys, c.Label)
	}
	for _, k := range periodLabels {
		keys = append(keys, k)
	}
	for _, k := range keys {
		w, ok := words[k]
		require.True(t, ok, "words[%q]", k)
		require.NotEmpty(t, w[0], k)
		require.NotEmpty(t, w[1], k)
	}
}
