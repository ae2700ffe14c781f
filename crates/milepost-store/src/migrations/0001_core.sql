-- Milepost core schema: accounts and keys, orders with items, shipments with items, the
-- append-only event log, and exceptions. Times are stored twice where they are sorted on: the
-- RFC 3339 text as received (offset preserved) and UTC microseconds for ordering.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    role        TEXT NOT NULL CHECK (role IN ('admin', 'ingest', 'support')),
    key_hash    TEXT NOT NULL UNIQUE,
    key_prefix  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE orders (
    id                    INTEGER PRIMARY KEY,
    account_id            INTEGER NOT NULL REFERENCES accounts(id),
    order_number          TEXT NOT NULL,
    channel               TEXT NOT NULL,
    placed_at             TEXT NOT NULL,
    placed_at_us          INTEGER NOT NULL,
    promised_by           TEXT,
    currency              TEXT NOT NULL,
    value_e4              INTEGER NOT NULL,
    customer_name         TEXT,
    customer_email        TEXT,
    customer_phone        TEXT,
    customer_postal_code  TEXT,
    ship_to_line1         TEXT,
    ship_to_line2         TEXT,
    ship_to_city          TEXT,
    ship_to_region        TEXT,
    ship_to_postal_code   TEXT,
    ship_to_country       TEXT,
    status                TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    UNIQUE (account_id, order_number)
);
CREATE INDEX orders_by_account_status ON orders(account_id, status, id);
CREATE INDEX orders_by_account_email ON orders(account_id, customer_email);

CREATE TABLE order_items (
    order_id     INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line_no      INTEGER NOT NULL,
    sku          TEXT NOT NULL,
    description  TEXT,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_e4 INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE shipments (
    id                    INTEGER PRIMARY KEY,
    account_id            INTEGER NOT NULL REFERENCES accounts(id),
    order_id              INTEGER NOT NULL REFERENCES orders(id),
    tracking_number       TEXT NOT NULL,
    carrier               TEXT,
    service               TEXT,
    direction             TEXT NOT NULL CHECK (direction IN ('outbound', 'return')),
    origin_location_id    TEXT,
    origin_postal_code    TEXT,
    origin_country        TEXT,
    label_cost_e4         INTEGER,
    handling_cost_e4      INTEGER,
    status                TEXT NOT NULL,
    status_since_us       INTEGER,
    first_possession_us   INTEGER,
    delayed               INTEGER NOT NULL DEFAULT 0,
    eta_earliest          TEXT,
    eta_latest            TEXT,
    created_at            TEXT NOT NULL,
    UNIQUE (account_id, tracking_number)
);
CREATE INDEX shipments_by_order ON shipments(order_id);

CREATE TABLE shipment_items (
    shipment_id  INTEGER NOT NULL REFERENCES shipments(id) ON DELETE CASCADE,
    sku          TEXT NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, sku)
);

-- The event log. `scope` is what an event is about: `t:<tracking number>` for a parcel (even
-- before the shipment is registered) or `o:<order id>` for the order itself; duplicates are
-- detected within a scope (rule 4).
CREATE TABLE events (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts(id),
    scope             TEXT NOT NULL,
    order_id          INTEGER REFERENCES orders(id),
    shipment_id       INTEGER REFERENCES shipments(id),
    tracking_number   TEXT,
    source            TEXT NOT NULL,
    source_event_id   TEXT,
    carrier           TEXT,
    code              TEXT,
    description       TEXT,
    milestone         TEXT,
    mapping           TEXT NOT NULL CHECK (mapping IN ('mapped', 'informational', 'unmapped', 'given')),
    occurred_at       TEXT NOT NULL,
    occurred_at_us    INTEGER NOT NULL,
    received_at       TEXT NOT NULL,
    city              TEXT,
    region            TEXT,
    postal_code       TEXT,
    country           TEXT,
    fact_key          TEXT NOT NULL,
    duplicate_count   INTEGER NOT NULL DEFAULT 0,
    raw               TEXT
);
CREATE INDEX events_by_scope_time ON events(account_id, scope, occurred_at_us);
CREATE UNIQUE INDEX events_fact_once ON events(account_id, scope, fact_key);
CREATE UNIQUE INDEX events_source_id_once ON events(account_id, source, source_event_id)
    WHERE source_event_id IS NOT NULL;
CREATE INDEX events_unmapped ON events(account_id, carrier, code) WHERE mapping = 'unmapped';

CREATE TABLE exceptions (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    order_id      INTEGER NOT NULL REFERENCES orders(id),
    shipment_id   INTEGER REFERENCES shipments(id),
    kind          TEXT NOT NULL,
    cause_key     TEXT NOT NULL,
    severity      TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_at     TEXT NOT NULL,
    due_at        TEXT,
    closed_at     TEXT,
    owner         TEXT,
    note          TEXT,
    UNIQUE (account_id, cause_key)
);
CREATE INDEX exceptions_by_order ON exceptions(order_id, state);
