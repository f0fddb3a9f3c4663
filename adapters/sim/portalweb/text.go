package portalweb

import (
	"net/http"
	"strings"

	"github.com/korpu-az/korpu/adapters/labels"
)

// lang is the language a page is shown in.
type lang string

const (
	az lang = "az"
	en lang = "en"
)

// langCookie remembers the chosen language across pages.
const langCookie = "portal_lang"

// langOf reads ?lang= first (and remembers it), then the cookie;
// Azerbaijani is the default, as on the real portal.
func langOf(w http.ResponseWriter, r *http.Request) lang {
	switch q := r.URL.Query().Get("lang"); q {
	case "az", "en":
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", SameSite: http.SameSiteLaxMode, HttpOnly: true, MaxAge: 365 * 24 * 3600})
		return lang(q)
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value == "en" {
		return en
	}
	return az
}

// words is every fixed text of the pages, in both languages.
var words = map[string][2]string{
	"portal":           {"Elektron hökumət portalı (təlim)", "e-Government portal (training)"},
	"skip":             {"Əsas məzmuna keç", "Skip to main content"},
	"switchLang":       {"English", "Azərbaycanca"},
	"switchLangLabel":  {"Dili dəyiş: English", "Change language: Azərbaycanca"},
	"signInTitle":      {"Portala giriş", "Sign in to the portal"},
	"signInIntro":      {"Təlim üçün nümunə vətəndaşlardan birini seçin. Şəxsiyyət vəsiqəsinin məlumatları reyestrdən alınır.", "Choose one of the demo citizens. The ID-card data comes from the registry."},
	"citizen":          {"Vətəndaş", "Citizen"},
	"signIn":           {"Daxil ol", "Sign in"},
	"signOut":          {"Çıxış", "Sign out"},
	"signedInAs":       {"Daxil olmusunuz:", "Signed in as:"},
	"home":             {"Şəxsi kabinet", "My account"},
	"idCard":           {"Şəxsiyyət vəsiqəsinin məlumatları", "ID-card data"},
	"fin":              {"FİN", "FIN"},
	"surname":          {"Soyad", "Surname"},
	"name":             {"Ad", "Name"},
	"patronymic":       {"Ata adı", "Patronymic"},
	"birthDate":        {"Doğum tarixi", "Date of birth"},
	"gender":           {"Cins", "Gender"},
	"male":             {"kişi", "male"},
	"female":           {"qadın", "female"},
	"birthPlace":       {"Doğum yeri", "Place of birth"},
	"regAddress":       {"Qeydiyyat ünvanı", "Registered address"},
	"card":             {"Vəsiqənin seriyası və nömrəsi", "Card series and number"},
	"issuedAt":         {"Verilmə tarixi", "Issued on"},
	"expiresAt":        {"Etibarlıdır", "Valid until"},
	"issuedBy":         {"Vəsiqəni verən orqan", "Issued by"},
	"registryDown":     {"Reyestr hazırda cavab vermir; məlumatlar sonra görünəcək.", "The registry does not answer now; the data will show later."},
	"newAppeal":        {"Yeni müraciət", "New appeal"},
	"history":          {"Tarixçənə bax", "View history"},
	"historyTitle":     {"Müraciətlərimin tarixçəsi", "My appeals"},
	"district":         {"İcra hakimiyyəti", "Executive authority"},
	"service":          {"Xidmət", "Service"},
	"continue":         {"Davam et", "Continue"},
	"change":           {"Dəyiş", "Change"},
	"chooseTitle":      {"Müraciət: icra hakimiyyəti və xidmət", "Appeal: authority and service"},
	"officials":        {"Qəbul günü", "Reception day"},
	"officialsIntro":   {"Vəzifəli şəxsi və növbəti 4 qəbul günündən birini seçin.", "Choose an official and one of the next 4 reception days."},
	"free":             {"boş yer", "free places"},
	"full":             {"yer qalmayıb", "fully booked"},
	"noOfficials":      {"Bu icra hakimiyyətində qəbul keçirən vəzifəli şəxs yoxdur.", "Nobody holds receptions at this authority."},
	"appealPart":       {"Müraciət", "Appeal"},
	"type":             {"Müraciətin növü", "Type of appeal"},
	"socialStatus":     {"Sosial status", "Social status"},
	"privilege":        {"Güzəşt statusu", "Privilege"},
	"noPrivilege":      {"Yoxdur", "None"},
	"subject":          {"Mövzu", "Subject"},
	"text":             {"Müraciətin mətni (əlavə qeyd)", "Text of the appeal (additional note)"},
	"contact":          {"Əlaqə məlumatları", "Contact details"},
	"phone":            {"Telefon", "Phone"},
	"phoneHint":        {"+994 və 9 rəqəm, məsələn +994501234567", "+994 and 9 digits, e.g. +994501234567"},
	"email":            {"E-poçt", "E-mail"},
	"address":          {"Yaşayış ünvanı", "Address where you live"},
	"workplace":        {"İş yeri", "Workplace"},
	"position":         {"Vəzifə", "Position"},
	"serviceForm":      {"Xidmətin forması", "Service form"},
	"required":         {"mütləqdir", "required"},
	"optional":         {"könüllü", "optional"},
	"choose":           {"Seçin", "Choose"},
	"send":             {"Göndər", "Send"},
	"errorsTitle":      {"Formada səhvlər var", "The form has errors"},
	"sending":          {"Müraciətiniz qeydiyyata alınır…", "Your appeal is being registered…"},
	"sendingNote":      {"Səhifə özü yenilənəcək.", "The page refreshes by itself."},
	"notYet":           {"Müraciət hələ qeydiyyata alınmayıb. O, rədd edilmiş ola bilər; bir az sonra tarixçəyə baxın.", "The appeal is not registered yet. It may have been refused; look at the history a little later."},
	"sent":             {"Müraciətiniz göndərildi", "Your appeal has been sent"},
	"commentSent":      {"Qeydiniz göndərildi", "Your remark has been sent"},
	"number":           {"Nömrə", "Number"},
	"status":           {"Status", "Status"},
	"submittedAt":      {"Göndərilib", "Submitted"},
	"registeredAt":     {"Qeydiyyata alınıb", "Registered"},
	"deadline":         {"Cavab müddəti", "Answer due"},
	"details":          {"Ətraflı", "Details"},
	"detailsTitle":     {"Müraciət", "Appeal"},
	"noAppeals":        {"Müraciət tapılmadı.", "No appeals found."},
	"nextPage":         {"Növbəti səhifə", "Next page"},
	"filter":           {"Süz", "Filter"},
	"all":              {"Hamısı", "All"},
	"timeline":         {"Statusun dəyişməsi", "Status history"},
	"liveNote":         {"Status dəyişdikcə bu hissə özü yenilənir.", "This part updates itself as the status changes."},
	"refresh":          {"Yenilə", "Refresh"},
	"reference":        {"İcra hakimiyyətindəki nömrə", "Authority's reference"},
	"reception":        {"Qəbul", "Reception"},
	"applicant":        {"Müraciət edən", "Applicant"},
	"formFields":       {"Formanın sahələri", "Form fields"},
	"comments":         {"Qeydlər", "Remarks"},
	"noComments":       {"Qeyd yoxdur.", "No remarks."},
	"delivered":        {"çatdırılıb", "delivered"},
	"waiting":          {"gözləyir", "waiting"},
	"failedComment":    {"çatdırıla bilmədi", "could not be delivered"},
	"addComment":       {"Qeyd əlavə et", "Add a remark"},
	"commentText":      {"Qeydiniz", "Your remark"},
	"commentHint":      {"1–5000 simvol; icra hakimiyyətinə göndəriləcək.", "1–5000 characters; it is sent to the authority."},
	"downloadPDF":      {"Müraciəti PDF kimi yüklə", "Download the appeal as PDF"},
	"notFound":         {"Belə müraciət yoxdur.", "No such appeal."},
	"hubError":         {"Sistem hazırda cavab vermir. Bir az sonra yenidən cəhd edin.", "The system does not answer now. Try again a little later."},
	"sendError":        {"Müraciəti göndərmək alınmadı. Yenidən cəhd edin.", "The appeal could not be sent. Try again."},
	"badInput":         {"Sorğu düzgün deyil.", "The request is not valid."},
	"errRequired":      {"doldurulmalıdır.", "is required."},
	"errTooLong":       {"çox uzundur.", "is too long."},
	"errChoice":        {"siyahıdan seçilməlidir.", "must be chosen from the list."},
	"errPhone":         {"+994 və 9 rəqəm olmalıdır.", "must be +994 and 9 digits."},
	"errEmail":         {"düzgün e-poçt ünvanı deyil.", "is not a valid e-mail address."},
	"errControl":       {"idarəedici simvol ehtiva edə bilməz.", "must not contain control characters."},
	"errDayFull":       {"Seçilmiş gündə yer qalmayıb.", "The chosen day is fully booked."},
	"errNoDay":         {"Qəbul günü seçilməlidir.", "A reception day must be chosen."},
	"errSignIn":        {"Belə nümunə vətəndaş yoxdur.", "No such demo citizen."},
	"answerDays":       {"Cavab müddəti: %d iş günü", "Answer due within %d working days"},
	"statusFilterNote": {"Statusa və xidmətə görə süzmək olar.", "You can filter by status and service."},
}

// The contract's codes, in the order the form offers them.
var (
	appealTypes    = []string{"complaint", "application", "proposal"}
	socialStatuses = []string{"employed", "unemployed", "pensioner", "student", "other"}
	privileges     = []string{"war_veteran", "war_disabled", "martyr_family", "idp", "disability_1", "disability_2", "disability_3", "large_family"}
	statuses       = []string{"registered", "delivered", "in_progress", "answered", "rejected", "forwarded", "closed"}
)

// word returns a fixed text in l; an unknown key shows itself, so a typo
// is visible on the page rather than blank.
func (l lang) word(key string) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	return l.pick(w[0], w[1])
}

// enum names a code of a kind; an unknown code shows as sent.
func (l lang) enum(kind, code string) string { return labels.Name(kind, code, l == en) }

// pick chooses the English text when there is one and l is English.
func (l lang) pick(azText, enText string) string {
	if l == en && strings.TrimSpace(enText) != "" {
		return enText
	}
	return azText
}
