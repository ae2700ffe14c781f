-- Milepost's own ETA (issue 8). Each delivered outbound parcel adds one to the transit histogram
-- of its lane at each scope (full lane, lane without weekday, carrier and service), in the
-- transaction that records the delivery, so a prediction reads three small sets of rows and never
-- scans history. `shipments.eta_earliest`/`eta_latest` now hold Milepost's published window, and
-- every change of it is kept in `eta_changes` with what caused it, so churn is measurable.

-- The window in force when the parcel was first in carrier hands, kept once for the ETA-accuracy KPI.
ALTER TABLE shipments ADD COLUMN eta_possession_earliest TEXT;
ALTER TABLE shipments ADD COLUMN eta_possession_latest TEXT;
ALTER TABLE shipments ADD COLUMN eta_learned INTEGER NOT NULL DEFAULT 0;

CREATE TABLE lane_transit (
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    scope_key     TEXT NOT NULL,
    business_days INTEGER NOT NULL,
    deliveries    INTEGER NOT NULL,
    PRIMARY KEY (account_id, scope_key, business_days)
);

CREATE TABLE eta_changes (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts(id),
    shipment_id       INTEGER NOT NULL REFERENCES shipments(id),
    previous_earliest TEXT,
    previous_latest   TEXT,
    earliest          TEXT NOT NULL,
    latest            TEXT NOT NULL,
    basis             TEXT NOT NULL,
    reason            TEXT NOT NULL,
    milestone         TEXT,
    changed_at        TEXT NOT NULL
);
CREATE INDEX eta_changes_by_shipment ON eta_changes(shipment_id, id);
