-- Several issuer nodes on one database (docs/nodes.md).
--
-- Each signing key belongs to the node whose data folder holds its private
-- half: a node signs only with its own keys. Keys recorded before this
-- migration have node '' until the node holding them opens the database and
-- proves it (the key file in its folder holds that kid).
ALTER TABLE signing_keys ADD COLUMN node TEXT NOT NULL DEFAULT '';

-- The nodes that opened this database, by the name in their data folder:
-- when each first did (joined_at) and last did (last_seen).
CREATE TABLE nodes (
    name TEXT PRIMARY KEY,
    joined_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);

-- Values every node must agree on. 'code_secret_check' is an HMAC of a
-- fixed text under the retrieval-code secret: a node whose code-secret file
-- differs refuses to start (its codes would not be the others'). The secret
-- itself is never stored here, so a copy of the database still gives no
-- retrieval code away.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
