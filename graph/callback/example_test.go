package callback_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
)

// The wiring in a bot: one Validator for the bot's app ID, one Handler on the
// callback path, and the registry of calls as the Receiver.
func Example_wiring() {
	// In recgate the Receiver is fsm's registry; any Notify method will do.
	registry := callback.ReceiverFunc(func(ctx context.Context, n graph.Notification) error {
		// Look the call up and apply the notification without blocking.
		return nil
	})

	v, err := callback.NewValidator(os.Getenv("BOT_APP_ID"),
		callback.WithTenants(os.Getenv("BOT_TENANT_ID")), // optional allow-list
	)
	if err != nil {
		log.Fatal(err)
	}
	// Optional: find a wrong configuration URL at startup, not on the first
	// notification.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Prefetch(ctx); err != nil {
		log.Print(err)
	}
	h, err := callback.NewHandler(registry, v, callback.WithLogger(slog.Default()))
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("POST /api/calling", h)
	// log.Fatal(http.ListenAndServeTLS(":443", "cert.pem", "key.pem", nil))
}

// A genuine notification is handed on; the same body with an unsigned token
// is refused with 401 and reaches nobody.
func ExampleHandler() {
	keys, err := testKeys()
	if err != nil {
		fmt.Println(err)
		return
	}
	ms := startFakeMicrosoft() // serves an OpenID configuration and its keys
	defer ms.srv.Close()
	ms.publish("k1", keys[0])

	v, err := callback.NewValidator(testAppID,
		callback.WithOpenIDConfigURL(ms.configURL()),
		callback.WithHTTPClient(ms.srv.Client()),
		callback.WithNow(func() time.Time { return testNow }),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	recv := callback.ReceiverFunc(func(ctx context.Context, n graph.Notification) error {
		fmt.Printf("handed on: %s for call %s, operation %s %s, vouched for by %s\n",
			n.Kind, n.CallID, n.Operation.ID, n.Operation.Status, n.Issuer)
		return nil
	})
	quiet := slog.New(slog.DiscardHandler)
	h, err := callback.NewHandler(recv, v, callback.WithLogger(quiet))
	if err != nil {
		fmt.Println(err)
		return
	}

	post := func(token string) {
		req := httptest.NewRequest(http.MethodPost, "/api/calling",
			strings.NewReader(operationBody(testCallID, testOpID, "Completed")))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(strings.TrimSpace(fmt.Sprint(rec.Code, " ", rec.Body.String())))
	}
	genuine, err := signRS256(keys[0], "k1", validClaims())
	if err != nil {
		fmt.Println(err)
		return
	}
	forged, err := unsignedJWT(`{"alg":"none","typ":"JWT"}`, validClaims())
	if err != nil {
		fmt.Println(err)
		return
	}
	post(genuine)
	post(forged)
	// Output:
	// handed on: operation for call 421f4c00-4a3b-4fc6-a6c8-cf0a4e06e7a1, operation 9f1c2b3a-0000-4000-8000-00000000c0de completed, vouched for by https://graph.microsoft.com
	// 202
	// 401 Unauthorized: unsigned_token
}
