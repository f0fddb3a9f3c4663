package amqp

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/tlsconf/tlstest"
)

// listener accepts connections on loopback and counts them.
type listener struct {
	net.Listener
	mu       sync.Mutex
	accepted int
	sni      []string // the server name each TLS client asked for
}

func listen(t *testing.T, tlsCfg *tls.Config) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := &listener{Listener: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			l.accepted++
			l.mu.Unlock()
			if tlsCfg != nil {
				tc := tls.Server(c, tlsCfg)
				if tc.Handshake() == nil {
					l.mu.Lock()
					l.sni = append(l.sni, tc.ConnectionState().ServerName)
					l.mu.Unlock()
				}
			}
			_ = c.Close()
		}
	}()
	return l
}

func (l *listener) count() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted, append([]string(nil), l.sni...)
}

// refusedAddr is a loopback address where nothing listens: connecting is refused.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func nodeURL(addr string) string { return "amqp://korpu:s3cret@" + addr + "/hub" }

func TestJoinNodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		urls    []string
		wantErr string
	}{
		{name: "One", urls: []string{testURL}},
		{name: "Three", urls: []string{nodeURL("n1:5701"), nodeURL("n2:5702"), nodeURL("n3")}},
		{name: "None", wantErr: "empty URL"},
		{name: "Invalid", urls: []string{nodeURL("n1"), "http://korpu:s3cret@n2/"}, wantErr: "invalid URL of node 2"},
		// url.Parse's own error quotes the whole URI, password included.
		{name: "BadPort", urls: []string{nodeURL("n1"), "amqp://korpu:s3cret@n2:x/hub"}, wantErr: "invalid URL of node 2"},
		{name: "BadPortAlone", urls: []string{"amqp://korpu:s3cret@n1:x/hub"}, wantErr: "invalid URL"},
		{name: "Scheme", urls: []string{nodeURL("n1"), "amqps://korpu:s3cret@n2/hub"},
			wantErr: "node 2 (n2:5671) has another scheme than node 1 (n1:5672): the hub may reconnect to any node"},
		{name: "User", urls: []string{nodeURL("n1"), "amqp://other:s3cret@n2/hub"}, wantErr: "node 2 (n2:5672) has another user or password"},
		{name: "Password", urls: []string{nodeURL("n1"), nodeURL("n2"), "amqp://korpu:s3cret2@n3/hub"}, wantErr: "node 3 (n3:5672) has another user or password"},
		{name: "Vhost", urls: []string{nodeURL("n1"), "amqp://korpu:s3cret@n2/other"}, wantErr: "node 2 (n2:5672) has another vhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			joined, err := JoinNodes(tt.urls...)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, Config{URL: joined}.Validate(), "a joined address is a valid Config.URL")
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), "s3cret")
		})
	}
}

// TestDialFallsThroughToALiveNode: whichever node the rotation starts
// from, a refused one is skipped at once for the one that listens.
func TestDialFallsThroughToALiveNode(t *testing.T) {
	t.Parallel()
	live := listen(t, nil)
	n, err := parseNodes(nodeURL(refusedAddr(t)) + " " + nodeURL(live.Addr().String()))
	require.NoError(t, err)
	for i := range 4 {
		start := time.Now()
		c, err := n.dial(t.Context())
		require.NoError(t, err, "dial %d", i)
		require.Equal(t, live.Addr().String(), c.RemoteAddr().String())
		require.NoError(t, c.Close())
		require.Less(t, time.Since(start), time.Second, "a refused node is passed over at once")
	}
	require.Eventually(t, func() bool { n, _ := live.count(); return n == 4 }, waitFor, 10*time.Millisecond)
}

// TestDialSpreadsOverNodes: successive dials start from successive nodes.
// Not parallel: other tests' dials would move the shared rotation between
// this one's.
func TestDialSpreadsOverNodes(t *testing.T) {
	a, b := listen(t, nil), listen(t, nil)
	n, err := parseNodes(nodeURL(a.Addr().String()) + " " + nodeURL(b.Addr().String()))
	require.NoError(t, err)
	for range 6 {
		c, err := n.dial(t.Context())
		require.NoError(t, err)
		require.NoError(t, c.Close())
	}
	require.Eventually(t, func() bool {
		na, _ := a.count()
		nb, _ := b.count()
		return na+nb == 6
	}, waitFor, 10*time.Millisecond)
	na, _ := a.count()
	require.NotZero(t, na, "some dials land on the first node")
	require.NotEqual(t, 6, na, "some dials land on the second node")
}

// TestDialAllNodesDown: the error names every node, never the credentials.
func TestDialAllNodesDown(t *testing.T) {
	t.Parallel()
	one, two := refusedAddr(t), refusedAddr(t)
	n, err := parseNodes(nodeURL(one) + " " + nodeURL(two))
	require.NoError(t, err)
	_, err = n.dial(t.Context())
	require.ErrorContains(t, err, "no node of ")
	require.ErrorContains(t, err, one)
	require.ErrorContains(t, err, two)
	require.ErrorContains(t, err, "refused")
	require.NotContains(t, err.Error(), "s3cret")
	require.NotContains(t, err.Error(), "korpu:")
}

// TestDialDeadNodeBounded: a node that never answers (the context ends
// first here; nodeDialTimeout otherwise) does not hold up the dial forever.
func TestDialDeadNodeBounded(t *testing.T) {
	t.Parallel()
	// 192.0.2.0/24 is TEST-NET-1: routed nowhere, so a connect hangs (or
	// fails at once where the machine has no route at all).
	n, err := parseNodes(nodeURL("192.0.2.1:5672"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = n.dial(ctx)
	require.ErrorContains(t, err, "192.0.2.1:5672")
	require.Less(t, time.Since(start), nodeDialTimeout)
}

// TestDialTLSServerNamePerNode: over amqps:// each node is asked for by its
// own host name, not the first node's.
func TestDialTLSServerNamePerNode(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t, "korpu test CA")
	serverCfg := &tls.Config{Certificates: []tls.Certificate{ca.Server(t).TLS(t)}, MinVersion: tls.VersionTLS12}
	byName, byIP := listen(t, serverCfg), listen(t, serverCfg)
	caFile := ca.WriteCert(t, t.TempDir(), "ca.pem")
	_, namePort, err := net.SplitHostPort(byName.Addr().String())
	require.NoError(t, err)
	urls := []string{
		fmt.Sprintf("amqps://korpu:s3cret@localhost:%s/hub?cacertfile=%s", namePort, caFile),
		fmt.Sprintf("amqps://korpu:s3cret@%s/hub?cacertfile=%s", byIP.Addr(), caFile),
	}
	joined, err := JoinNodes(urls...)
	require.NoError(t, err)
	n, err := parseNodes(joined)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(n.plain, "amqp://"), "amqp091 gets a plain URI: the dialer does the TLS")
	for range 4 {
		c, err := n.dial(t.Context())
		require.NoError(t, err, "the CA of cacertfile is trusted")
		require.IsType(t, &tls.Conn{}, c)
		require.NoError(t, c.Close())
	}
	var names, ips []string
	require.Eventually(t, func() bool {
		_, names = byName.count()
		_, ips = byIP.count()
		return len(names)+len(ips) == 4
	}, waitFor, 10*time.Millisecond, "every handshake seen by a node")
	for _, sni := range names {
		require.Equal(t, "localhost", sni)
	}
	for _, sni := range ips {
		require.Empty(t, sni, "an IP address is verified against the certificate's IP, and sent no SNI")
	}
}

// TestClusterWithDeadNode: the hub's every kind of connection works against
// the real broker when the address also lists a node that is down, and
// some dials try that node first.
func TestClusterWithDeadNode(t *testing.T) {
	t.Parallel()
	broker, err := JoinNodes(deadURL, testURL)
	require.NoError(t, err)
	q := newQueueName(t)
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	require.NoError(t, WaitForBroker(ctx, broker))
	require.NoError(t, DeclareQueues(ctx, broker, q))

	pub, sub := newPubSubOn(t, broker)
	relay := NewBatchPublisher(broker)
	t.Cleanup(func() { require.NoError(t, relay.Close()) })

	require.NoError(t, pub.Publish(q, message.NewMessage("one", []byte("1"))))
	require.NoError(t, relay.PublishTo(ctx, q, message.NewMessage("two", []byte("2"))))
	in, err := NewInspector(broker)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, in.Close()) })
	require.NoError(t, in.Ping(ctx))
	require.Eventually(t, func() bool { n, _, err := in.Depth(ctx, q); return err == nil && n == 2 }, waitFor, 20*time.Millisecond)

	msgs, err := sub.Subscribe(ctx, q)
	require.NoError(t, err)
	got := map[string]bool{}
	for range 2 {
		got[receive(t, msgs).UUID] = true
	}
	require.Equal(t, map[string]bool{"one": true, "two": true}, got)
}
