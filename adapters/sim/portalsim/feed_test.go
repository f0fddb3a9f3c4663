package portalsim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// messages is a Next over n numbered messages.
func messages(n int) func() (Message, bool) {
	i := 0
	return func() (Message, bool) {
		if i == n {
			return Message{}, false
		}
		i++
		return Message{ID: fmt.Sprintf("m-%03d", i), Body: []byte("{}"), Signature: "sig"}, true
	}
}

// sink records what a feed sends, per worker.
type sink struct {
	mu      sync.Mutex
	batches map[int][][]*message.Message
	fail    int // the first fail sends fail
}

func (s *sink) send(_ context.Context, worker int, batch []*message.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("broker away")
	}
	if s.batches == nil {
		s.batches = map[int][][]*message.Message{}
	}
	s.batches[worker] = append(s.batches[worker], batch)
	return nil
}

func (s *sink) ids() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]int{}
	for _, bs := range s.batches {
		for _, b := range bs {
			for _, m := range b {
				ids[m.UUID]++
			}
		}
	}
	return ids
}

func TestFeed(t *testing.T) {
	t.Parallel()
	t.Run("OneWorkerInOrder", func(t *testing.T) {
		t.Parallel()
		var s sink
		var sent atomic.Int64
		n, err := Feed{Next: messages(50), Send: s.send, Sent: &sent}.Run(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 50, n)
		require.EqualValues(t, 50, sent.Load())
		require.Len(t, s.batches[0], 50, "default batch of one")
		for i, b := range s.batches[0] {
			require.Equal(t, fmt.Sprintf("m-%03d", i+1), b[0].UUID)
			require.Equal(t, "sig", b[0].Metadata.Get(routers.SignatureHeader))
		}
	})
	t.Run("WorkersAndBatches", func(t *testing.T) {
		t.Parallel()
		var s sink
		var leaving atomic.Int64
		n, err := Feed{Next: messages(1000), Send: s.send, Workers: 4, Batch: 64,
			Leaving: func(b []Message) { leaving.Add(int64(len(b))) }}.Run(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 1000, n)
		require.EqualValues(t, 1000, leaving.Load())
		ids := s.ids()
		require.Len(t, ids, 1000, "each message once")
		for w, bs := range s.batches {
			require.Less(t, w, 4)
			for _, b := range bs {
				require.LessOrEqual(t, len(b), 64)
			}
		}
	})
	t.Run("Retry", func(t *testing.T) {
		t.Parallel()
		s := sink{fail: 2}
		n, err := Feed{Next: messages(5), Send: s.send, RetryAfter: time.Millisecond}.Run(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 5, n)
		require.Len(t, s.ids(), 5)
	})
	t.Run("FailureEnds", func(t *testing.T) {
		t.Parallel()
		s := sink{fail: 1}
		n, err := Feed{Next: messages(5), Send: s.send}.Run(t.Context())
		require.ErrorContains(t, err, "broker away")
		require.Zero(t, n)
	})
	t.Run("Paced", func(t *testing.T) {
		t.Parallel()
		var s sink
		start := time.Now()
		n, err := Feed{Next: messages(11), Send: s.send, Rate: 100}.Run(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 11, n)
		require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "the 11th leaves 10/100 s after the first")
	})
	t.Run("StopsWithContext", func(t *testing.T) {
		t.Parallel()
		var s sink
		ctx, cancel := context.WithCancel(t.Context())
		var sent atomic.Int64
		done := make(chan error, 1)
		go func() {
			_, err := Feed{Next: func() (Message, bool) { return Message{ID: "x"}, true }, Send: s.send, Rate: 1000, Sent: &sent}.Run(ctx)
			done <- err
		}()
		require.Eventually(t, func() bool { return sent.Load() > 3 }, 5*time.Second, time.Millisecond)
		cancel()
		require.NoError(t, <-done)
	})
}
