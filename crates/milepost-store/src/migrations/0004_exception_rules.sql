-- Exception rules: when each shipment is next due for a rule check (so the sweeper reads an
-- index instead of scanning every shipment), who worked each exception, and the learned rhythm
-- of each lane.

ALTER TABLE shipments ADD COLUMN next_check_us INTEGER;
CREATE INDEX shipments_due ON shipments(next_check_us) WHERE next_check_us IS NOT NULL;

ALTER TABLE exceptions ADD COLUMN detail TEXT;
ALTER TABLE exceptions ADD COLUMN acknowledged_by TEXT;
ALTER TABLE exceptions ADD COLUMN acknowledged_at TEXT;
ALTER TABLE exceptions ADD COLUMN assigned_by TEXT;
ALTER TABLE exceptions ADD COLUMN resolved_by TEXT;
CREATE INDEX exceptions_queue ON exceptions(account_id, state, id);
CREATE INDEX exceptions_by_shipment ON exceptions(shipment_id, state);

CREATE TABLE lane_rhythm (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    lane        TEXT NOT NULL,
    stage       TEXT NOT NULL,
    median_s    INTEGER NOT NULL,
    p90_s       INTEGER NOT NULL,
    samples     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, lane, stage)
);

-- A shipment's and an order's own events are read on every status recompute and every order
-- read: without these, each of those reads would scan the whole event log.
CREATE INDEX events_by_shipment ON events(shipment_id, occurred_at_us) WHERE shipment_id IS NOT NULL;
CREATE INDEX events_of_order_itself ON events(order_id) WHERE shipment_id IS NULL;
