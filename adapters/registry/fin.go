package registry

import "strings"

// finShown is how many leading characters of a FİN MaskFIN keeps: enough to
// tell log lines apart, too few to identify a citizen.
const finShown = 3

// MaskFIN hides a FİN for logs: "5ZJ7K2M" becomes "5ZJ****". A value of
// finShown characters or fewer is hidden entirely.
func MaskFIN(fin string) string {
	r := []rune(fin)
	if len(r) <= finShown {
		return strings.Repeat("*", len(r))
	}
	return string(r[:finShown]) + strings.Repeat("*", len(r)-finShown)
}
