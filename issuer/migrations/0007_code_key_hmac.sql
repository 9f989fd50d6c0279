-- Retrieval codes are looked up by a keyed hash, HMAC-SHA256 under the
-- issuer's code secret, instead of a bare SHA-256 of the code: a copy of the
-- database alone must not allow a brute force of every live 60-bit code at
-- once. SQL cannot compute the keyed hash (the secret is in the data
-- folder, not the database), so this step only records that the stored keys
-- are still of the old scheme; the issuer re-keys every row from its
-- credential id (the code is derived from it) when it next opens the
-- database, in one transaction, and then records the new scheme
-- (store/codes.rs). Until then no node can look a code up.
INSERT INTO settings (name, value) VALUES ('code_key_scheme', 'sha256-v1');
