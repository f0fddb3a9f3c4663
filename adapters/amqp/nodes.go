package amqp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// nodeDialTimeout bounds the TCP connect and TLS handshake with one node, so
// that a dead node (one that drops packets rather than refusing) costs a few
// seconds before the next node is tried, not amqp091's 30.
const nodeDialTimeout = 5 * time.Second

// rotation is where the next dial starts in a broker's node list. It starts
// at random, so that several hubs spread over a cluster's nodes, and moves on
// with every dial, so that one hub's connections spread too and a reconnect
// tries another node first.
var rotation atomic.Uint64

func init() { rotation.Store(rand.Uint64()) } //nolint:gosec // spreading load, not a secret

// JoinNodes checks the AMQP URIs of one broker's nodes and returns them as
// the one broker address every function of this package takes: a single URI
// as it is, several joined by spaces (which no URI holds unescaped). Every
// node must be reached the same way — one scheme, one set of credentials, one
// vhost — since a reconnect may land on any of them; an error names the node
// by its position and host, never its credentials.
func JoinNodes(urls ...string) (string, error) {
	joined := strings.Join(urls, " ")
	if _, err := parseNodes(joined); err != nil {
		return "", err
	}
	return joined, nil
}

// nodes is a parsed broker address.
type nodes struct {
	// plain is the URI handed to amqp091: the first node's with scheme
	// amqp://, since the TLS handshake, when there is one, is done by dial
	// with each node's own server name. Its host and port are unused: dial
	// chooses the node.
	plain string
	addrs []string    // host:port of every node, in the given order
	tls   *tls.Config // nil for amqp://; ServerName is set per node
}

func parseNodes(broker string) (*nodes, error) {
	urls := strings.Fields(broker)
	if len(urls) == 0 {
		return nil, errors.New("amqp: empty URL")
	}
	n := &nodes{}
	var first amqp091.URI
	for i, raw := range urls {
		uri, err := amqp091.ParseURI(raw)
		if err != nil {
			// url.Error, which amqp091 wraps, quotes the whole URI, password
			// included: keep only its inner error.
			if ue, ok := errors.AsType[*url.Error](err); ok {
				err = ue.Err
			}
			if len(urls) == 1 {
				return nil, fmt.Errorf("amqp: invalid URL: %w", err)
			}
			return nil, fmt.Errorf("amqp: invalid URL of node %d: %w", i+1, err)
		}
		addr := net.JoinHostPort(uri.Host, strconv.Itoa(uri.Port))
		if i == 0 {
			first = uri
		} else if why := differs(first, uri); why != "" {
			return nil, fmt.Errorf("amqp: node %d (%s) has another %s than node 1 (%s): "+
				"the hub may reconnect to any node, so all must be reached the same way", i+1, addr, why, n.addrs[0])
		}
		n.addrs = append(n.addrs, addr)
	}
	plain, err := url.Parse(urls[0])
	if err != nil {
		return nil, errors.New("amqp: invalid URL") // ParseURI accepted it; url.Parse's error would quote it
	}
	plain.Scheme = "amqp"
	n.plain = plain.String()
	if first.Scheme == "amqps" {
		if n.tls, err = tlsConfig(first); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// differs names what a cluster's nodes must share and b does not share with a.
func differs(a, b amqp091.URI) string {
	switch {
	case a.Scheme != b.Scheme:
		return "scheme"
	case a.Username != b.Username || a.Password != b.Password:
		return "user or password"
	case a.Vhost != b.Vhost:
		return "vhost"
	case a.CACertFile != b.CACertFile || a.CertFile != b.CertFile || a.KeyFile != b.KeyFile:
		return "TLS certificate files"
	}
	return ""
}

// tlsConfig is what amqp091 would build from an amqps:// URI's options
// (cacertfile, certfile, keyfile, server_name_indication).
func tlsConfig(uri amqp091.URI) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: uri.ServerName, MinVersion: tls.VersionTLS12}
	if uri.CACertFile != "" {
		pem, err := os.ReadFile(uri.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("amqp: CA certificate: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("amqp: CA certificate %s: no PEM certificate in it", uri.CACertFile)
		}
	}
	if uri.CertFile != "" || uri.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(uri.CertFile, uri.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("amqp: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// dial opens a transport to one of the nodes, trying each in turn from the
// next in rotation, and gives the connection handshake until the earlier of
// ctx's deadline and handshakeTimeout (amqp091 clears the deadline once the
// connection is open). The error names every node tried, never credentials.
func (n *nodes) dial(ctx context.Context) (net.Conn, error) {
	start := rotation.Add(1)
	errs := make([]error, 0, len(n.addrs))
	for i := range n.addrs {
		addr := n.addrs[(start+uint64(i))%uint64(len(n.addrs))]
		c, err := n.dialNode(ctx, addr)
		if err == nil {
			deadline := time.Now().Add(handshakeTimeout)
			if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
				deadline = dl
			}
			if err := c.SetDeadline(deadline); err != nil {
				_ = c.Close()
				return nil, err
			}
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("amqp: no node of %s answers: %w", strings.Join(n.addrs, ", "), errors.Join(errs...))
}

func (n *nodes) dialNode(ctx context.Context, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, nodeDialTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err // a *net.OpError, naming addr
	}
	if n.tls == nil {
		return c, nil
	}
	cfg := n.tls.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%s: TLS handshake: %w", addr, err)
	}
	return tc, nil
}

// amqpConfig is the amqp091 configuration of a connection named name to the
// nodes. It leaves Recovery nil: amqp091's own recovery would fight
// watermill-amqp's reconnect loop.
func (n *nodes) amqpConfig(ctx context.Context, name string) amqp091.Config {
	props := amqp091.NewConnectionProperties()
	props.SetClientConnectionName(name)
	return amqp091.Config{
		Properties: props,
		Dial:       func(string, string) (net.Conn, error) { return n.dial(ctx) },
	}
}
