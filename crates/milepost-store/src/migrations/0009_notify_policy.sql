-- Each account's own notification policy (issue 6): the TOML document the merchant wrote, kept
-- as written after it was checked, and read by the outbox hooks inside the write transaction of
-- every change. An account without a row follows the built-in policy of DESIGN §5.

CREATE TABLE notification_policies (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    document   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
