package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"
)

// probe is a health check for images without a shell: it GETs a URL and
// succeeds on 200 (or, with --any, on any HTTP answer at all).
func probe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	anyStatus := fs.Bool("any", false, "succeed on any HTTP answer (the server is up)")
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != http.StatusOK && !*anyStatus {
		return fmt.Errorf("probe: %s answered %s", fs.Arg(0), resp.Status)
	}
	return nil
}
