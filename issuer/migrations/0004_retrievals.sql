-- First retrievals of codes, in a narrow table of their own. Recording a
-- first fetch used to update credentials.retrieved_at: a random row of the
-- widest table, so a commit of one second's fetches (20,000 on a surge)
-- rewrote as many 4 KiB pages of it. Here each is a 16-byte row, and the
-- same commit rewrites a few hundred pages.
--
-- credentials.retrieved_at stays, no longer written: dropping a column
-- rewrites the whole table on SQLite, minutes for a large issuer's first
-- start after the upgrade. Its values move here.
CREATE TABLE retrievals (
    code_key BIGINT PRIMARY KEY,
    retrieved_at BIGINT NOT NULL
);
INSERT INTO retrievals (code_key, retrieved_at)
    SELECT code_key, retrieved_at FROM credentials WHERE retrieved_at IS NOT NULL;
