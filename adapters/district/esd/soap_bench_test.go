package esd

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/korpu-az/korpu/routers"
)

// BenchmarkRegisterEnvelope is what each delivery to ESD costs before the
// network: mapping the appeal to QeydiyyataAl and writing the signed-in
// SOAP envelope.
func BenchmarkRegisterEnvelope(b *testing.B) {
	s := routers.Submission{
		AppealNumber: "AZ-BIL-2026-000017", Service: "appeal", Deadline: "2026-12-18",
		RegisteredAt: time.Date(2026, 11, 27, 6, 15, 5, 0, time.UTC),
		Request: routers.Request{
			Kind: "request", ID: "2f8d6a4e-6c1b-4f5e-9a57-0d3c8e1b7a21", SubmittedAt: "2026-11-27T10:15:04+04:00",
			District: "AZ-BIL", Service: "appeal",
			Citizen: routers.Citizen{FIN: "5ZJ7K2M", Phone: "+994501234567", Email: "rashad.mammadov@example.az", Address: "Biləsuvar şəhəri, Nizami küçəsi 14"},
			Appeal:  routers.AppealForm{Type: "complaint", SocialStatus: "employed", Subject: "İçməli su", Text: "Kəndimizdə iki həftədir içməli su verilmir."},
		},
		Person: json.RawMessage(`{"fin":"5ZJ7K2M","surname":"Məmmədov","name":"Rəşad","patronymic":"Elçin oğlu","birth_date":"1988-04-12","gender":"male","birth_place":"Biləsuvar rayonu","registration_address":"Biləsuvar şəhəri, Nizami küçəsi 14","id_card":{"series":"AZE","number":"12345678","issued_at":"2019-05-20","expires_at":"2029-05-20","issued_by":"DİN Biləsuvar"}}`),
	}
	b.ReportAllocs()
	for b.Loop() {
		payload, err := registerPayload(s)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := NewEnvelope(usernameToken("hub", "s3cret"), payload).WriteToBytes(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAnswer is parsing ESD's answers: the registration's
// reference and a page of polled changes, as the client reads them.
func BenchmarkReadAnswer(b *testing.B) {
	c, err := New(Config{Code: "AZ-BIL", Endpoint: "http://127.0.0.1:1/esd", Username: "u", Password: "p"}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ok := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
	cases := []struct {
		name string
		read func(data []byte) error
	}{
		{"register.xml", func(data []byte) error {
			answer, err := c.answer(OpRegister, ok, data)
			if err == nil {
				_, err = c.readRegistered(answer)
			}
			return err
		}},
		{"changes.xml", func(data []byte) error {
			answer, err := c.answer(OpChanges, ok, data)
			if err == nil {
				_, err = readChanges(answer, time.Time{})
			}
			return err
		}},
	}
	for _, tc := range cases {
		data, err := os.ReadFile(filepath.Join("testdata", "responses", tc.name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := tc.read(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
