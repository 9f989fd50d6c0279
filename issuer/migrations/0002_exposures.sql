-- Exposure windows the health authority publishes (spec/exposures.md): a
-- venue id and a time window, with advice for the citizens who were there.
-- Wallets compare the signed list with their own visit log on the device.
CREATE TABLE exposures (
    id TEXT PRIMARY KEY,
    venue TEXT NOT NULL,
    from_at BIGINT NOT NULL,
    until_at BIGINT NOT NULL,
    advice TEXT,
    added_at BIGINT NOT NULL,
    added_by TEXT NOT NULL
);
CREATE INDEX exposures_until ON exposures (until_at);

-- Ed25519 keys that sign revocations and rules also sign exposure lists.
UPDATE signing_keys SET uses = uses || ',exposures'
    WHERE uses LIKE '%rules%' AND uses NOT LIKE '%exposures%';
