-- What the customer was charged, when the channel says (Shopify's `current_total_price`:
-- discounts, shipping and tax included). `value_e4` stays the order's value as the outbox and
-- KPIs read it: this charged total when known, otherwise the sum of the lines.
ALTER TABLE orders ADD COLUMN charged_e4 INTEGER;
