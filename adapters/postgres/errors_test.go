package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// TestClassify: data exceptions and integrity violations are permanent
// data errors; whatever a retry may mend stays as it is.
func TestClassify(t *testing.T) {
	t.Parallel()
	for _, code := range []string{
		pgerrcode.CharacterNotInRepertoire, pgerrcode.UntranslatableCharacter, pgerrcode.InvalidTextRepresentation,
		pgerrcode.DatetimeFieldOverflow, pgerrcode.NumericValueOutOfRange, pgerrcode.NotNullViolation,
		pgerrcode.ForeignKeyViolation, pgerrcode.UniqueViolation, pgerrcode.CheckViolation,
	} {
		t.Run("Permanent"+code, func(t *testing.T) {
			t.Parallel()
			pgErr := &pgconn.PgError{Code: code, Message: "refused"}
			err := classify(fmt.Errorf("write: %w", pgErr))
			require.True(t, routers.IsPermanent(err))
			require.ErrorIs(t, err, routers.ErrDataRefused)
			require.ErrorIs(t, err, pgErr, "PostgreSQL's reason is kept")
			require.Same(t, err, classify(err), "classified once")
		})
	}
	for _, code := range []string{
		pgerrcode.SerializationFailure, pgerrcode.DeadlockDetected, pgerrcode.AdminShutdown,
		pgerrcode.ConnectionFailure, pgerrcode.TooManyConnections, pgerrcode.QueryCanceled,
	} {
		t.Run("Retried"+code, func(t *testing.T) {
			t.Parallel()
			err := fmt.Errorf("write: %w", &pgconn.PgError{Code: code})
			require.Same(t, err, classify(err))
		})
	}
	t.Run("NotFromPostgreSQL", func(t *testing.T) {
		t.Parallel()
		for _, err := range []error{nil, context.DeadlineExceeded, routers.ErrDuplicate, errors.New("broker gone")} {
			require.Equal(t, err, classify(err))
		}
	})
}
