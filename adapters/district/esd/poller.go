package esd

import (
	"context"
	"time"

	"github.com/korpu-az/korpu/routers"
)

// Poller is the hub's view of an ESD system it must poll (routers.Poller):
// the client's Changes and State in the hub's terms.
type Poller struct{ Client *Client }

var _ routers.Poller = Poller{}

// Changes implements routers.Poller with DeyisiklikleriAl.
func (p Poller) Changes(ctx context.Context, since time.Time, limit int) (routers.ChangePage, error) {
	page, err := p.Client.Changes(ctx, since, limit)
	if err != nil {
		return routers.ChangePage{}, err
	}
	out := routers.ChangePage{More: page.More, Next: page.Next, Changes: make([]routers.DistrictChange, len(page.Changes))}
	for i, ch := range page.Changes {
		out.Changes[i] = routers.DistrictChange{AppealNumber: ch.AppealNumber, Reference: ch.ESDNumber, Status: ch.Status, Note: ch.Note, At: ch.At}
	}
	return out, nil
}

// State implements routers.Poller with VeziyyetSorgula.
func (p Poller) State(ctx context.Context, reference string) (routers.DistrictChange, error) {
	s, err := p.Client.State(ctx, reference)
	if err != nil {
		return routers.DistrictChange{}, err
	}
	return routers.DistrictChange{Reference: s.ESDNumber, Status: s.Status, Note: s.Note, At: s.At}, nil
}
