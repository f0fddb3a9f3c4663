package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/korpu-az/korpu/adapters/tlsconf"
)

// probe is a health check for images without a shell: it GETs a URL and
// succeeds on 200 (or, with --any, on any HTTP answer at all).
func probe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	anyStatus := fs.Bool("any", false, "succeed on any HTTP answer (the server is up)")
	caFile := fs.String("ca", "", "PEM file of the CA that signed an https:// server's certificate (default: the system's roots)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("probe: one URL expected")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fs.Arg(0), nil)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	tc, err := tlsconf.Client(tlsconf.ClientFiles{CAFile: *caFile})
	if err != nil {
		return fmt.Errorf("probe: --ca: %w", err)
	}
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: tc}}).Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != http.StatusOK && !*anyStatus {
		return fmt.Errorf("probe: %s answered %s", fs.Arg(0), resp.Status)
	}
	return nil
}
