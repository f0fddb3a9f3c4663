// Package labels names the contract's codes for people, in Azerbaijani and
// English: appeal types, statuses, social and privilege statuses, and
// weekdays; and the hub's own codes the monitors see: dead letters' kinds,
// the access list's roles, and operators' actions, channels and outcomes.
// The portal's training page and the monitors' dashboard show the
// same words for the same codes. (The printed appeal and the ESD adapter
// keep their own: they follow the ESD mapping table of contract §5.)
package labels

// Name names a code of a kind ("type", "status", "social_status",
// "privilege_status", "weekday", "dead_letter_kind", "role",
// "operator_action", "channel", "outcome") in Azerbaijani, or in English when
// english is set; an unknown kind or code shows as the code itself.
func Name(kind, code string, english bool) string {
	w, ok := names[kind][code]
	switch {
	case !ok:
		return code
	case english:
		return w[1]
	}
	return w[0]
}

// names holds each kind's codes with their Azerbaijani and English names.
var names = map[string]map[string][2]string{
	"type": {
		"complaint":   {"Şikayət", "Complaint"},
		"application": {"Ərizə", "Application"},
		"proposal":    {"Təklif", "Proposal"},
	},
	"social_status": {
		"employed":   {"İşləyir", "Employed"},
		"unemployed": {"İşsiz", "Unemployed"},
		"pensioner":  {"Pensiyaçı", "Pensioner"},
		"student":    {"Tələbə", "Student"},
		"other":      {"Digər", "Other"},
	},
	"privilege_status": {
		"war_veteran":   {"Müharibə veteranı", "War veteran"},
		"war_disabled":  {"Müharibə əlili", "Disabled in war"},
		"martyr_family": {"Şəhid ailəsi", "Martyr's family"},
		"idp":           {"Məcburi köçkün", "Internally displaced person"},
		"disability_1":  {"I qrup əlil", "Disability, group I"},
		"disability_2":  {"II qrup əlil", "Disability, group II"},
		"disability_3":  {"III qrup əlil", "Disability, group III"},
		"large_family":  {"Çoxuşaqlı ailə", "Large family"},
	},
	"status": {
		"invalid":     {"Qəbul edilmədi", "Not accepted"},
		"registered":  {"Qeydiyyata alınıb", "Registered"},
		"delivered":   {"İcra hakimiyyətinə çatdırılıb", "Delivered to the authority"},
		"in_progress": {"Baxılır", "In progress"},
		"answered":    {"Cavablandırılıb", "Answered"},
		"rejected":    {"Rədd edilib", "Rejected"},
		"forwarded":   {"Aidiyyəti üzrə göndərilib", "Forwarded"},
		"closed":      {"Bağlanıb", "Closed"},
		"commented":   {"Qeyd çatdırılıb", "Remark delivered"},
	},
	"dead_letter_kind": {
		"poison":  {"Zədəli mesaj", "Poisoned message"},
		"appeal":  {"Müraciətin çatdırılması", "Appeal's delivery"},
		"comment": {"Qeydin çatdırılması", "Remark's delivery"},
	},
	"role": {
		"portal":   {"portal", "portal"},
		"monitor":  {"monitor", "monitor"},
		"operator": {"operator", "operator"},
	},
	"operator_action": {
		"dead_letter.replay": {"Yenidən göndərmə", "Replay"},
		"dead_letter.drop":   {"Ləğv", "Drop"},
	},
	"channel": {
		"api":       {"API", "API"},
		"cli":       {"Komanda sətri (korpu dlq)", "Command line (korpu dlq)"},
		"dashboard": {"Panel", "Dashboard"},
	},
	"outcome": {
		"done":      {"Edildi", "Done"},
		"not_open":  {"Artıq açıq deyildi", "No longer open"},
		"not_found": {"Belə məktub yoxdur", "No such letter"},
		"truncated": {"Kəsik məktub, göndərilmədi", "Truncated, not replayed"},
	},
	"weekday": {
		"monday":    {"bazar ertəsi", "Monday"},
		"tuesday":   {"çərşənbə axşamı", "Tuesday"},
		"wednesday": {"çərşənbə", "Wednesday"},
		"thursday":  {"cümə axşamı", "Thursday"},
		"friday":    {"cümə", "Friday"},
		"saturday":  {"şənbə", "Saturday"},
		"sunday":    {"bazar", "Sunday"},
	},
}
