package esdsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/districttest"
	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/adapters/sim/esdsim"
	"github.com/korpu-az/korpu/routers"
)

func setup(t *testing.T, opts esdsim.Options, password string) (*esdsim.Sim, *esd.Client, string) {
	t.Helper()
	opts.Code, opts.Username = "AZ-BIL", "hub"
	if opts.Password == "" {
		opts.Password = "pw"
	}
	sim := esdsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: srv.URL + "/esd", Username: "hub", Password: password, Timeout: 5 * time.Second}, nil, nil)
	require.NoError(t, err)
	return sim, c, srv.URL + "/esd"
}

func TestRegisterAndInspect(t *testing.T) {
	t.Parallel()
	sim, c, _ := setup(t, esdsim.Options{StepDelay: -1}, "pw")
	s := districttest.Submission("reception-booking")
	ref, err := c.Submit(t.Context(), s)
	require.NoError(t, err)
	require.Regexp(t, `^BIL-\d{4}/000001$`, ref)
	a, ok := sim.Appeal(s.AppealNumber)
	require.True(t, ok)
	require.Equal(t, "5ZJ7K2M", a.FIN)
	require.Equal(t, "QEBUL", a.Nov)
	require.Equal(t, &esdsim.Qebul{VezifeliSexsKodu: "BIL-01", Tarix: "2026-12-01"}, a.Qebul)
	require.Equal(t, 1, a.Veziyyet)

	again, err := c.Submit(t.Context(), s)
	require.NoError(t, err)
	require.Equal(t, ref, again)
	require.Equal(t, 2, sim.Received(s.AppealNumber))
	require.Equal(t, 1, sim.Registered())

	st, err := c.State(t.Context(), ref)
	require.NoError(t, err)
	require.Equal(t, routers.StatusDelivered, st.Status)
	require.NoError(t, sim.SetState(s.AppealNumber, 4, ""))
	st, err = c.State(t.Context(), ref)
	require.NoError(t, err)
	require.Equal(t, routers.StatusRejected, st.Status)
	require.NotEmpty(t, st.Note)
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t, esdsim.Options{}, "wrong")
	_, err := c.Submit(t.Context(), districttest.Submission("appeal"))
	require.ErrorIs(t, err, esd.ErrCredentials)

	sim, c, url := setup(t, esdsim.Options{}, "pw")
	s := districttest.Submission("appeal")
	s.Person = json.RawMessage(`{"fin":"5ZJ7K2M","surname":"X","name":"Y","birth_date":"1990-01-01","registration_address":"Z","id_card":{"series":"AA","number":"1"}}`)
	s.Request.Citizen.FIN = "bad"
	s.Person = json.RawMessage(strings.Replace(string(s.Person), "5ZJ7K2M", "5zj", 1))
	_, err = c.Submit(t.Context(), s)
	require.True(t, routers.IsPermanent(err), "%v", err)
	require.ErrorContains(t, err, "FIN is malformed")
	require.Zero(t, sim.Registered())

	// A request without the operation's SOAPAction is refused.
	body := `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><wsse:Security xmlns:wsse="` + esd.WSSENamespace + `"><wsse:UsernameToken><wsse:Username>hub</wsse:Username><wsse:Password>pw</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header><soapenv:Body><esd:VeziyyetSorgu xmlns:esd="urn:az:esd:muraciet:v1"><esd:QeydiyyatNomresi>X</esd:QeydiyyatNomresi></esd:VeziyyetSorgu></soapenv:Body></soapenv:Envelope>`
	resp, err := http.Post(url, "text/xml", strings.NewReader(body))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Contains(t, string(b), esd.CodeInvalid)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	sim, c, _ := setup(t, esdsim.Options{}, "pw")
	sim.SetDown(true)
	_, err := c.Submit(t.Context(), districttest.Submission("appeal"))
	var te *routers.TransientError
	require.ErrorAs(t, err, &te)
	sim.SetDown(false)
	sim.SetMalformed(true)
	_, err = c.Submit(t.Context(), districttest.Submission("appeal"))
	require.ErrorAs(t, err, &te)
	sim.SetMalformed(false)
	require.Zero(t, sim.Registered())

	busy, c2, _ := setup(t, esdsim.Options{BusyRate: 1}, "pw")
	_, err = c2.Submit(t.Context(), districttest.Submission("appeal"))
	require.ErrorAs(t, err, &te)
	require.ErrorContains(t, err, esd.CodeBusy)
	require.Zero(t, busy.Registered())
}

func TestProgressAndPaging(t *testing.T) {
	t.Parallel()
	sim, c, _ := setup(t, esdsim.Options{StepDelay: 5 * time.Millisecond, PageSize: 2}, "pw")
	var numbers []string
	for range 3 {
		s := districttest.Submission("family-composition-certificate")
		_, err := c.Submit(t.Context(), s)
		require.NoError(t, err)
		numbers = append(numbers, s.AppealNumber)
	}
	for _, n := range numbers {
		require.Eventually(t, func() bool { a, _ := sim.Appeal(n); return a.Veziyyet == 3 }, 5*time.Second, 5*time.Millisecond)
	}
	// Six changes in pages of at most two, each page a separate call.
	seen := map[string]int{}
	since, pages := time.Time{}, 0
	for {
		page, err := c.Changes(context.Background(), since, 10)
		require.NoError(t, err)
		pages++
		require.LessOrEqual(t, len(page.Changes), 2)
		for _, ch := range page.Changes {
			seen[fmt.Sprint(ch.AppealNumber, ch.Veziyyet)]++
		}
		if !page.More {
			break
		}
		since = page.Next
	}
	require.GreaterOrEqual(t, pages, 3)
	require.Len(t, seen, 6)
}

func TestServesWSDL(t *testing.T) {
	t.Parallel()
	_, _, url := setup(t, esdsim.Options{}, "pw")
	resp, err := http.Get(url + "?wsdl")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(b), `soapAction="urn:az:esd:muraciet:v1/QeydiyyataAl"`)
	require.Contains(t, string(b), `location="`+url+`"`)
}
