package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/authlimit"
	"github.com/korpu-az/korpu/adapters/monitorweb"
)

// withDashboard serves the monitors' dashboard at /monitor/ beside the
// hub's API. It is there even while no party may read it: a reload may add
// a monitor.
func withDashboard(api http.Handler, monitor monitorweb.Monitor, appeals monitorweb.Appeals, deadLetters monitorweb.DeadLetters, tokens *access.Tokens, now func() time.Time, logger *slog.Logger, limit *authlimit.Limiter) (http.Handler, error) {
	dashboard, err := monitorweb.New(monitorweb.Config{Monitor: monitor, Appeals: appeals, DeadLetters: deadLetters, Access: tokens, Now: now,
		Logger: logger.With("component", "monitorweb"), AuthLimit: limit})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(monitorweb.Base+"/", dashboard)
	mux.Handle("/", api)
	return mux, nil
}
