-- Customer pages: each account's branding, server secrets generated once and kept (the key
-- that signs tracking links when MILEPOST_SECRET is not set), and return requests with their
-- items as customers start them from the tracking page.

CREATE TABLE branding (
    account_id     INTEGER PRIMARY KEY REFERENCES accounts(id),
    name           TEXT,
    logo_url       TEXT,
    primary_color  TEXT,
    accent_color   TEXT,
    support_url    TEXT,
    support_email  TEXT,
    footer_text    TEXT,
    updated_at     TEXT NOT NULL
);

CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE returns (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    state       TEXT NOT NULL,
    source      TEXT NOT NULL,
    note        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX returns_by_order ON returns(order_id, id);

CREATE TABLE return_items (
    return_id  INTEGER NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
    line_no    INTEGER NOT NULL,
    sku        TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    reason     TEXT NOT NULL,
    PRIMARY KEY (return_id, line_no)
);
