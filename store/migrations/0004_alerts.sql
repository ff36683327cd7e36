-- 0004 (alerts): additive columns and one bookkeeping table for the alerts engine.

-- rule_versions lacked `active`; a deactivation is a versioned change like any other.
ALTER TABLE rule_versions ADD COLUMN active BOOLEAN;
-- The alert whose resolution produced this rule version (NULL for config/API edits).
ALTER TABLE rule_versions ADD COLUMN alert_id VARCHAR;

-- The rule version a resolving transition created (resolve with rule_changes).
ALTER TABLE alert_events ADD COLUMN rule_version INTEGER;

-- Topics an alert concerns (the rule's topics for rule_review), for feeds and subscriptions.
ALTER TABLE alerts ADD COLUMN topics VARCHAR[];

-- Which outbox events have been expanded into `deliveries` rows. An event is expanded once,
-- in one transaction with its deliveries, so a rerun never expands it twice; an event with
-- no matching target still gets a row here (deliveries = 0) and is not re-examined.
CREATE TABLE outbox_dispatch (
    event_id     VARCHAR PRIMARY KEY,
    expanded_at  TIMESTAMPTZ NOT NULL,
    deliveries   INTEGER NOT NULL
);
