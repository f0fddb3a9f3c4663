package routers

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Channel is the way an operator reached the hub.
type Channel string

// The channels an operator acts through.
const (
	ChannelAPI       Channel = "api"       // the monitors' HTTP API
	ChannelCLI       Channel = "cli"       // korpu dlq, straight in the ledger
	ChannelDashboard Channel = "dashboard" // the monitors' dashboard
)

// Operator is who acts on the hub's work: a party of the access list (or,
// on the command line, whoever runs it) with its role, and the way it came.
type Operator struct {
	Name    string
	Role    string
	Channel Channel
}

// MaxOperatorNameRunes caps an operator's name: an access list's entry or
// korpu dlq's --as.
const MaxOperatorNameRunes = 100

// ErrBadOperator: who acts is not said, or not in a form the record can
// keep. The error names the field and why.
var ErrBadOperator = errors.New("who acts is not properly said")

// Validate refuses an operator the record could not show as given: a name
// of 1 to MaxOperatorNameRunes printable characters, a role, a known channel.
func (o Operator) Validate() error {
	bad := func(field, why string) error { return fmt.Errorf("%w: %s %s", ErrBadOperator, field, why) }
	switch n := utf8.RuneCountInString(o.Name); {
	case !utf8.ValidString(o.Name):
		return bad("name", "is not valid UTF-8")
	case n == 0:
		return bad("name", "is empty")
	case n > MaxOperatorNameRunes:
		return bad("name", fmt.Sprintf("has %d characters, more than %d", n, MaxOperatorNameRunes))
	}
	for _, r := range o.Name {
		if !unicode.IsPrint(r) {
			return bad("name", fmt.Sprintf("holds the unprintable character %U", r))
		}
	}
	if o.Role == "" || len(o.Role) > 32 {
		return bad("role", "must be 1 to 32 bytes")
	}
	switch o.Channel {
	case ChannelAPI, ChannelCLI, ChannelDashboard:
		return nil
	}
	return bad("channel", fmt.Sprintf("%q is not api, cli or dashboard", o.Channel))
}

// ActionKind names what an operator did.
type ActionKind string

// The actions recorded.
const (
	ActionReplay ActionKind = "dead_letter.replay"
	ActionDrop   ActionKind = "dead_letter.drop"
)

// Outcome is what came of an operator's action.
type Outcome string

// The outcomes recorded: done, or refused for a reason the operator can
// act on. An action that failed on the ledger did nothing and is not
// recorded: the operator sees the error and tries again.
const (
	OutcomeDone      Outcome = "done"
	OutcomeNotOpen   Outcome = "not_open"  // the letter was replayed or dropped already
	OutcomeNotFound  Outcome = "not_found" // no such letter
	OutcomeTruncated Outcome = "truncated" // the letter keeps only the start of its body
)

// OperatorAction is one entry of the operators' record: who did what to
// which dead letter (and so which appeal), when by the hub's clock, how,
// and with what outcome.
type OperatorAction struct {
	ID           int64
	At           time.Time // set by the ledger, from its clock
	Operator     Operator
	Action       ActionKind
	DeadLetterID int64
	AppealNumber string // the letter's appeal, if it has one
	Outcome      Outcome
}

// OperatorLog is the ledger's append-only record of operators' actions.
// An action that changes the hub's work is recorded in the commit that
// makes the change (DeadLetterBook.ResolveDeadLetter); these record and
// read the rest.
type OperatorLog interface {
	// RecordOperatorAction appends an action that changed nothing (a
	// refused one), at the ledger's time.
	RecordOperatorAction(ctx context.Context, a OperatorAction) error
	// OperatorActions lists recorded actions with an ID below beforeID (0:
	// from the latest), newest first, at most limit.
	OperatorActions(ctx context.Context, beforeID int64, limit int) ([]OperatorAction, error)
}

// outcomeOf is the refusal err means, if it is one the record keeps.
func outcomeOf(err error) (Outcome, bool) {
	switch {
	case errors.Is(err, ErrNotFound):
		return OutcomeNotFound, true
	case errors.Is(err, ErrNotOpen):
		return OutcomeNotOpen, true
	case errors.Is(err, ErrTruncated):
		return OutcomeTruncated, true
	}
	return "", false
}
