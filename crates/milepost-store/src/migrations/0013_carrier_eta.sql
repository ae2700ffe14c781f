-- The carrier's own estimated delivery day, from its newest event that gave one: one input of
-- Milepost's ETA. `carrier_eta_from_us` is that event's time, so a late event's older estimate
-- does not replace a newer one.
ALTER TABLE shipments ADD COLUMN carrier_eta TEXT;
ALTER TABLE shipments ADD COLUMN carrier_eta_from_us BIGINT;
