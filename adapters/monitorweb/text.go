package monitorweb

import (
	"strconv"
	"strings"

	"github.com/korpu-az/korpu/adapters/labels"
)

// lang is the language a page is shown in: Azerbaijani unless ?lang=en.
// It travels in every link and form of the page, so a page's address
// alone says how it looks (no cookie to forget or to disagree with).
type lang string

const (
	az lang = "az"
	en lang = "en"
)

// Other is the language the toggle link offers.
func (l lang) Other() lang {
	if l == en {
		return az
	}
	return en
}

// word returns a fixed text in l; an unknown key shows itself, so a typo
// is visible on the page rather than blank.
func (l lang) word(key string) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	if l == en {
		return w[1]
	}
	return w[0]
}

// enum names a code of a kind: a contract's code (labels) or a breaker's
// state; an unknown code shows as sent.
func (l lang) enum(kind, code string) string {
	if w, ok := breakerStates[code]; ok && kind == "breaker" {
		return l.pick(w[0], w[1])
	}
	return labels.Name(kind, code, l == en)
}

// pick chooses the English text when there is one and l is English.
func (l lang) pick(azText, enText string) string {
	if l == en && strings.TrimSpace(enText) != "" {
		return enText
	}
	return azText
}

// decimal writes x with the language's decimal separator: a comma in
// Azerbaijani, a point in English.
func (l lang) decimal(x float64, digits int) string {
	s := strconv.FormatFloat(x, 'f', digits, 64)
	if l == az {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// words is every fixed text of the pages, in both languages.
var words = map[string][2]string{
	"app":              {"Körpü — müraciətlərə nəzarət", "Körpü — oversight of appeals"},
	"skip":             {"Əsas məzmuna keç", "Skip to main content"},
	"switchLang":       {"English", "Azərbaycanca"},
	"switchLangLabel":  {"Dili dəyiş: English", "Change language: Azərbaycanca"},
	"nav":              {"Bölmələr", "Sections"},
	"signInTitle":      {"Monitorlar üçün giriş", "Sign-in for monitors"},
	"signInIntro":      {"Mərkəzi monitorların giriş nişanını daxil edin. Sessiya 8 saat davam edir.", "Enter the central monitors' token. The session lasts 8 hours."},
	"token":            {"Giriş nişanı", "Token"},
	"signIn":           {"Daxil ol", "Sign in"},
	"signOut":          {"Çıxış", "Sign out"},
	"badToken":         {"Giriş nişanı yanlışdır. Yenidən yoxlayın.", "The token is wrong. Check it and try again."},
	"needSignIn":       {"Bu səhifəyə baxmaq üçün daxil olun.", "Sign in to see this page."},
	"signedOut":        {"Sessiya bağlandı.", "You are signed out."},
	"forbidden":        {"Sorğu başqa saytdan göndərilib və qəbul edilmədi.", "The request came from another site and was refused."},
	"country":          {"Ölkə üzrə", "Country"},
	"countryTitle":     {"Rayonlar üzrə vəziyyət", "Districts at a glance"},
	"countryCaption":   {"Hər rayon icra hakimiyyəti üzrə göstəricilər; sütun başlığı ilə sıralayın.", "Figures of each district authority; sort by a column's heading."},
	"district":         {"İcra hakimiyyəti", "Authority"},
	"districtTitle":    {"Rayon", "District"},
	"figures":          {"Dövrün göstəriciləri", "Figures of the period"},
	"back":             {"Bütün rayonlar", "All districts"},
	"period":           {"Dövr", "Period"},
	"periodToday":      {"Bu gün", "Today"},
	"period7d":         {"Son 7 gün", "Last 7 days"},
	"period30d":        {"Son 30 gün", "Last 30 days"},
	"periodYear":       {"Son il", "Last year"},
	"periodRange":      {"Tarixdən–tarixədək", "From–to"},
	"from":             {"Başlanğıc tarixi", "From"},
	"to":               {"Son tarix (daxil)", "To (inclusive)"},
	"dateHint":         {"Yalnız «Tarixdən–tarixədək» seçildikdə; İİİİ-AA-GG.", "Only with “From–to”; YYYY-MM-DD."},
	"show":             {"Göstər", "Show"},
	"periodShown":      {"Göstərilən dövr:", "Period shown:"},
	"asOf":             {"Açıq müraciətlər bu günə görə:", "Open appeals as of:"},
	"liveNote":         {"Cədvəl hər 5 saniyədən bir özü yenilənir.", "The table updates itself every 5 seconds."},
	"late":             {"gecikir", "late"},
	"lateExplain":      {"«Gecikir»: vaxtı keçmiş və ya gec yönləndirilmiş müraciət var, ya da vaxtında cavab payı 90%-dən azdır.", "“Late”: appeals overdue or forwarded late, or under 90% answered on time."},
	"received":         {"Daxil olub", "Received"},
	"registered":       {"Qeydiyyat", "Registered"},
	"invalid":          {"Qəbul edilməyib", "Invalid"},
	"open":             {"Açıq", "Open"},
	"dueSoon":          {"Müddəti yaxınlaşır", "Due soon"},
	"overdue":          {"Vaxtı keçib", "Overdue"},
	"onTime":           {"Vaxtında cavab", "On time"},
	"p50":              {"Cavab, median (iş günü)", "Answer p50 (working days)"},
	"p90":              {"Cavab, p90 (iş günü)", "Answer p90 (working days)"},
	"forwarded":        {"Yönləndirilib", "Forwarded"},
	"forwardedLate":    {"Gec yönləndirilib", "Forwarded late"},
	"extended":         {"Müddəti uzadılıb", "Extended"},
	"repeat":           {"Təkrar", "Repeat"},
	"perThousand":      {"1000 sakinə", "Per 1,000 residents"},
	"pending":          {"Çatdırılmayıb", "Pending deliveries"},
	"deadLetters":      {"Ölü məktublar", "Dead letters"},
	"breaker":          {"Əlaqə", "Link (breaker)"},
	"queue":            {"Növbə", "Queue"},
	"answered":         {"Cavablandırılıb", "Answered"},
	"population":       {"Əhali", "Population"},
	"unknown":          {"məlum deyil", "unknown"},
	"sortAsc":          {"artan sıra", "ascending"},
	"sortDesc":         {"azalan sıra", "descending"},
	"sortBy":           {"Sırala:", "Sort by"},
	"chartTitle":       {"Gündəlik qeydiyyata alınan müraciətlər, son 90 gün, növlərə görə", "Appeals registered per day, last 90 days, by type"},
	"chartDesc":        {"Üst-üstə sütunlar: hər gün üçün şikayət, ərizə və təklif. Cəmi %s; ən çox %s tarixində, %s.", "Stacked bars: complaints, applications and proposals each day. Total %s; most on %s, %s."},
	"chartTable":       {"Qrafik cədvəl kimi", "The chart as a table"},
	"date":             {"Tarix", "Date"},
	"total":            {"Cəmi", "Total"},
	"services":         {"Xidmətlər", "Services"},
	"service":          {"Xidmət", "Service"},
	"servicesCaption":  {"Rayonun təqdim etdiyi xidmətlər və dövr ərzində qeydiyyata alınan müraciətlər", "The services the district offers and appeals registered in the period"},
	"byType":           {"Növlərə görə", "By type"},
	"topInvalid":       {"Qəbul edilməmənin əsas səbəbləri (sahə)", "Top reasons of refusal (field)"},
	"none":             {"Yoxdur.", "None."},
	"overdueList":      {"Vaxtı keçmiş müraciətlər", "Overdue appeals"},
	"dueSoonList":      {"Müddəti yaxınlaşan müraciətlər", "Appeals due soon"},
	"listCaption":      {"Ən köhnə müddət əvvəldə", "Oldest deadline first"},
	"number":           {"Nömrə", "Number"},
	"type":             {"Növ", "Type"},
	"status":           {"Status", "Status"},
	"registeredAt":     {"Qeydiyyata alınıb", "Registered"},
	"submittedAt":      {"Göndərilib", "Submitted"},
	"deadline":         {"Cavab müddəti", "Answer due"},
	"export":           {"CSV kimi yüklə", "Download as CSV"},
	"exportAll":        {"Bütün rayonlar: CSV kimi yüklə", "All districts: download as CSV"},
	"exportHint":       {"Seçilmiş dövrdə qeydiyyata alınan müraciətlər və onların mərhələlərinin vaxtı.", "Appeals registered in the chosen period with the times of their steps."},
	"search":           {"Müraciəti nömrəsinə görə tap", "Find an appeal by its number"},
	"searchLabel":      {"Müraciətin nömrəsi", "Appeal number"},
	"searchHint":       {"Məsələn AZ-BIL-2026-000123", "For example AZ-BIL-2026-000123"},
	"find":             {"Tap", "Find"},
	"appealTitle":      {"Müraciət", "Appeal"},
	"timeline":         {"Statusun dəyişməsi", "Status history"},
	"timelineCaption":  {"Hub-ın portala göndərdiyi hadisələr, ardıcıllıqla", "The events the hub sent to the portal, in order"},
	"step":             {"№", "No."},
	"at":               {"Vaxt", "Time"},
	"note":             {"Qeyd", "Note"},
	"sent":             {"Vətəndaşın göndərdiyi", "What the citizen sent"},
	"socialStatus":     {"Sosial status", "Social status"},
	"privilege":        {"Güzəşt statusu", "Privilege"},
	"subject":          {"Mövzu", "Subject"},
	"text":             {"Mətn", "Text"},
	"formFields":       {"Formanın sahələri", "Form fields"},
	"attachments":      {"Əlavələr", "Attachments"},
	"reception":        {"Qəbul", "Reception"},
	"applicant":        {"Müraciət edən", "Applicant"},
	"citizen":          {"Vətəndaş", "Citizen"},
	"fin":              {"FİN", "FIN"},
	"phone":            {"Telefon", "Phone"},
	"email":            {"E-poçt", "E-mail"},
	"address":          {"Ünvan", "Address"},
	"workplace":        {"İş yeri", "Workplace"},
	"position":         {"Vəzifə", "Position"},
	"reference":        {"İcra hakimiyyətindəki nömrə", "Authority's reference"},
	"comments":         {"Vətəndaşın qeydləri", "The citizen's remarks"},
	"delivered":        {"çatdırılıb", "delivered"},
	"waiting":          {"gözləyir", "waiting"},
	"failedComment":    {"çatdırıla bilmədi", "could not be delivered"},
	"notFound":         {"Belə müraciət yoxdur.", "No such appeal."},
	"noDistrict":       {"Belə rayon hub-a qoşulmayıb.", "No such district is connected to the hub."},
	"notFoundTitle":    {"Tapılmadı", "Not found"},
	"badNumber":        {"«number» parametri müraciət nömrəsi deyil: nömrə AZ-BIL-2026-000123 kimidir.", "The parameter “number” is not an appeal number: numbers look like AZ-BIL-2026-000123."},
	"badParamTitle":    {"Sorğunun parametri yanlışdır", "A parameter of the request is wrong"},
	"badParam":         {"«%s» parametri yanlışdır: %s", "The parameter “%s” is wrong: %s"},
	"unavailable":      {"Məlumatlar hazırda alınmır. Bir azdan yenidən cəhd edin.", "The figures cannot be read now. Try again shortly."},
	"unavailableTitle": {"Müvəqqəti əlçatan deyil", "Temporarily unavailable"},
	"pageNotFound":     {"Belə səhifə yoxdur.", "No such page."},
	"openLetters":      {"Açıq ölü məktublar", "Open dead letters"},
	"lettersCaption":   {"Hub-ın imtina etdiyi işlər, ən köhnəsi əvvəldə", "Work the hub gave up on, oldest first"},
	"letter":           {"Məktub", "Letter"},
	"filedAt":          {"Yaranıb", "Filed"},
	"letterKind":       {"Mənbə", "Kind"},
	"attempts":         {"Cəhdlər", "Attempts"},
	"reason":           {"Səbəb", "Reason"},
	"act":              {"Əməliyyat", "Action"},
	"replay":           {"Yenidən göndər", "Replay"},
	"drop":             {"Ləğv et", "Drop"},
	"cut":              {"yalnız başlanğıcı saxlanılıb, yenidən göndərilə bilməz", "only its start is kept; it cannot be replayed"},
	"readOnlyNote":     {"Ölü məktubları yalnız operatorlar, brauzerdə daxil olaraq, yenidən göndərə və ya ləğv edə bilər.", "Only operators, signed in in the browser, may replay or drop dead letters."},
	"moreLetters":      {"Yalnız ən köhnə %d məktub göstərilir; hamısı: korpu dlq list.", "Only the oldest %d letters are shown; all of them: korpu dlq list."},
	"operatorActions":  {"Operatorların əməliyyatları", "Operators' actions"},
	"actionsCaption":   {"Kim, nə vaxt (Bakı vaxtı), necə və nə ilə nəticələndi; ən yenisi əvvəldə", "Who, when (Baku time), how, and what came of it; newest first"},
	"who":              {"Kim", "Who"},
	"what":             {"Nə", "What"},
	"how":              {"Necə", "How"},
	"outcome":          {"Nəticə", "Outcome"},
	"replayedNotice":   {"%d nömrəli ölü məktub yenidən göndərildi.", "Dead letter %d was replayed."},
	"droppedNotice":    {"%d nömrəli ölü məktub ləğv edildi.", "Dead letter %d was dropped."},
	"notOpenNotice":    {"%d nömrəli məktub artıq açıq deyil: onu artıq yenidən göndəriblər və ya ləğv ediblər.", "Dead letter %d is no longer open: it was replayed or dropped already."},
	"truncatedNotice":  {"%d nömrəli məktubun yalnız başlanğıcı saxlanılıb və o, yenidən göndərilə bilməz: portal onu yenidən göndərməlidir.", "Dead letter %d keeps only the start of its body and cannot be replayed: the portal must send it again."},
	"noLetterNotice":   {"%d nömrəli ölü məktub yoxdur.", "There is no dead letter %d."},
	"forbiddenTitle":   {"Qəbul edilmədi", "Refused"},
	"operatorsOnly":    {"Bunu yalnız operator edə bilər.", "Only an operator may do this."},
	"csrfRefused":      {"Sorğu bu səhifənin formasından gəlməyib (forma nişanı yoxdur və ya yanlışdır) və qəbul edilmədi. Səhifəni yeniləyin.", "The request did not come from this page's form (its form token is missing or wrong) and was refused. Reload the page."},
}

// breakerStates names the states of a district's circuit breaker.
var breakerStates = map[string][2]string{
	"closed":    {"işləyir", "closed"},
	"half-open": {"yoxlanılır", "half-open"},
	"open":      {"kəsilib", "open"},
}

// appealTypes are the contract's types, in the chart's order.
var appealTypes = []string{"complaint", "application", "proposal"}
