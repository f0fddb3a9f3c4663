package registrysim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// Person is a registry record in exactly the shape of contract §3.
type Person struct {
	FIN                 string `json:"fin"`
	Surname             string `json:"surname"`
	Name                string `json:"name"`
	Patronymic          string `json:"patronymic"`
	BirthDate           string `json:"birth_date"` // YYYY-MM-DD
	Gender              string `json:"gender"`     // "male" or "female"
	BirthPlace          string `json:"birth_place"`
	RegistrationAddress string `json:"registration_address"`
	IDCard              IDCard `json:"id_card"`
}

// IDCard is the identity card a Person holds.
type IDCard struct {
	Series    string `json:"series"` // "AZE" (8-digit numbers) or the older "AA" (7 digits)
	Number    string `json:"number"`
	IssuedAt  string `json:"issued_at"`  // YYYY-MM-DD
	ExpiresAt string `json:"expires_at"` // YYYY-MM-DD, ten years after issue
	IssuedBy  string `json:"issued_by"`
}

var (
	maleNames = []string{
		"Rəşad", "Elvin", "Orxan", "Tural", "Kamran", "Elçin", "Vüqar", "Anar", "Ramil", "Nicat",
		"Fərid", "Səbuhi", "Murad", "Emil", "Rauf", "İlqar", "Zaur", "Ceyhun", "Namiq", "Həsən",
		"Əli", "Hüseyn", "Məmməd", "Rövşən", "Şahin", "Cavid", "Ülvi", "Toğrul",
	}
	femaleNames = []string{
		"Aysel", "Günel", "Leyla", "Nigar", "Sevinc", "Aynur", "Könül", "Nərmin", "Səbinə", "Lalə",
		"Ülviyyə", "Türkan", "Fidan", "Gülnar", "Aytən", "Şəbnəm", "Zəhra", "Nərgiz", "Arzu", "Xədicə",
	}
	// surnames are the male forms; a woman's adds "a" (Məmmədov → Məmmədova).
	surnames = []string{
		"Məmmədov", "Əliyev", "Həsənov", "Hüseynov", "Quliyev", "İsmayılov", "Abbasov", "Rəhimov",
		"Cəfərov", "Süleymanov", "Babayev", "Nəsirov", "Kərimov", "Əhmədov", "Mustafayev", "Orucov",
		"Qasımov", "Vəliyev", "Bayramov", "Novruzov", "Sadıqov", "Hacıyev", "Rzayev", "Zeynalov",
	}
	places = []struct{ birth, town string }{
		{"Bakı şəhəri", "Bakı şəhəri, Nəsimi rayonu"},
		{"Bakı şəhəri", "Bakı şəhəri, Yasamal rayonu"},
		{"Bakı şəhəri", "Bakı şəhəri, Xətai rayonu"},
		{"Gəncə şəhəri", "Gəncə şəhəri, Kəpəz rayonu"},
		{"Sumqayıt şəhəri", "Sumqayıt şəhəri"},
		{"Mingəçevir şəhəri", "Mingəçevir şəhəri"},
		{"Naxçıvan şəhəri", "Naxçıvan şəhəri"},
		{"Biləsuvar rayonu", "Biləsuvar şəhəri"},
		{"Lənkəran rayonu", "Lənkəran şəhəri"},
		{"Şəki rayonu", "Şəki şəhəri"},
		{"Quba rayonu", "Quba şəhəri"},
		{"Masallı rayonu", "Masallı şəhəri"},
		{"Salyan rayonu", "Salyan şəhəri"},
		{"Şamaxı rayonu", "Şamaxı şəhəri"},
		{"Qəbələ rayonu", "Qəbələ şəhəri"},
		{"Sabirabad rayonu", "Sabirabad şəhəri"},
	}
	streets = []string{
		"Nizami küçəsi", "Füzuli küçəsi", "Səməd Vurğun küçəsi", "Azadlıq prospekti",
		"Heydər Əliyev prospekti", "Xətai küçəsi", "Hüseyn Cavid küçəsi", "Üzeyir Hacıbəyov küçəsi",
		"Natəvan küçəsi", "Rəsul Rza küçəsi", "Neftçilər prospekti", "Abbas Səhhət küçəsi",
	}
	asanCentres = []string{
		"ASAN xidmət mərkəzi №1 (Bakı)", "ASAN xidmət mərkəzi №2 (Bakı)", "ASAN xidmət mərkəzi №3 (Bakı)",
		"ASAN xidmət mərkəzi №5 (Bakı)", "ASAN xidmət mərkəzi (Gəncə)", "ASAN xidmət mərkəzi (Sumqayıt)",
		"ASAN xidmət mərkəzi (Biləsuvar)", "ASAN xidmət mərkəzi (Şəki)", "ASAN xidmət mərkəzi (Masallı)",
	}
)

// Record returns the person the Sim answers for fin; the same FİN always
// gives the same person.
func Record(fin string) Person {
	h := fnv.New64a()
	_, _ = h.Write([]byte(fin)) // a hash never fails to write
	// PCG is a specified algorithm: its output for a seed does not change between Go releases.
	r := rand.New(rand.NewPCG(h.Sum64(), 0x6b6f7270c3bc)) // "korpü"
	pick := func(list []string) string { return list[r.IntN(len(list))] }

	p := Person{FIN: fin, Surname: pick(surnames)}
	father := pick(maleNames)
	if r.IntN(2) == 0 {
		p.Gender, p.Name, p.Patronymic = "male", pick(maleNames), father+" oğlu"
	} else {
		p.Gender, p.Name, p.Patronymic = "female", pick(femaleNames), father+" qızı"
		p.Surname += "a"
	}

	birth := time.Date(1950+r.IntN(57), time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365))
	p.BirthDate = birth.Format(time.DateOnly)
	place := places[r.IntN(len(places))]
	p.BirthPlace = place.birth
	home := places[r.IntN(len(places))]
	if r.IntN(3) > 0 { // most people live where they were born
		home = place
	}
	p.RegistrationAddress = fmt.Sprintf("%s, %s, ev %d", home.town, pick(streets), 1+r.IntN(120))
	if r.IntN(2) == 0 {
		p.RegistrationAddress += fmt.Sprintf(", mənzil %d", 1+r.IntN(90))
	}

	// A card is issued from the age of 16; the AZE series replaced AA.
	issued := time.Date(2016+r.IntN(10), time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365))
	if adult := birth.AddDate(16, 0, 0); issued.Before(adult) {
		issued = adult.AddDate(0, 0, r.IntN(365))
	}
	p.IDCard = IDCard{
		Series:    "AZE",
		Number:    fmt.Sprintf("%08d", r.IntN(100_000_000)),
		IssuedAt:  issued.Format(time.DateOnly),
		ExpiresAt: issued.AddDate(10, 0, 0).Format(time.DateOnly),
		IssuedBy:  pick(asanCentres),
	}
	if issued.Year() < 2019 && r.IntN(3) == 0 {
		p.IDCard.Series, p.IDCard.Number = "AA", fmt.Sprintf("%07d", r.IntN(10_000_000))
	}
	return p
}
