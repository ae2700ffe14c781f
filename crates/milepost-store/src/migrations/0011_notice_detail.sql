-- What a customer message says beyond its notice, written with it: the reason a return was
-- rejected, which the customer reads in the message.
ALTER TABLE notifications ADD COLUMN detail TEXT;
