-- Staff accounts of the operations dashboard (`/ops`) and their login sessions. An e-mail
-- address names one staff user in the whole installation, so the login form needs no account
-- name; passwords are stored only as argon2id hashes and session ids only as SHA-256 hashes.

CREATE TABLE staff_users (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'ingest', 'support')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE staff_sessions (
    id_hash        TEXT PRIMARY KEY,
    staff_id       INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    created_at     TEXT NOT NULL,
    expires_at_us  INTEGER NOT NULL
);
CREATE INDEX staff_sessions_by_user ON staff_sessions(staff_id);
