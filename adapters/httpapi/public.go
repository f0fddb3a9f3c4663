package httpapi

import (
	"net/http"

	"github.com/korpu-az/korpu/routers/catalogue"
	"github.com/korpu-az/korpu/schemas"
)

// registerPublic serves what anyone may read, without a token: the API's
// OpenAPI description and the service catalogue as Open311.
func registerPublic(mux *http.ServeMux) {
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(schemas.OpenAPI) // a failed write means the client left: nothing to do
	})
	registerOpen311(mux, catalogue.Default())
}
