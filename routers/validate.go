package routers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// Limits of contract §1.
const (
	MaxBodyBytes       = 256 << 10
	maxSubjectRunes    = 200
	maxAppealTextRunes = 10000
	maxCommentRunes    = 5000
	maxAttachments     = 10
	maxShortFieldRunes = 500
	receptionDays      = 4
)

// The law's answer periods, in working days from registration: the
// deadline, and the longest a district may extend it to.
const (
	AnswerWorkingDays         = 15
	ExtendedAnswerWorkingDays = 30
)

var (
	finPattern    = regexp.MustCompile(`^[0-9A-HJ-NP-Z]{7}$`)
	phonePattern  = regexp.MustCompile(`^\+994[0-9]{9}$`)
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	mimePattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$`)
	numberPattern = regexp.MustCompile(`^AZ-[A-Z]{2,3}(-[A-Z]{1,3})?-[0-9]{4}-[0-9]{6}$`)
)

var (
	appealTypes    = set("complaint", "application", "proposal")
	socialStatuses = set("employed", "unemployed", "pensioner", "student", "other")
	privileges     = set("war_veteran", "war_disabled", "martyr_family", "idp", "disability_1", "disability_2", "disability_3", "large_family")
)

// The fields of contract §1, for rejecting what it does not define.
var (
	requestKeys    = set("kind", "id", "submitted_at", "district", "service", "citizen", "appeal", "reception", "form", "attachments")
	commentKeys    = set("kind", "id", "submitted_at", "citizen", "appeal_number", "text")
	citizenKeys    = set("fin", "phone", "email", "workplace", "position", "address")
	appealKeys     = set("type", "social_status", "privilege_status", "subject", "text")
	receptionKeys  = set("official_id", "date")
	attachmentKeys = set("name", "content_type", "size", "sha256", "url")
)

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// Bilingual joins a message's Azerbaijani and English ("az / en"), as the
// portal shows field errors.
func Bilingual(az, en string) string { return az + " / " + en }

// Validator checks a portal message against the contract, the service
// catalogue, the districts' offer and the reception calendar.
type Validator struct {
	Catalogue *catalogue.Catalogue
	Calendar  *calendar.Calendar
	Directory Directory
}

// problems collects FieldErrors in the order they are found.
type problems []FieldError

// add reports a problem of field. Field names and messages may quote the
// citizen's own keys and values, so forbidden characters in them are
// written as escapes: the portal never receives a control character.
func (p *problems) add(field, az, en string) {
	*p = append(*p, FieldError{Field: escapeForbidden(field), Message: escapeForbidden(Bilingual(az, en))})
}

func (p *problems) required(field string) {
	p.add(field, "Sahə mütləqdir.", "The field is required.")
}

// ReceptionDays are the official's next reception days after now: the
// dates a reception request may name, and the ones the portal offers.
func (v *Validator) ReceptionDays(o Official, now time.Time) ([]time.Time, error) {
	days, err := v.Calendar.NextWorkingDays(now, receptionDays, o.receives)
	if err != nil {
		return nil, fmt.Errorf("reception days of %s: %w", o.ID, err)
	}
	return days, nil
}

// BookingFor returns the reception place a valid reception request takes.
func (v *Validator) BookingFor(r *Request) *Booking {
	if r.Service != "reception-booking" || r.Reception == nil {
		return nil
	}
	official := v.Directory.Districts[r.District].Officials[r.Reception.OfficialID]
	day, err := time.ParseInLocation(time.DateOnly, r.Reception.Date, Baku)
	if err != nil {
		return nil
	}
	return &Booking{OfficialID: official.ID, Date: r.Reception.Date, Capacity: official.CapacityOn(day.Weekday())}
}

// ValidateRequest checks a request of kind "request" decoded from body; now
// is when it reached the hub. It returns every problem found.
func (v *Validator) ValidateRequest(body []byte, r *Request, now time.Time) []FieldError {
	var p problems
	unknownFields(&p, body)
	duplicateKeys(&p, body)
	v.checkCommon(&p, r.ID, r.SubmittedAt, now)
	v.checkCitizen(&p, r.Citizen)

	district, knownDistrict := v.Directory.Districts[r.District]
	switch {
	case r.District == "":
		p.required("district")
	case !knownDistrict:
		p.add("district", "Bu kodla yerli icra hakimiyyəti hub-a qoşulmayıb.", "No local executive authority with this code is connected to the hub.")
	}

	service, knownService := v.Catalogue.Lookup(r.Service)
	switch {
	case r.Service == "":
		p.required("service")
	case !knownService:
		p.add("service", "Belə xidmət yoxdur.", "There is no such service.")
	case service.Withdrawn:
		p.add("service", "Bu xidmət ləğv edilib: "+service.WithdrawnReason, "This service has been withdrawn: "+service.WithdrawnReasonEN)
	case knownDistrict && !district.Offers(r.Service):
		p.add("service", "Seçilmiş yerli icra hakimiyyəti bu xidməti göstərmir.", "The chosen local executive authority does not offer this service.")
	}

	v.checkAppeal(&p, r.Appeal)

	if r.Service == "reception-booking" {
		if r.Reception == nil {
			p.required("reception")
		} else if knownDistrict {
			v.checkReception(&p, district, *r.Reception, now)
		}
	} else if r.Reception != nil {
		p.add("reception", "Qəbul yalnız reception-booking xidmətində göstərilir.", "A reception is given only with the reception-booking service.")
	}

	if knownService && !service.Withdrawn {
		if service.HasForm() {
			for _, problem := range service.ValidateForm(r.Form) {
				p.add(problem.Field, problem.AZ, problem.EN)
			}
		} else if r.Form != nil {
			p.add("form", "Bu xidmətin forması yoxdur.", "This service has no form.")
		}
	}
	checkAttachments(&p, r.Attachments)
	if !checkCharacters(&p, r) {
		checkRawEscapes(&p, body)
	}
	return p
}

// ValidateComment checks a message of kind "comment".
func (v *Validator) ValidateComment(body []byte, r *Request, now time.Time) []FieldError {
	var p problems
	unknownFields(&p, body)
	duplicateKeys(&p, body)
	v.checkCommon(&p, r.ID, r.SubmittedAt, now)
	checkFIN(&p, r.Citizen.FIN)
	switch {
	case r.AppealNo == "":
		p.required("appeal_number")
	case !numberPattern.MatchString(r.AppealNo):
		p.add("appeal_number", "Müraciət nömrəsi düzgün deyil.", "The appeal number is malformed.")
	}
	checkText(&p, "text", r.Text, maxCommentRunes)
	if !checkCharacters(&p, r) {
		checkRawEscapes(&p, body)
	}
	return p
}

func (v *Validator) checkCommon(p *problems, id, submittedAt string, now time.Time) {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		p.add("id", "Sorğunun identifikatoru UUID deyil.", "The request id is not a UUID.")
	}
	switch at, err := time.Parse(time.RFC3339, submittedAt); {
	case submittedAt == "":
		p.required("submitted_at")
	case err != nil:
		p.add("submitted_at", "Tarix RFC 3339 formatında (saat qurşağı ilə) olmalıdır.", "The time must be RFC 3339 with an offset.")
	case at.After(now.Add(5 * time.Minute)):
		p.add("submitted_at", "Göndərilmə vaxtı gələcəkdədir.", "The submission time is in the future.")
	}
}

// ValidFIN reports whether fin has the shape of a personal number (FİN).
func ValidFIN(fin string) bool { return finPattern.MatchString(fin) }

// ValidAppealNumber reports whether n has the shape of a number the hub
// gives out (FormatAppealNumber), so a reader can refuse any other early.
func ValidAppealNumber(n string) bool { return numberPattern.MatchString(n) }

func checkFIN(p *problems, fin string) {
	switch {
	case fin == "":
		p.required("citizen.fin")
	case !finPattern.MatchString(fin):
		p.add("citizen.fin", "FİN 7 simvoldur: rəqəmlər və I, O-dan başqa böyük latın hərfləri.", "The FIN is 7 characters: digits and capital Latin letters except I and O.")
	}
}

func (v *Validator) checkCitizen(p *problems, c Citizen) {
	checkFIN(p, c.FIN)
	switch {
	case c.Phone == "":
		p.required("citizen.phone")
	case !phonePattern.MatchString(c.Phone):
		p.add("citizen.phone", "Telefon +994 və 9 rəqəmli nömrə olmalıdır.", "The phone must be +994 and a 9-digit national number.")
	}
	if c.Email != "" {
		if addr, err := mail.ParseAddress(c.Email); err != nil || addr.Address != c.Email || len(c.Email) > 254 {
			p.add("citizen.email", "E-poçt ünvanı düzgün deyil.", "The e-mail address is malformed.")
		}
	}
	checkOptionalShort(p, "citizen.workplace", c.Workplace)
	checkOptionalShort(p, "citizen.position", c.Position)
	if strings.TrimSpace(c.Address) == "" {
		p.required("citizen.address")
	} else {
		checkOptionalShort(p, "citizen.address", c.Address)
	}
}

func checkOptionalShort(p *problems, field, s string) {
	if utf8.RuneCountInString(s) > maxShortFieldRunes {
		p.add(field, fmt.Sprintf("Ən çoxu %d simvol ola bilər.", maxShortFieldRunes), fmt.Sprintf("At most %d characters.", maxShortFieldRunes))
	}
}

func checkText(p *problems, field, s string, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case strings.TrimSpace(s) == "":
		p.required(field)
	case n > max:
		p.add(field, fmt.Sprintf("Mətn ən çoxu %d simvol ola bilər (%d verilib).", max, n), fmt.Sprintf("The text may have at most %d characters (%d given).", max, n))
	}
}

func (v *Validator) checkAppeal(p *problems, a AppealForm) {
	switch {
	case a.Type == "":
		p.required("appeal.type")
	case !appealTypes[a.Type]:
		p.add("appeal.type", "Növ complaint, application və ya proposal olmalıdır.", "The type must be complaint, application or proposal.")
	}
	switch {
	case a.SocialStatus == "":
		p.required("appeal.social_status")
	case !socialStatuses[a.SocialStatus]:
		p.add("appeal.social_status", "Sosial status tanınmır.", "Unknown social status.")
	}
	if a.PrivilegeStatus != "" && !privileges[a.PrivilegeStatus] {
		p.add("appeal.privilege_status", "Güzəşt statusu tanınmır.", "Unknown privilege status.")
	}
	if n := utf8.RuneCountInString(a.Subject); n > maxSubjectRunes {
		p.add("appeal.subject", fmt.Sprintf("Mövzu ən çoxu %d simvol ola bilər.", maxSubjectRunes), fmt.Sprintf("The subject may have at most %d characters.", maxSubjectRunes))
	}
	checkText(p, "appeal.text", a.Text, maxAppealTextRunes)
}

func (v *Validator) checkReception(p *problems, d DistrictInfo, r Reception, now time.Time) {
	official, ok := d.Officials[r.OfficialID]
	if r.OfficialID == "" {
		p.required("reception.official_id")
	} else if !ok {
		p.add("reception.official_id", "Bu vəzifəli şəxs seçilmiş icra hakimiyyətində qəbul keçirmir.", "This official does not hold receptions at the chosen authority.")
	}
	day, err := time.ParseInLocation(time.DateOnly, r.Date, Baku)
	switch {
	case r.Date == "":
		p.required("reception.date")
		return
	case err != nil:
		p.add("reception.date", "Tarix YYYY-MM-DD formatında olmalıdır.", "The date must be YYYY-MM-DD.")
		return
	case !ok:
		return
	}
	days, err := v.ReceptionDays(official, now)
	if err != nil {
		p.add("reception.date", "Qəbul günləri hələ təqvimdə yoxdur.", "The reception days are not in the holiday calendar yet.")
		return
	}
	for _, d := range days {
		if d.Equal(day) {
			return
		}
	}
	p.add("reception.date", "Seçilmiş tarix vəzifəli şəxsin növbəti 4 qəbul günündən biri deyil.", "The chosen date is not one of the official's next 4 reception days.")
}

func checkAttachments(p *problems, list []Attachment) {
	if len(list) > maxAttachments {
		p.add("attachments", fmt.Sprintf("Ən çoxu %d fayl əlavə edilə bilər.", maxAttachments), fmt.Sprintf("At most %d files may be attached.", maxAttachments))
	}
	for i, a := range list {
		field := fmt.Sprintf("attachments[%d].", i)
		if strings.TrimSpace(a.Name) == "" {
			p.required(field + "name")
		}
		if !mimePattern.MatchString(a.ContentType) {
			p.add(field+"content_type", "Faylın növü (MIME) düzgün deyil.", "The content type is not a MIME type.")
		}
		if a.Size <= 0 {
			p.add(field+"size", "Faylın ölçüsü müsbət olmalıdır.", "The size must be positive.")
		}
		if !sha256Pattern.MatchString(a.SHA256) {
			p.add(field+"sha256", "SHA-256 64 kiçik onaltılıq simvol olmalıdır.", "The SHA-256 must be 64 lowercase hex digits.")
		}
		if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.add(field+"url", "Faylın ünvanı düzgün deyil.", "The file URL is malformed.")
		}
	}
}

// forbiddenRune tells the characters no text of a request may hold: the C0
// controls but TAB, LF and CR, DEL, and the line and paragraph separators.
// PostgreSQL cannot store NUL at all, and the others garble the district
// systems' records and the portal's pages.
func forbiddenRune(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r == '\u2028' || r == '\u2029'
}

// checkRawEscapes catches a forbidden character that the decoded request
// no longer shows but the body as sent (and stored) still holds: a key given
// twice keeps only its last value, so {"text":"\u0000","text":"ok"} decodes
// clean. Run when checkCharacters found nothing, so a request is reported
// once; the field cannot be named, the body as a whole is. Every string of
// the body, keys and overwritten values alike, is read again by
// encoding/json's tokenizer, but only when the body could hold such a
// character at all: an escape, DEL, or a line or paragraph separator.
func checkRawEscapes(p *problems, body []byte) {
	if bytes.IndexByte(body, '\\') < 0 && !bytes.ContainsAny(body, "\x7f\u2028\u2029") {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return // the end, or what Decode has already refused
		}
		s, ok := tok.(string)
		if !ok {
			continue
		}
		if i := strings.IndexFunc(s, forbiddenRune); i >= 0 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			p.add("request", fmt.Sprintf("Sorğuda icazəsiz idarəedici simvol var (U+%04X), təkrarlanan sahədə.", r),
				fmt.Sprintf("The request holds a control character that is not allowed (U+%04X), in a field given twice.", r))
			return
		}
	}
}

// checkCharacters applies forbiddenRune to every string the decoder took
// from the request, at any depth (form values and the keys of maps too), so
// a field added to Request is covered without being listed here. A field
// with a problem already is not reported twice.
// It reports whether it found one.
func checkCharacters(p *problems, r *Request) bool {
	found := false
	var reported map[string]bool // made at the first hit: most requests have none
	walkForbidden(reflect.ValueOf(r).Elem(), make([]string, 0, 8), func(field string, bad rune) {
		found = true
		if reported == nil {
			reported = make(map[string]bool, len(*p)+1)
			for _, e := range *p {
				reported[e.Field] = true
			}
		}
		if reported[escapeForbidden(field)] {
			return
		}
		reported[escapeForbidden(field)] = true
		p.add(field, fmt.Sprintf("Sahədə icazəsiz idarəedici simvol var (U+%04X).", bad),
			fmt.Sprintf("The field holds a control character that is not allowed (U+%04X).", bad))
	})
	return found
}

// walkForbidden calls found with the JSON path ("appeal.text", "form.code",
// "attachments[0].name") and the first forbidden character of every string
// in v that holds one; a map key counts as a string of its entry's path.
// The path is joined only for a hit, so a clean request costs no allocation
// for it.
func walkForbidden(v reflect.Value, path []string, found func(field string, bad rune)) {
	check := func(s string, path []string) {
		if i := strings.IndexFunc(s, forbiddenRune); i >= 0 {
			bad, _ := utf8.DecodeRuneInString(s[i:])
			found(joinPath(path), bad)
		}
	}
	switch v.Kind() {
	case reflect.String:
		check(v.String(), path)
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkForbidden(v.Elem(), path, found)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
				walkForbidden(v.Field(i), append(path, name), found)
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			check(k.String(), append(path, k.String()))
			walkForbidden(v.MapIndex(k), append(path, k.String()), found)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkForbidden(v.Index(i), append(path, "["+strconv.Itoa(i)+"]"), found)
		}
	}
}

// joinPath writes a JSON path: names joined by dots, indexes appended.
func joinPath(segments []string) string {
	var b strings.Builder
	for i, seg := range segments {
		if i > 0 && !strings.HasPrefix(seg, "[") {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// escapeForbidden writes each forbidden character of s as \uXXXX.
func escapeForbidden(s string) string {
	if !strings.ContainsFunc(s, forbiddenRune) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if forbiddenRune(r) {
			fmt.Fprintf(&b, "\\u%04X", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// duplicateKeys reports each key given twice in one object, at any depth.
func duplicateKeys(p *problems, body []byte) {
	for _, field := range DuplicateKeys(body) {
		if field == "" || strings.HasSuffix(field, ".") {
			field += `""` // an empty key still needs a name, as in reportUnknown
		}
		p.add(field, "Sahə bir neçə dəfə verilib.", "The field is given more than once.")
	}
}

// unknownFields reports keys the contract does not define, at every level,
// so a misspelt field is never silently ignored.
func unknownFields(p *problems, body []byte) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return
	}
	allowed := requestKeys
	if string(bytes.TrimSpace(top["kind"])) == `"comment"` {
		allowed = commentKeys
	}
	reportUnknown(p, "", top, allowed)
	nested := map[string]map[string]bool{"citizen": citizenKeys, "appeal": appealKeys, "reception": receptionKeys}
	for key, keys := range nested {
		if raw, ok := top[key]; ok && allowed[key] {
			var obj map[string]json.RawMessage
			if json.Unmarshal(raw, &obj) == nil {
				reportUnknown(p, key+".", obj, keys)
			}
		}
	}
	if raw, ok := top["attachments"]; ok && allowed["attachments"] {
		var list []map[string]json.RawMessage
		if json.Unmarshal(raw, &list) == nil {
			for i, obj := range list {
				reportUnknown(p, fmt.Sprintf("attachments[%d].", i), obj, attachmentKeys)
			}
		}
	}
}

func reportUnknown(p *problems, prefix string, obj map[string]json.RawMessage, allowed map[string]bool) {
	var unknown []string
	for k := range obj {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		if k == "" {
			k = `""` // an empty key still needs a name the citizen can be shown
		}
		p.add(prefix+k, "Müqavilədə belə sahə yoxdur.", "The contract has no such field.")
	}
}

// decodeError turns a JSON type mismatch into a FieldError, in JSON's
// words: the Go type it was meant for is the hub's business.
func decodeError(err error) (FieldError, bool) {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return FieldError{Field: typeErr.Field, Message: Bilingual(
			"Sahənin tipi səhvdir ("+typeErr.Value+" verilib).",
			"The field has the wrong type ("+typeErr.Value+" given, "+JSONKind(typeErr.Type)+" expected).")}, true
	}
	return FieldError{}, false
}

// JSONKind names what a Go type takes in JSON: "a string", "an object" …
func JSONKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
