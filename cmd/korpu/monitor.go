package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/korpu-az/korpu/adapters/authlimit"
	"github.com/korpu-az/korpu/adapters/monitorweb"
)

// withDashboard serves the monitors' dashboard at /monitor/ beside the
// hub's API; without a monitors' token there is no dashboard, as there is
// no monitors' API.
func withDashboard(api http.Handler, monitor monitorweb.Monitor, appeals monitorweb.Appeals, token string, now func() time.Time, logger *slog.Logger, limit *authlimit.Limiter) (http.Handler, error) {
	if token == "" {
		return api, nil
	}
	dashboard, err := monitorweb.New(monitorweb.Config{Monitor: monitor, Appeals: appeals, Token: token, Now: now,
		Logger: logger.With("component", "monitorweb"), AuthLimit: limit})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(monitorweb.Base+"/", dashboard)
	mux.Handle("/", api)
	return mux, nil
}
