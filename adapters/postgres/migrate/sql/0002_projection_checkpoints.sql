-- Where each projection is in the global log. A projection updates its read model and its row
-- here in one transaction (exactly-once read models, SPEC 13). The name is part of the schema:
-- renaming a projection rebuilds it from the start.
CREATE TABLE projection_checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL,
    updated_at timestamptz
);
