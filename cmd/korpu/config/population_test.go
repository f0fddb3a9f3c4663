package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// populationConfig parses the example with population_file naming a file
// of content, and returns the config and the problems.
func populationConfig(t *testing.T, content string) (*Config, []Problem) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "population.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	cfg, err := Parse([]byte(example(t)+"population_file: "+path+"\n"), lookup(exampleEnv()), services)
	if err == nil {
		return cfg, nil
	}
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	return nil, verr.Problems
}

func TestPopulationFile(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"YAML": "# residents, 1 January 2026\nAZ-BIL: 104300\nAZ-SAT: 100_900\n",
		"JSON": `{"AZ-BIL": 104300, "AZ-SAT": 100900}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, problems := populationConfig(t, content)
			require.Empty(t, problems)
			require.Equal(t, map[string]int{"AZ-BIL": 104300, "AZ-SAT": 100900}, cfg.Population)
			require.True(t, strings.HasSuffix(cfg.PopulationFile, "population.yaml"))
		})
	}
	cfg, problems := populationConfig(t, "")
	require.Empty(t, problems)
	require.Empty(t, cfg.Population, "an empty file knows no district")

	cfg, err := Parse([]byte(example(t)), lookup(exampleEnv()), services)
	require.NoError(t, err)
	require.Nil(t, cfg.Population, "no population_file, no populations")
}

func TestPopulationFileRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, content, message string }{
		{"UnknownCode", "AZ-BIL: 1\nAZ-XYZ: 2\n", `line 2: "AZ-XYZ" is not an ISO 3166-2:AZ district code`},
		{"Duplicate", "AZ-BIL: 1\nAZ-SAT: 2\nAZ-BIL: 3\n", `[3:1] mapping key "AZ-BIL" already defined at [1:1]`},
		{"DuplicateInJSON", `{"AZ-BIL": 1, "AZ-BIL": 3}`, "already defined"},
		{"Zero", "AZ-BIL: 0\n", "line 1: AZ-BIL: residents must be positive"},
		{"Negative", "AZ-BIL: -5\n", "residents must be positive"},
		{"Fraction", "AZ-BIL: 104.3\n", "residents must be a whole number"},
		{"Text", "AZ-BIL: many\n", "residents must be a whole number"},
		{"TooMany", "AZ-BIL: 20000001\n", "more than 20000000 residents"},
		{"Huge", "AZ-BIL: 18446744073709551615\n", "more than 20000000 residents"},
		{"Overflow", "AZ-BIL: 99999999999999999999999\n", "residents must be a whole number"},
		{"List", "- AZ-BIL\n", "must map district codes to residents"},
		{"KeyNotText", "1: 1\n", "a key must be a district code"},
		{"Broken", "AZ-BIL: [1\n", "population.yaml"},
		{"TooLarge", "AZ-BIL: 1\n#" + strings.Repeat("x", MaxPopulationFile) + "\n", "larger than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, problems := populationConfig(t, tc.content)
			require.Len(t, problems, 1, "%v", problems)
			require.Equal(t, "population_file", problems[0].Key)
			require.Positive(t, problems[0].Line, "the config's line")
			require.Contains(t, problems[0].Message, tc.message)
		})
	}
	_, problems := populationConfig(t, "AZ-BIL: 0\nAZ-XYZ: 1\n")
	require.Len(t, problems, 2, "every problem at once")

	for _, path := range []string{"/nonexistent/population.yaml", "testdata"} {
		_, err := Parse([]byte(example(t)+"population_file: "+path+"\n"), lookup(exampleEnv()), services)
		var verr *ValidationError
		require.ErrorAs(t, err, &verr, path)
		require.Equal(t, "population_file", verr.Problems[0].Key)
	}
}
