package document

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/korpu-az/korpu/routers"
)

// words is one language's labels and the names of the contract's codes.
type words struct {
	title, about, number, service, kind, submitted, registered, deadline, status, reference  string
	citizen, fullName, idCard, notFromRegistry, social, privilege, noPrivilege               string
	content, subject, text, form, reception, official, position, day, hours                  string
	timeline, sequence, state, when, note, noEvents, bakuTime, qrCaption, page, omitted, cut string
	kinds, socials, privileges                                                               map[string]string
	statuses                                                                                 map[routers.Status]string
	weekdays                                                                                 [7]string
	english                                                                                  bool
	// upper writes a heading in capitals by the language's rules.
	upper func(string) string
	// date and clock format a calendar day and a moment (already in Baku
	// time); short is clock for a table's narrow column.
	date, clock, short func(time.Time) string
}

// The Azerbaijani names of the social and privilege statuses are those of
// the ESD mapping table (contract §5), so the printed appeal says what the
// district's own system shows.
var az = words{
	title: "Müraciət", about: "Müraciət haqqında", number: "Müraciətin nömrəsi", service: "Xidmət", kind: "Müraciətin növü",
	submitted: "Təqdim edilib", registered: "Qeydiyyata alınıb", deadline: "Cavabın son müddəti",
	status: "Cari vəziyyət", reference: "İcra hakimiyyətində qeydiyyat nömrəsi",
	citizen: "Vətəndaş", fullName: "Soyadı, adı, atasının adı", idCard: "Şəxsiyyət vəsiqəsi",
	notFromRegistry: "reyestrdən hələ daxil olmayıb", social: "Sosial statusu", privilege: "Güzəşt statusu",
	noPrivilege: "yoxdur",
	content:     "Müraciətin məzmunu", subject: "Mövzu", text: "Mətn", form: "Formanın məlumatları",
	reception: "Vətəndaşların qəbulu", official: "Vəzifəli şəxs", position: "Vəzifəsi", day: "Qəbul günü",
	hours:    "Qəbul saatları",
	timeline: "Vəziyyətlərin tarixçəsi", sequence: "№", state: "Vəziyyət", when: "Vaxt", note: "Qeyd",
	noEvents: "Hələ heç bir dəyişiklik olmayıb.", bakuTime: "Vaxt Bakı vaxtı ilə göstərilib.",
	qrCaption: "Müraciətin vəziyyəti portalda", page: "Səhifə %d / %d",
	omitted: "… daha %d qeyd göstərilməyib",
	cut:     "… sənəd %d səhifədən uzun olmur; qalanı portaldadır.",
	kinds:   map[string]string{"complaint": "şikayət", "application": "ərizə", "proposal": "təklif"},
	socials: map[string]string{
		"employed": "İşləyir", "unemployed": "İşsiz", "pensioner": "Pensiyaçı", "student": "Tələbə", "other": "Digər",
	},
	privileges: map[string]string{
		"war_veteran": "Müharibə veteranı", "war_disabled": "Müharibə əlili", "martyr_family": "Şəhid ailəsi",
		"idp": "Məcburi köçkün", "disability_1": "I qrup əlil", "disability_2": "II qrup əlil",
		"disability_3": "III qrup əlil", "large_family": "Çoxuşaqlı ailə",
	},
	statuses: map[routers.Status]string{
		routers.StatusInvalid: "qəbul edilməyib", routers.StatusRegistered: "qeydiyyata alınıb",
		routers.StatusDelivered: "icra hakimiyyətinə çatdırılıb", routers.StatusInProgress: "baxılır",
		routers.StatusAnswered: "cavablandırılıb", routers.StatusRejected: "rədd edilib",
		routers.StatusForwarded: "aidiyyəti üzrə göndərilib", routers.StatusClosed: "bağlanıb",
		routers.StatusCommented: "vətəndaş əlavə bildirib",
	},
	weekdays: [7]string{"bazar", "bazar ertəsi", "çərşənbə axşamı", "çərşənbə", "cümə axşamı", "cümə", "şənbə"},
	upper:    turkishUpper,
	date:     func(t time.Time) string { return t.Format("02.01.2006") },
	clock:    func(t time.Time) string { return t.Format("02.01.2006, 15:04") },
	short:    func(t time.Time) string { return t.Format("02.01.2006, 15:04") },
}

var en = words{
	english: true,
	title:   "Appeal", about: "About the appeal", number: "Appeal number", service: "Service", kind: "Type",
	submitted: "Submitted", registered: "Registered", deadline: "Answer due by",
	status: "Current status", reference: "Authority's reference",
	citizen: "Citizen", fullName: "Full name", idCard: "ID card",
	notFromRegistry: "not yet received from the registry", social: "Social status", privilege: "Privilege status",
	noPrivilege: "none",
	content:     "Content of the appeal", subject: "Subject", text: "Text", form: "Form details",
	reception: "Reception of citizens", official: "Official", position: "Position", day: "Reception day",
	hours:    "Reception hours",
	timeline: "Status history", sequence: "No.", state: "Status", when: "Time", note: "Note",
	noEvents: "No changes yet.", bakuTime: "Times are Baku time (UTC+4).",
	qrCaption: "The appeal's status on the portal", page: "Page %d of %d",
	omitted: "… %d more entries not shown",
	cut:     "… the document stops at %d pages; the rest is on the portal.",
	kinds:   map[string]string{"complaint": "complaint", "application": "application", "proposal": "proposal"},
	socials: map[string]string{
		"employed": "employed", "unemployed": "unemployed", "pensioner": "pensioner", "student": "student", "other": "other",
	},
	privileges: map[string]string{
		"war_veteran": "war veteran", "war_disabled": "disabled war veteran", "martyr_family": "family of a martyr",
		"idp": "internally displaced person", "disability_1": "disability group I", "disability_2": "disability group II",
		"disability_3": "disability group III", "large_family": "large family",
	},
	statuses: map[routers.Status]string{
		routers.StatusInvalid: "not accepted", routers.StatusRegistered: "registered",
		routers.StatusDelivered: "delivered to the authority", routers.StatusInProgress: "in progress",
		routers.StatusAnswered: "answered", routers.StatusRejected: "rejected",
		routers.StatusForwarded: "forwarded to the competent body", routers.StatusClosed: "closed",
		routers.StatusCommented: "citizen added a comment",
	},
	weekdays: [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	upper:    strings.ToUpper, // Turkic casing would write English "i" as "İ"
	date:     func(t time.Time) string { return t.Format("2 January 2006") },
	clock:    func(t time.Time) string { return t.Format("2 January 2006, 15:04") },
	short:    func(t time.Time) string { return t.Format("2 Jan 2006, 15:04") },
}

// turkishUpper writes Azerbaijani in capitals: i → İ, ı → I.
func turkishUpper(s string) string { return strings.ToUpperSpecial(unicode.TurkishCase, s) }

// wordsFor returns the labels of lang: "az" (also the default) or "en".
func wordsFor(lang string) (*words, error) {
	switch lang {
	case "", "az":
		return &az, nil
	case "en":
		return &en, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrLanguage, lang)
}

// pick is the English text in English when there is one, else the Azerbaijani.
func (w *words) pick(azText, enText string) string {
	if w.english && enText != "" {
		return enText
	}
	return azText
}

// code names a contract code in words; an unknown one is shown as sent.
func code(names map[string]string, c string) string {
	if w, ok := names[c]; ok {
		return w
	}
	return c
}

// statusWord names a status in words; an unknown one is shown as sent.
func (w *words) statusWord(s routers.Status) string {
	if name, ok := w.statuses[s]; ok {
		return name
	}
	return string(s)
}

// moment formats t in Baku time with format; the zero time is a dash.
func moment(t time.Time, format func(time.Time) string) string {
	if t.IsZero() {
		return "—"
	}
	return format(t.In(routers.Baku))
}

// calendarDay formats a YYYY-MM-DD date, with its weekday if asked;
// anything else is shown as it is.
func (w *words) calendarDay(s string, weekday bool) string {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	out := w.date(d)
	if weekday {
		out += ", " + w.weekdays[d.Weekday()]
	}
	return out
}
