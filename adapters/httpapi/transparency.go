package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
)

// TransparencyLog answers the log's routes (routers.LogProofs).
type TransparencyLog interface {
	Latest(ctx context.Context) (tlog.Checkpoint, error)
	Inclusion(ctx context.Context, number string, sequence int, size uint64) (routers.EventProof, error)
	Consistency(ctx context.Context, from, to uint64) (older, newer tlog.Checkpoint, proof [][]byte, err error)
}

// Retry-After of a proof asked too early: an event joins the log within
// about a second, a checkpoint covers it within the checkpoint interval.
const (
	notSequencedRetryAfter    = "2"
	notCheckpointedRetryAfter = "60"
)

// maxAppealNumber bounds the number a client sends; real ones are 19 bytes.
const maxAppealNumber = 64

func (a *api) registerTransparencyLog(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/log/checkpoint", a.portalOrMonitor(a.logCheckpoint))
	mux.HandleFunc("GET /v1/log/proof", a.portalOrMonitor(a.logProof))
	mux.HandleFunc("GET /v1/log/consistency", a.portalOrMonitor(a.logConsistency))
}

// logCheckpoint serves the latest checkpoint as the signed note it is.
func (a *api) logCheckpoint(w http.ResponseWriter, r *http.Request) {
	cp, err := a.cfg.Log.Latest(r.Context())
	switch {
	case errors.Is(err, routers.ErrNotFound):
		notFound(w, "Jurnalın hələ imzalanmış nöqtəsi yoxdur.", "The log has no checkpoint yet.")
		return
	case err != nil:
		a.unavailableProblem(w, "log checkpoint", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(cp.Note) // a failed write means the client left
}

// checkpointView is a checkpoint in JSON: its size and root, and the signed
// note to verify.
type checkpointView struct {
	Size uint64 `json:"size"`
	Root []byte `json:"root_hash"` // base64
	Note string `json:"note"`
}

func viewOf(cp tlog.Checkpoint) checkpointView {
	return checkpointView{Size: cp.Size, Root: cp.Root, Note: string(cp.Note)}
}

type proofView struct {
	AppealNumber string         `json:"appeal_number"`
	Sequence     int            `json:"sequence"`
	LeafIndex    uint64         `json:"leaf_index"`
	LeafHash     []byte         `json:"leaf_hash"` // base64
	Proof        [][]byte       `json:"proof"`     // base64 each, RFC 6962 order
	Checkpoint   checkpointView `json:"checkpoint"`
}

type pendingView struct {
	Status    string  `json:"status"` // queued: not in the log yet; sequenced: in the log, past the checkpoint
	LeafIndex *uint64 `json:"leaf_index,omitempty"`
}

// size reads an optional tree size; 0 when absent.
func querySize(r *http.Request, name string) (uint64, *routers.FieldError) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(raw, 10, 63)
	if err != nil || n == 0 {
		return 0, &routers.FieldError{Field: name, Message: "must be a positive whole number"}
	}
	return n, nil
}

func (a *api) logProof(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var errs []routers.FieldError
	number := q.Get("number")
	if number == "" || len(number) > maxAppealNumber {
		errs = append(errs, routers.FieldError{Field: "number", Message: "required, at most 64 bytes"})
	}
	sequence, err := strconv.Atoi(q.Get("sequence"))
	if err != nil || sequence < 1 || sequence > 1<<30 {
		errs = append(errs, routers.FieldError{Field: "sequence", Message: "must be a positive whole number"})
	}
	size, bad := querySize(r, "size")
	if bad != nil {
		errs = append(errs, *bad)
	}
	if len(errs) > 0 {
		badRequest(w, errs...)
		return
	}
	p, err := a.cfg.Log.Inclusion(r.Context(), number, sequence, size)
	switch {
	case errors.Is(err, routers.ErrNotSequenced):
		view := pendingView{Status: "queued"}
		w.Header().Set("Retry-After", notSequencedRetryAfter)
		if p.Sequenced {
			view = pendingView{Status: "sequenced", LeafIndex: &p.LeafIndex}
			w.Header().Set("Retry-After", notCheckpointedRetryAfter)
		}
		writeJSON(w, http.StatusAccepted, view)
	case errors.Is(err, routers.ErrNotFound):
		notFound(w, "Belə hadisə və ya nöqtə yoxdur.", "No such event, or no checkpoint of that size.")
	case err != nil:
		a.unavailableProblem(w, "log proof", err)
	default:
		writeJSON(w, http.StatusOK, proofView{
			AppealNumber: number, Sequence: sequence, LeafIndex: p.LeafIndex, LeafHash: p.LeafHash, Proof: p.Proof,
			Checkpoint: viewOf(p.Checkpoint),
		})
	}
}

type consistencyView struct {
	From  checkpointView `json:"from"`
	To    checkpointView `json:"to"`
	Proof [][]byte       `json:"proof"` // base64 each, RFC 6962 order
}

func (a *api) logConsistency(w http.ResponseWriter, r *http.Request) {
	var errs []routers.FieldError
	from, bad := querySize(r, "from")
	if bad != nil {
		errs = append(errs, *bad)
	} else if from == 0 {
		errs = append(errs, routers.FieldError{Field: "from", Message: "required"})
	}
	to, bad := querySize(r, "to")
	if bad != nil {
		errs = append(errs, *bad)
	}
	if len(errs) > 0 {
		badRequest(w, errs...)
		return
	}
	older, newer, proof, err := a.cfg.Log.Consistency(r.Context(), from, to)
	switch {
	case errors.Is(err, routers.ErrNotFound):
		notFound(w, "Belə ölçüdə nöqtə yoxdur.", "No checkpoint of that size, or from is past to.")
	case err != nil:
		a.unavailableProblem(w, "log consistency", err)
	default:
		writeJSON(w, http.StatusOK, consistencyView{From: viewOf(older), To: viewOf(newer), Proof: proof})
	}
}
