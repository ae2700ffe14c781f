-- Returns (RMA) beyond the request: each account's eligibility rules, the history of every
-- state change of a return (who moved it, when, why), and the return parcel a return travels in.

CREATE TABLE return_policies (
    account_id          INTEGER PRIMARY KEY REFERENCES accounts(id),
    window_days         INTEGER NOT NULL CHECK (window_days >= 0),
    -- JSON arrays of strings.
    non_returnable_skus TEXT NOT NULL,
    reasons             TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE TABLE return_transitions (
    id          INTEGER PRIMARY KEY,
    return_id   INTEGER NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT,
    occurred_at TEXT NOT NULL
);
CREATE INDEX return_transitions_by_return ON return_transitions(return_id, id);

ALTER TABLE returns ADD COLUMN return_shipment_id INTEGER REFERENCES shipments(id);
CREATE INDEX returns_by_shipment ON returns(return_shipment_id);
CREATE INDEX returns_by_account_state ON returns(account_id, state, created_at);
