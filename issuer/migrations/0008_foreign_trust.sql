-- Foreign trust: the other issuers' keys the authority has read, checked and
-- chosen to trust (EU DSC lists, SMART Health Card issuers), published to
-- every device in the signed foreign-trust file. body is the source as the
-- file carries it (CBOR, base64); list_key is the PEM of the key an EU DSC
-- list source must be signed with, pinned at its first import.
CREATE TABLE foreign_sources (
    name TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    origin TEXT NOT NULL,
    read_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    list_key TEXT,
    updated_at BIGINT NOT NULL
);
-- The keys that sign rules (the authority's policy) sign the foreign trust
-- file too; a trust list naming the new use still loads on devices not yet
-- updated (a use a device does not know grants nothing there).
UPDATE signing_keys SET uses = uses || ',foreign-trust'
    WHERE uses LIKE '%rules%' AND uses NOT LIKE '%foreign-trust%';
