-- The cdrs table as a PostgreSQL shop would keep it (SPEC 2.1 types): primary key
-- (tenant, call_id), indexes for time ranges and caller / callee look-ups, and call_date as a
-- stored generated column (cdrlake's partition column, DuckDB's Hive partition).
CREATE TABLE cdrs (
    call_id text NOT NULL,
    tenant text NOT NULL,
    direction text NOT NULL,
    call_type text,
    start_time timestamptz NOT NULL,
    connect_time timestamptz,
    end_time timestamptz NOT NULL,
    duration_s integer NOT NULL,
    billed_s integer,
    source text NOT NULL,
    destination text NOT NULL,
    did text,
    cli text,
    extension text,
    agent text,
    skill_group text,
    cabin text,
    billing_account text,
    trunk text,
    sip_code integer,
    disconnect_initiator text,
    hangup_cause text,
    rate_per_min numeric(18, 6),
    charge numeric(18, 6),
    currency text,
    toll_free_amount numeric(18, 6),
    termination_amount numeric(18, 6),
    metered_channels_amount numeric(18, 6),
    cdr_type text,
    country text,
    network text,
    session_id text,
    recording_url text,
    call_date date GENERATED ALWAYS AS ((start_time AT TIME ZONE 'UTC')::date) STORED,
    PRIMARY KEY (tenant, call_id)
);
CREATE INDEX cdrs_start_time ON cdrs (start_time);
CREATE INDEX cdrs_source ON cdrs (source);
CREATE INDEX cdrs_destination ON cdrs (destination);
