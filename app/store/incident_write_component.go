package store

import (
	"context"
	"fmt"
)

// SetComponentStatusBy sets a component's status by hand, audited, and
// queues component.updated when it changed. With an incident (incidentID
// not 0, on the component's page) the component is linked to it as the
// incident's current effect, without a new update on its timeline.
func (s *Store) SetComponentStatusBy(ctx context.Context, orgID int64, actor Actor, componentID int64, status string,
	incidentID int64, deliver bool) (IncidentWritten, error) {
	if !ValidComponentStatus(status) {
		return IncidentWritten{}, invalid("status", "unknown component status %q (want operational, degraded_performance, partial_outage, major_outage or under_maintenance)", status)
	}
	var w IncidentWritten
	err := s.InTx(ctx, func(tx *Tx) error {
		var pageID int64
		err := tx.tx.QueryRowContext(ctx, tx.s.q(`SELECT page_id FROM components WHERE org_id = ? AND id = ?`), orgID, componentID).Scan(&pageID)
		if err != nil {
			return notFound(err, "component", componentID)
		}
		slug, err := tx.pageSlug(ctx, orgID, pageID)
		if err != nil {
			return err
		}
		w = IncidentWritten{IncidentID: incidentID, PageID: pageID, PageSlug: slug}
		if incidentID != 0 {
			cur, err := tx.incident(ctx, orgID, incidentID)
			if err != nil {
				return err
			}
			if cur.pageID != pageID {
				return invalid("incident", "incident %d is on another page than component %d", incidentID, componentID)
			}
		}
		at := now()
		affected, err := tx.setComponents(ctx, orgID, pageID, []ComponentStatusChange{{ComponentID: componentID, Status: status}}, at)
		if err != nil {
			return err
		}
		a := affected[0]
		if incidentID != 0 {
			if err := tx.linkComponent(ctx, orgID, incidentID, 0, a); err != nil {
				return err
			}
		}
		if a.OldStatus == a.NewStatus {
			return nil
		}
		if err := tx.Audit(ctx, orgID, actor, "component.status", fmt.Sprintf("component %d", componentID),
			map[string]any{"old_status": a.OldStatus, "new_status": a.NewStatus, "incident_id": incidentID}); err != nil {
			return err
		}
		_, err = tx.AddOutbox(ctx, []OutboxEvent{componentEvent(orgID, w, a, deliver, at)})
		return err
	})
	if err != nil {
		return IncidentWritten{}, err
	}
	return w, nil
}
