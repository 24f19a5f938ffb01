package probes

import (
	"fmt"
	"math"
	"time"
)

// Lifetime-scaled expiry thresholds (DESIGN §4, §6).
//
// Fixed day counts cannot serve certificates from 24 hours to 398 days: a
// 21-day warning flags a healthy 6-day certificate the moment it is issued.
// ACME clients renew with a third of the lifetime left (half for lifetimes
// under ten days), so every default is a fraction of the certificate's own
// lifetime, capped at the historic 21/7 days for long-lived certificates:
//
//	renewal overdue  less than 1/3 of the lifetime left (2/3 used)
//	expiring         less than 1/4 of the lifetime left, at most 21 days
//	critical         less than 1/12 of the lifetime left, at most 7 days
//
// Overdue (1/3) comes before expiring (1/4) and critical (1/12) at every
// lifetime, and none of them before the client's own renewal point.
const (
	overdueFraction  = 3  // overdue when less than lifetime/3 is left
	warnFraction     = 4  // expiring (warning) when less than lifetime/4 is left
	criticalFraction = 12 // expiring (critical) when less than lifetime/12 is left
	shortLifetime    = 10 * 24 * time.Hour
)

// Thresholds are the expiry thresholds applied to one certificate, as time
// left before not_after. A zero Warn or Critical is disabled.
type Thresholds struct {
	// Renew is how much is left when an ACME client renews (informational).
	Renew time.Duration
	// Overdue: cert_renewal_overdue when less than this is left.
	Overdue time.Duration
	// Warn: cert_expiring (warning) when less than this is left.
	Warn time.Duration
	// Critical: cert_expiring becomes critical when less than this is left.
	Critical time.Duration
}

// DefaultThresholds returns the thresholds for a certificate valid for
// lifetime (not_before → not_after) when the check sets none. A
// non-positive lifetime gets the fixed 21/7-day defaults and no renewal rule.
func DefaultThresholds(lifetime time.Duration) Thresholds {
	if lifetime <= 0 {
		return Thresholds{Warn: days(DefaultWarnDays), Critical: days(DefaultCriticalDays)}
	}
	renew := lifetime / 3
	if lifetime < shortLifetime {
		renew = lifetime / 2
	}
	return Thresholds{
		Renew:    renew,
		Overdue:  lifetime / overdueFraction,
		Warn:     min(lifetime/warnFraction, days(DefaultWarnDays)),
		Critical: min(lifetime/criticalFraction, days(DefaultCriticalDays)),
	}
}

// ExpiryThresholds returns the thresholds for a certificate valid for
// lifetime under a check's warn_days and critical_days: positive days win
// over the lifetime-scaled defaults, negative disable the threshold, zero
// keeps the default. The probe and `pharos check`'s plugin output both
// judge by it, so they never disagree.
func ExpiryThresholds(lifetime time.Duration, warnDays, criticalDays int) Thresholds {
	t := DefaultThresholds(lifetime)
	switch {
	case warnDays > 0:
		t.Warn = days(warnDays)
	case warnDays < 0:
		t.Warn = 0
	}
	switch {
	case criticalDays > 0:
		t.Critical = days(criticalDays)
	case criticalDays < 0:
		t.Critical = 0
	}
	return t
}

// Expiry is what the time thresholds say about a certificate at one moment.
type Expiry struct {
	Expiring, Critical, Overdue bool
}

// Judge applies t to a certificate valid from notBefore to notAfter at now.
// It assumes the certificate is within its validity.
func (t Thresholds) Judge(notBefore, notAfter, now time.Time) Expiry {
	left := notAfter.Sub(now)
	return Expiry{
		Expiring: t.Warn > 0 && left < t.Warn || t.Critical > 0 && left < t.Critical,
		Critical: t.Critical > 0 && left < t.Critical,
		Overdue:  t.Overdue > 0 && left < t.Overdue,
	}
}

// lifetimeText names a lifetime the way operators speak of it: "24-hour",
// "6-day", "90-day".
func lifetimeText(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%d-hour", int(math.Round(d.Hours())))
	}
	return fmt.Sprintf("%d-day", int(math.Round(d.Hours()/24)))
}

// span writes a duration in the largest whole unit that fits: "30 days",
// "12 hours", "45 minutes".
func span(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/time.Minute), "minute")
}
