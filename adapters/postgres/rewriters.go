package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Rewriter says why the connection's role could rewrite the record
// despite the triggers and REVOKEs of migrations 00011–00013: a superuser
// bypasses privileges, and the tables' owner may grant itself UPDATE again
// or disable a trigger. "" when it can do neither: the hub runs as a role
// that only reads and appends, and the tables belong to another (README,
// "A record no one rewrites unseen").
func Rewriter(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (string, error) {
	var super, owner bool
	err := q.QueryRow(ctx, `
		SELECT r.rolsuper, pg_has_role(current_user, c.relowner, 'USAGE')
		FROM pg_roles r, pg_class c
		WHERE r.rolname = current_user AND c.oid = 'status_history'::regclass`).Scan(&super, &owner)
	switch {
	case err != nil:
		return "", fmt.Errorf("postgres: the role's rights on the history: %w", err)
	case super:
		return "the hub's database role is a superuser", nil
	case owner:
		return "the hub's database role owns the history tables (it may grant itself UPDATE or disable their triggers)", nil
	}
	return "", nil
}
