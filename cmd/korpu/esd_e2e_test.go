package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/esd/esdtest"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
)

// TestServeWithESD runs the spine's end-to-end test with two legacy ESD
// districts beside a REST one, the ESD systems answering one call in five
// SISTEM_MESGUL: every appeal registered in ESD exactly once, every state
// change (polled) reaching the portal in order, comments arriving, and every
// SOAP request the hub sent valid against the vendor's XSD.
func TestServeWithESD(t *testing.T) {
	t.Parallel()
	s := newStackWith(t, stackOptions{codes: []string{"AZ-SAT"}, esdCodes: []string{"AZ-BIL", "AZ-SAB"}, esdBusyRate: 0.2, failRate: 0.05})
	gen := s.generator()
	e := s.publishGenerated(gen, 300)
	s.startHub()
	start := time.Now()
	waitFor(t, 2*time.Minute, "every appeal answered", func() bool { return s.answered(e) == len(e.valid) })
	t.Logf("300 requests (%d valid) answered after %s with ESD busy 20%% of the time", len(e.valid), time.Since(start).Round(time.Millisecond))

	// Comments on ESD appeals go through SerhElaveEt and add an event.
	commented := map[string]portalsim.Message{}
	for id, m := range e.valid {
		if _, ok := s.esd[m.District]; ok && len(commented) < 4 {
			commented[s.tracker.Request(id)[0].AppealNumber] = m
		}
	}
	require.NotEmpty(t, commented)
	for number, m := range commented {
		s.publish(gen.Comment(number, m.FIN, true))
	}
	waitFor(t, time.Minute, "comments on ESD appeals", func() bool {
		for number := range commented {
			if len(distinctBySequence(s.tracker.Appeal(number))) < 5 {
				return false
			}
		}
		return true
	})
	for number, m := range commented {
		evs := distinctBySequence(s.tracker.Appeal(number))
		require.Equal(t, routers.StatusCommented, evs[4].Status)
		require.Len(t, s.esd[m.District].Comments(number), 1, "ESD got the comment")
	}
	s.verify(e)

	envelopes := s.envelopes.all()
	require.Greater(t, len(envelopes), len(e.valid)/2, "the ESD districts were called")
	require.NoError(t, esdtest.Validate(envelopes...), "every SOAP request the hub sent validates against the vendor's XSD")
}
