-- Ingest from the real world: integrations that senders sign their webhooks for, each account's
-- own carrier-code mappings (layered over the seed table), and the store platforms' own order ids
-- so that a later fulfillment webhook (which names only the platform's id) finds its order.

-- `secret` is a shared secret: the sender signs its webhooks with it and Milepost recomputes the
-- HMAC to verify them, so it is kept as given (a hash could not verify a signature). Only the
-- account's admin can create one, and it is never read back through the API.
CREATE TABLE integrations (
    id          TEXT PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    kind        TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX integrations_by_account ON integrations(account_id);

-- An account's mapping of one carrier's raw code; `milestone` NULL marks the code informational.
CREATE TABLE carrier_code_overrides (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    carrier     TEXT NOT NULL,
    code        TEXT NOT NULL,
    milestone   TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, carrier, code)
);

-- A store platform's id for an order (Shopify's numeric `id`), per account and channel.
CREATE TABLE channel_order_refs (
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    channel       TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    order_number  TEXT NOT NULL,
    PRIMARY KEY (account_id, channel, external_id)
);
