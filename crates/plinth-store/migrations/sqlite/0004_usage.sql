-- Daily usage per org, and per workspace where it applies ('' = the org as a whole).
-- Counters (api_requests, workspace_requests, dns_queries) are added to by batched
-- flushes; snapshots (members, workspaces, audit_events) are overwritten. No foreign keys:
-- a deleted workspace's usage stays in its org's totals.
CREATE TABLE usage_daily (
    org_id       TEXT   NOT NULL,
    workspace_id TEXT   NOT NULL DEFAULT '',
    day          TEXT   NOT NULL,
    metric       TEXT   NOT NULL,
    value        BIGINT NOT NULL,
    CONSTRAINT usage_daily_pkey PRIMARY KEY (org_id, day, workspace_id, metric)
);
