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

-- What the warehouse found in each returned item and what becomes of it.
CREATE TABLE return_inspections (
    return_id   INTEGER NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
    line_no     INTEGER NOT NULL,
    sku         TEXT NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    result      TEXT NOT NULL,
    disposition TEXT NOT NULL,
    PRIMARY KEY (return_id, line_no)
);

-- Claims against a carrier for a lost or damaged parcel, opened from an exception.
CREATE TABLE claims (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    exception_id INTEGER NOT NULL REFERENCES exceptions(id),
    carrier      TEXT,
    amount_e4    INTEGER NOT NULL CHECK (amount_e4 > 0),
    currency     TEXT NOT NULL,
    evidence     TEXT,
    state        TEXT NOT NULL,
    opened_by    TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX claims_by_order ON claims(order_id, id);
CREATE INDEX claims_by_exception ON claims(exception_id);
