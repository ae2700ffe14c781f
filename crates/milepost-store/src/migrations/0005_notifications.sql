-- Notifications (DESIGN §2, §5): the outbox, written in the same transaction as the change that
-- causes each message, and each account's delivery settings (merchant webhook, staff alerts).
-- A message is named by its dedupe key and stored once per account; workers claim due rows
-- with a lease (`claimed_until_us`, `claim`) so a worker that dies mid-send neither loses the
-- message (the lease runs out and another worker takes it) nor records over a newer claim.

CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    order_id         INTEGER NOT NULL REFERENCES orders(id),
    shipments        TEXT NOT NULL,
    audience         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    milestone        TEXT,
    kind             TEXT,
    order_class      TEXT NOT NULL,
    team             TEXT,
    dedupe_key       TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_us  INTEGER NOT NULL,
    claimed_until_us INTEGER,
    claim            TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT,
    UNIQUE (account_id, dedupe_key)
);
CREATE INDEX notifications_due ON notifications(next_attempt_us, id) WHERE state = 'pending';
CREATE INDEX notifications_by_order ON notifications(order_id, id);
CREATE INDEX notifications_by_state ON notifications(account_id, state, id);

CREATE TABLE notification_settings (
    account_id     INTEGER PRIMARY KEY REFERENCES accounts(id),
    webhook_url    TEXT,
    webhook_secret TEXT,
    alert_email    TEXT,
    chat_webhook_url TEXT,
    updated_at     TEXT NOT NULL
);
