-- The operations lists page through an account's orders and exceptions newest first
-- (`ORDER BY id DESC LIMIT n`). With no index led by the account and ending in the id, SQLite
-- read every order (or exception) of the account and sorted them for each page: work that grew
-- with the history. These indexes give each page in order, so it stops after its n rows.
CREATE INDEX orders_by_account ON orders(account_id, id);
CREATE INDEX exceptions_by_account ON exceptions(account_id, id);
-- Lane rhythms are re-learned every ten minutes from the last 90 days' outbound deliveries; the
-- writer used to scan every shipment to find them. Only delivered outbound parcels are in here.
CREATE INDEX shipments_delivered_outbound ON shipments(status_since_us)
    WHERE status = 'delivered' AND direction = 'outbound';
-- KPI reports read the orders placed in a period; without this index they read every order of
-- the account and sorted those in the period.
CREATE INDEX orders_by_account_placed ON orders(account_id, placed_at_us);
