package registry_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/registry"
)

func TestMaskFIN(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"5ZJ7K2M", "5ZJ****"},
		{"ABCD", "ABC*"},
		{"ABC", "***"},
		{"", ""},
		{"ƏĞÜŞÇ", "ƏĞÜ**"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, registry.MaskFIN(tt.in))
		})
	}
}
