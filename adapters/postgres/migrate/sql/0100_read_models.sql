-- Read models of the projections (adapters/postgres/readmodel): JSON documents in collections,
-- each owned by one projection. A projection commits its documents and its row in
-- projection_checkpoints in one transaction (exactly-once read models, SPEC 13).
--
-- seq is the insertion order. An upsert keeps the row, and so its seq: a replaced document keeps
-- its place, and the cursor of an insertion-ordered listing can point at it. Names compare
-- byte-wise (COLLATE "C"), like the in-memory store and whatever the database's locale.
CREATE TABLE rm_docs (
    projection text COLLATE "C" NOT NULL,
    collection text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    doc        jsonb NOT NULL,
    PRIMARY KEY (projection, collection, id)
);

-- Insertion-ordered listings walk this index and stop at a page.
CREATE INDEX rm_docs_insertion ON rm_docs (projection, collection, seq);
