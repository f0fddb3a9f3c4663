package restdistrict

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/korpu-az/korpu/adapters/retryafter"
	"github.com/korpu-az/korpu/routers"
)

// callbackRetryFor bounds the retries of one callback, so a hub that stays
// down does not keep the simulator busy for ever.
const callbackRetryFor = 2 * time.Minute

// notes are what the simulated officials write with each status.
var notes = map[string]string{
	string(routers.StatusInProgress): "Müraciət icraya götürüldü / The appeal is being handled",
	string(routers.StatusAnswered):   "Müraciətə cavab verildi / The appeal has been answered",
	string(routers.StatusRejected):   "Müraciət rədd edildi / The appeal was rejected",
	string(routers.StatusForwarded):  "Müraciət aidiyyəti üzrə göndərildi / The appeal was forwarded",
	string(routers.StatusClosed):     "Müraciət bağlandı / The appeal is closed",
}

// statusBody is the body of POST {hub}/v1/districts/{code}/status (contract §4).
type statusBody struct {
	AppealNumber string `json:"appeal_number"`
	Status       string `json:"status"`
	Note         string `json:"note"`
	At           string `json:"at"`
	Extend       bool   `json:"extend,omitempty"`
	Reason       string `json:"reason,omitempty"`
	ForwardedTo  string `json:"forwarded_to,omitempty"`
}

// schedule starts (or, before Start, queues) the progress reports of a newly
// accepted appeal. The caller holds s.mu.
func (s *Sim) schedule(number string) {
	switch {
	case s.opts.CallbackURL == "" || len(s.opts.Progress) == 0:
	case s.closed:
		s.log.Warn("simulator closed: progress not reported", "appeal", number)
	case !s.started:
		s.pending = append(s.pending, number)
	default:
		s.launch(number)
	}
}

// launch reports an appeal's progress in the background. The caller holds
// s.mu, and s.closed is false, so Close waits for it.
func (s *Sim) launch(number string) {
	s.wg.Go(func() { s.report(s.ctx, number) })
}

// report sends the configured statuses in order, each after StepDelay. A
// status the hub refuses ends the appeal's reports: the later ones would
// be refused for the same reason.
func (s *Sim) report(ctx context.Context, number string) {
	t := time.NewTimer(s.opts.StepDelay)
	defer t.Stop()
	extend := s.opts.ExtendReason != ""
	for i, status := range s.opts.Progress {
		if i > 0 {
			t.Reset(s.opts.StepDelay)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		body := statusBody{AppealNumber: number, Status: status, Note: notes[status]}
		switch {
		case status == string(routers.StatusInProgress) && extend:
			body.Extend, body.Reason, extend = true, s.opts.ExtendReason, false
		case status == string(routers.StatusForwarded):
			body.ForwardedTo = s.opts.ForwardTo
		}
		if err := s.callback(ctx, body); err != nil {
			if ctx.Err() == nil {
				s.log.Error("status callback failed: later statuses dropped", "appeal", number, "status", status, "error", err)
			}
			return
		}
		s.log.Info("status reported", "appeal", number, "status", status)
	}
}

// callback posts one status report, dated now, retrying with backoff while
// the hub is unreachable or answers 408, 429, 5xx, or 409 with a Retry-After.
func (s *Sim) callback(ctx context.Context, report statusBody) error {
	number, status := report.AppealNumber, report.Status
	report.At = routers.FormatTime(time.Now())
	body, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	target := strings.TrimRight(s.opts.CallbackURL, "/") + "/v1/districts/" + url.PathEscape(s.opts.Code) + "/status"
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 100 * time.Millisecond
	b.MaxInterval = 10 * time.Second
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		return struct{}{}, s.post(ctx, target, body)
	},
		backoff.WithBackOff(b),
		backoff.WithMaxElapsedTime(callbackRetryFor),
		backoff.WithNotify(func(err error, next time.Duration) {
			s.log.Warn("status callback failed, retrying", "appeal", number, "status", status, "in", next, "error", err)
		}),
	)
	return err
}

// post makes one attempt; errors that no retry mends are backoff.Permanent.
func (s *Sim) post(ctx context.Context, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return backoff.Permanent(fmt.Errorf("build callback: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+s.opts.CallbackToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hub.Do(req)
	if err != nil {
		return fmt.Errorf("post status: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 500)) // only quoted in the error
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500,
		code == http.StatusConflict && resp.Header.Get("Retry-After") != "": // not yet: the hub has no answer to its Submit
		err := fmt.Errorf("hub answered %d: %s", code, bytes.TrimSpace(msg))
		if d := retryafter.Parse(resp.Header.Get("Retry-After"), time.Now(), 10*time.Minute); d > 0 {
			return fmt.Errorf("%w (%w)", err, backoff.RetryAfter(int(d/time.Second)))
		}
		return err
	default:
		return backoff.Permanent(fmt.Errorf("hub refused the status (%d): %s", code, bytes.TrimSpace(msg)))
	}
}
