package incident

import (
	"slices"
	"time"
)

// AlertKind is a kind of operator alert (DESIGN §4, issue 9): what an
// on-call channel is told about, as opposed to what the public page says.
type AlertKind string

// The alert kinds. A recovery is not a kind: it is the resolve message of
// an alert of one of these kinds.
const (
	AlertCheckDown          AlertKind = "check_down"
	AlertCheckDegraded      AlertKind = "check_degraded"
	AlertCertExpiring       AlertKind = "cert_expiring"
	AlertRenewalOverdue     AlertKind = "cert_renewal_overdue"
	AlertIssuerChanged      AlertKind = "cert_issuer_changed"
	AlertNodesDisagree      AlertKind = "nodes_disagree"
	AlertRegionUnhealthy    AlertKind = "region_unhealthy"
	AlertCheckMisconfigured AlertKind = "check_misconfigured"
)

// AlertKinds lists every kind, in the order the console shows them.
func AlertKinds() []AlertKind {
	return []AlertKind{AlertCheckDown, AlertCheckDegraded, AlertCertExpiring, AlertRenewalOverdue, AlertIssuerChanged,
		AlertNodesDisagree, AlertRegionUnhealthy, AlertCheckMisconfigured}
}

// Title is the kind in a few words, for message headlines.
func (k AlertKind) Title() string {
	switch k {
	case AlertCheckDown:
		return "check down"
	case AlertCheckDegraded:
		return "check degraded"
	case AlertCertExpiring:
		return "certificate expiring"
	case AlertRenewalOverdue:
		return "certificate renewal overdue"
	case AlertIssuerChanged:
		return "certificate issuer changed"
	case AlertNodesDisagree:
		return "nodes disagree"
	case AlertRegionUnhealthy:
		return "probe region unhealthy"
	case AlertCheckMisconfigured:
		return "check misconfigured"
	}
	return string(k)
}

// Critical reports whether the kind pages someone (PagerDuty severity
// critical) rather than warns.
func (k AlertKind) Critical() bool { return k == AlertCheckDown }

// checkFamily are the kinds that stand for a check's overall state: at
// most one of them is open per subject, and moving between them is an
// escalation or a relabel, not a recovery.
func checkFamily(k AlertKind) bool { return k == AlertCheckDown || k == AlertCheckDegraded }

// certKinds maps the kinds of trouble that get an alert of their own to
// their alert kind.
var certKinds = map[Kind]AlertKind{
	KindCertExpiring:      AlertCertExpiring,
	KindCertRenewal:       AlertRenewalOverdue,
	KindCertIssuerChanged: AlertIssuerChanged,
	KindNodesDisagree:     AlertNodesDisagree,
}

// FiringAlerts are the alerts a component's trouble fires: check down or
// degraded after its state, and one alert per certificate kind of trouble
// (expiring, renewal overdue, issuer changed, nodes disagree), so an
// operator learns of a renewal overdue even while the check is only
// degraded. Up (or unknown) fires nothing.
func FiringAlerts(s State, kinds []Kind) []AlertKind {
	var out []AlertKind
	switch s {
	case Down:
		out = append(out, AlertCheckDown)
	case Degraded:
		out = append(out, AlertCheckDegraded)
	default:
		return nil
	}
	for _, k := range kinds {
		if a, ok := certKinds[k]; ok && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// AlertStep is what to do about one alert of one channel.
type AlertStep string

// The steps.
const (
	AlertNone AlertStep = ""
	// AlertTrigger: a new alert; send it.
	AlertTrigger AlertStep = "trigger"
	// AlertEscalate: an open check alert got worse (degraded → down): the
	// alert changes kind and is sent again.
	AlertEscalate AlertStep = "escalate"
	// AlertRelabel: an open check alert got better but is not over (down →
	// degraded): the alert changes kind silently.
	AlertRelabel AlertStep = "relabel"
	// AlertRepeat: still firing, unacknowledged, and the channel's repeat
	// interval passed since the last send: send it again.
	AlertRepeat AlertStep = "repeat"
	// AlertResolve: the condition is over: one recovery message.
	AlertResolve AlertStep = "resolve"
)

// OpenAlert is an unresolved alert as the decisions see it.
type OpenAlert struct {
	Kind         AlertKind
	Acknowledged bool
	LastSent     time.Time
}

// AlertChange is one step for one alert kind of a subject.
type AlertChange struct {
	Kind AlertKind
	// From is the open alert's kind an escalation or relabel changes
	// (Kind is the new one); "" otherwise.
	From AlertKind
	Step AlertStep
}

// PlanAlerts compares a subject's open alerts (of one channel) with what
// fires now and returns the steps, in a stable order: resolves first, then
// escalations and relabels, then triggers. In maintenance nothing new is
// triggered or escalated, but alerts still resolve (as incidents do).
func PlanAlerts(open []OpenAlert, firing []AlertKind, inMaintenance bool) []AlertChange {
	isOpen := map[AlertKind]bool{}
	for _, a := range open {
		isOpen[a.Kind] = true
	}
	fires := map[AlertKind]bool{}
	for _, k := range firing {
		fires[k] = true
	}
	var resolves, moves, triggers []AlertChange
	for _, a := range open {
		if fires[a.Kind] {
			continue
		}
		if checkFamily(a.Kind) {
			other := AlertCheckDown
			if a.Kind == AlertCheckDown {
				other = AlertCheckDegraded
			}
			if fires[other] && !isOpen[other] {
				switch {
				case other == AlertCheckDown && !inMaintenance:
					moves = append(moves, AlertChange{Kind: other, From: a.Kind, Step: AlertEscalate})
				case other == AlertCheckDown:
					// In maintenance a degraded alert neither escalates nor
					// resolves while the check is down.
				default:
					moves = append(moves, AlertChange{Kind: other, From: a.Kind, Step: AlertRelabel})
				}
				isOpen[other] = true
				continue
			}
		}
		resolves = append(resolves, AlertChange{Kind: a.Kind, Step: AlertResolve})
	}
	if !inMaintenance {
		for _, k := range firing {
			if !isOpen[k] {
				isOpen[k] = true
				triggers = append(triggers, AlertChange{Kind: k, Step: AlertTrigger})
			}
		}
	}
	return append(append(resolves, moves...), triggers...)
}

// RepeatSituation is an open alert when the repeat tick looks at it.
type RepeatSituation struct {
	Acknowledged  bool
	InMaintenance bool
	// LastSent is when the alert was last sent to the channel.
	LastSent time.Time
	// Every is the channel's repeat interval; 0 never repeats.
	Every time.Duration
	// At is now.
	At time.Time
}

// ShouldRepeat reports whether an open alert is sent again now (DESIGN
// §4): on the channel's schedule, never on probe rounds, until it is
// acknowledged or resolved, and not during its component's maintenance.
func ShouldRepeat(s RepeatSituation) bool {
	if s.Acknowledged || s.InMaintenance || s.Every <= 0 || s.LastSent.IsZero() {
		return false
	}
	return !s.At.Before(s.LastSent.Add(s.Every))
}

// NextRepeat is when an open alert would next be repeated; the zero time
// when it never will.
func NextRepeat(s RepeatSituation) time.Time {
	if s.Acknowledged || s.Every <= 0 || s.LastSent.IsZero() {
		return time.Time{}
	}
	return s.LastSent.Add(s.Every)
}
