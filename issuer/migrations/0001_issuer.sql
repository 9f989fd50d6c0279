-- The issuer's database. The same statements run on SQLite and PostgreSQL:
-- only TEXT and BIGINT columns (binary values are hex or base64 text), and no
-- generated ids (the service makes its own).

-- API tokens: labs issue credentials, admins revoke them. Only a SHA-256 of
-- the secret half is stored.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    lab TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Every credential signed. (lab, sample_id) makes a retried submission return
-- the credential already made instead of a second one. code_sha256 is the
-- hash of the citizen's retrieval code (the code itself is not stored).
CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    lab TEXT NOT NULL,
    sample_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    kid TEXT NOT NULL,
    payload TEXT NOT NULL,
    code_sha256 TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    retrieved_at BIGINT,
    revoked_at BIGINT,
    UNIQUE (lab, sample_id)
);
CREATE UNIQUE INDEX credentials_code ON credentials (code_sha256);

-- Revocation entries (spec/revocation.md): kind 'id' or 'signature', the
-- 16-byte entry in hex, and the revocation-list version that first held it.
CREATE TABLE revocations (
    kind TEXT NOT NULL,
    entry TEXT NOT NULL,
    version BIGINT NOT NULL,
    credential_id TEXT,
    reason TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    PRIMARY KEY (kind, entry)
);

-- Every signed file published (trust-list, revocations, rules), by version.
-- body is the COSE file in base64.
CREATE TABLE signed_files (
    file TEXT NOT NULL,
    version BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (file, version)
);

-- The issuer's signing keys (private halves stay in files in the data folder).
-- A key signs from use_from, only once a published trust list holds it.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    public_key TEXT NOT NULL,
    key_file TEXT NOT NULL,
    label TEXT NOT NULL,
    country TEXT NOT NULL,
    uses TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    use_from BIGINT NOT NULL,
    retired_at BIGINT,
    not_after BIGINT NOT NULL
);
