package tlog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a signed statement of the tree's size and root.
type Checkpoint struct {
	Size uint64
	Root []byte
	// Note is the signed note as served and published: the C2SP
	// tlog-checkpoint body (origin, size, base64 root) and its signature.
	Note []byte
	At   time.Time // when the hub signed it
}

// Signer signs checkpoints with an Ed25519 note key. The key's name is the
// log's origin, the checkpoint's first line.
type Signer struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

// NewSigner reads a note signer key (PRIVATE+KEY+name+hash+key, as
// `korpu audit key` or note.GenerateKey makes). The error never quotes the
// key.
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, errors.New("not a note signer key (PRIVATE+KEY+name+hash+key, Ed25519)")
	}
	vkey, err := verifierKey(skey)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("the key's verifier: %w", err)
	}
	return &Signer{signer: s, verifier: v, vkey: vkey}, nil
}

// GenerateKey makes a new signer key for the log named origin (the demo's,
// or an operator's first), and its verifier key.
func GenerateKey(origin string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, origin)
}

// verifierKey derives the verifier key of a note signer key:
// PRIVATE+KEY+name+hash+base64(alg, seed) → name+hash+base64(alg, public key).
func verifierKey(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", errors.New("not a note signer key")
	}
	name, hash, enc := parts[2], parts[3], parts[4]
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("not an Ed25519 note signer key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return name + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, pub...)), nil
}

// Origin is the log's name, the first line of its checkpoints.
func (s *Signer) Origin() string { return s.signer.Name() }

// VerifierKey is the public key monitors verify checkpoints with
// (name+hash+key); it may be printed and published.
func (s *Signer) VerifierKey() string { return s.vkey }

// Sign signs the tree of size leaves and root at the instant at.
func (s *Signer) Sign(size uint64, root []byte, at time.Time) (Checkpoint, error) {
	body := log.Checkpoint{Origin: s.Origin(), Size: size, Hash: root}.Marshal()
	signed, err := note.Sign(&note.Note{Text: string(body)}, s.signer)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sign checkpoint: %w", err)
	}
	return Checkpoint{Size: size, Root: root, Note: signed, At: at}, nil
}

// Verifier checks checkpoints against a verifier key.
type Verifier struct{ v note.Verifier }

// NewVerifier reads a verifier key (name+hash+key).
func NewVerifier(vkey string) (*Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	return &Verifier{v: v}, nil
}

// Verifier is the signer's own verifier.
func (s *Signer) Verifier() *Verifier { return &Verifier{v: s.verifier} }

// MaxNote bounds a checkpoint note read from outside (a monitor's copy).
const MaxNote = 4096

// Open verifies a signed checkpoint note and returns its size and root; a
// note not signed by the log's key, altered, or not a checkpoint of this
// log is refused.
func (v *Verifier) Open(signed []byte) (Checkpoint, error) {
	if len(signed) > MaxNote {
		return Checkpoint{}, fmt.Errorf("checkpoint note longer than %d bytes", MaxNote)
	}
	cp, _, _, err := log.ParseCheckpoint(signed, v.v.Name(), v.v)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint refused: %w", err)
	}
	if len(cp.Hash) != Hasher.Size() {
		return Checkpoint{}, fmt.Errorf("checkpoint refused: root of %d bytes", len(cp.Hash))
	}
	return Checkpoint{Size: cp.Size, Root: cp.Hash, Note: signed}, nil
}
