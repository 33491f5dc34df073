package application

import "time"

// CodeTerms are what a client is told once a code is on its way: when the
// phone may ask again and how long the code stays valid.
type CodeTerms struct {
	ResendAfter time.Duration
	ExpiresIn   time.Duration
}

// Terms returns the terms every code RequestSMSCode sends comes with, so an
// API can tell them without keeping its own copy of the policy.
func (uc *RequestSMSCode) Terms() CodeTerms {
	return CodeTerms{ResendAfter: uc.policy.ResendInterval, ExpiresIn: uc.policy.CodeTTL}
}
