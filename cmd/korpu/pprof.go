package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// errPprofNotLoopback refuses a profiler address another machine could reach.
var errPprofNotLoopback = errors.New("must be a loopback address such as 127.0.0.1:6060 or [::1]:6060: the profiler shows the process's memory and must never face the network")

// servePprof serves Go's profiler on its own listener when
// KORPU_PPROF_LISTEN names one (opt-in), on loopback only.
func servePprof(ctx context.Context, getenv env, logger *slog.Logger) (stop func(), err error) {
	addr, ok := getenv("KORPU_PPROF_LISTEN")
	if !ok || addr == "" {
		return func() {}, nil
	}
	if err := loopbackAddr(addr); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// "localhost" is whatever the resolver says: check what was bound.
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		_ = ln.Close()
		return nil, fmt.Errorf("%s resolved to %s: %w", addr, ln.Addr(), errPprofNotLoopback)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Warn("pprof enabled", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// loopbackAddr accepts host:port whose host is a loopback IP or localhost;
// an empty host (":6060") would listen on every interface.
func loopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%q: %w", addr, errPprofNotLoopback)
	}
	return nil
}
