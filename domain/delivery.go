package domain

// DeliveryOutcome is what happened to an SMS message at one step of its
// delivery. Outboxes and workers report outcomes to a DeliveryObserver, so
// metrics see the same events that logs describe.
type DeliveryOutcome string

// Delivery outcomes. Retrying is the only one that is not final.
const (
	DeliveryDelivered DeliveryOutcome = "delivered"
	DeliveryRetrying  DeliveryOutcome = "retrying"
	// DeliveryFailed is a permanent refusal by the provider (invalid or
	// non-mobile number): no retry can help.
	DeliveryFailed DeliveryOutcome = "failed"
	// DeliveryGaveUp means temporary failures lasted until the attempts ran
	// out.
	DeliveryGaveUp DeliveryOutcome = "gave_up"
	// DeliveryExpired means the code expired before it could be sent.
	DeliveryExpired DeliveryOutcome = "expired"
	// DeliveryDropped means shutdown ended before the message was sent.
	DeliveryDropped DeliveryOutcome = "dropped"
)

// DeliveryObserver is told of every delivery outcome.
type DeliveryObserver interface {
	ObserveDelivery(outcome DeliveryOutcome)
}
