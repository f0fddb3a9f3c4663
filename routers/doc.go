// Package routers holds the hub's logic: the canonical message types, the rules
// that validate and register a citizen's request, the Watermill handlers of
// every flow (intake, delivery, district status, comments), the outbox relay,
// and the small interfaces (ports) those flows need. It imports no adapter:
// adapters/… implement the ports, and cmd/korpu wires both together.
package routers
