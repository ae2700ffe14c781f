-- One index fewer to write per event. `events_by_scope_time (account_id, scope, occurred_at_us)`
-- served only lookups by account and scope (attaching early events to a newly registered parcel,
-- finding the stored twin of a duplicate, re-normalizing), and the unique `events_fact_once
-- (account_id, scope, fact_key)` starts with the same two columns, so those lookups use it
-- (checked with EXPLAIN QUERY PLAN). Timelines are read through `events_by_shipment` and
-- `events_of_order_itself`. Every ingested event paid for the dropped index with a b-tree insert.
DROP INDEX IF EXISTS events_by_scope_time;
