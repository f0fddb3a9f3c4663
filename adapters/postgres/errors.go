package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/korpu-az/korpu/routers"
)

// classify marks the errors PostgreSQL raises about the data itself as
// permanent: a data exception (SQLSTATE class 22: a NUL in text, a \u0000
// or a lone surrogate in jsonb, an impossible date …) or an integrity
// violation (class 23). The same statement with the same values fails the
// same way every time, so retrying only loops; the hub dead-letters the
// message with PostgreSQL's reason instead. Class 23 holds no exception:
// the ledger claims every key it relies on (request ids, numbers,
// bookings, fingerprints) with ON CONFLICT, so no unique violation is an
// expected outcome. Every other error (connection, serialization, a
// server shutting down) stays as it is, for the hub to retry.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || routers.IsPermanent(err) {
		return err
	}
	if pgerrcode.IsDataException(pgErr.Code) || pgerrcode.IsIntegrityConstraintViolation(pgErr.Code) {
		return &routers.PermanentError{Err: fmt.Errorf("%w: %w", routers.ErrDataRefused, err)}
	}
	return err
}
