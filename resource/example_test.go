package resource_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/signet-id/signet/resource"
)

// An API that takes Signet's access tokens and API keys, and needs the
// "profile" scope on /things.
func Example() {
	const clientID = "my-api" // registered with `signet clients add`
	v, err := resource.New(resource.Config{
		Issuer:       "https://signet.example",
		Audiences:    []string{clientID},
		ClientID:     clientID, // API keys are checked by introspection as this client
		ClientSecret: os.Getenv("SIGNET_CLIENT_SECRET"),
	})
	if err != nil {
		log.Fatal(err)
	}
	things := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := resource.FromContext(r.Context())
		fmt.Fprintf(w, "things of %s (%s)\n", p.Subject, p.Address)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /things", v.Require("profile")(things))

	// A request without a credential is refused (RFC 6750 §3).
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/things", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output: 401 Bearer realm="api"
}
