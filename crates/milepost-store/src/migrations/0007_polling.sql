-- Carrier polling: when each parcel is next due to be asked about. NULL means "never asked
-- yet" (due now) until the poller sets it; a parcel that needs no more polling keeps a far
-- future value only while it is not terminal, and is skipped by status once it is.
ALTER TABLE shipments ADD COLUMN next_poll_us INTEGER;
CREATE INDEX shipments_poll_due ON shipments(carrier, next_poll_us);
