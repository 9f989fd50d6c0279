-- Anchor hand-over statements (spec/trust-list.md §4): each signed by the
-- anchor handing over, naming the next. Every trust list carries them all,
-- oldest first, so a device that was offline for several hand-overs follows
-- the chain from the anchor it pinned. A sequence is used once: two
-- rotations racing on one database cannot both be stored.
-- statement is the COSE_Sign1 in base64, as signed_files.body.
CREATE TABLE anchor_handovers (
    sequence BIGINT PRIMARY KEY,
    anchor_kid TEXT NOT NULL UNIQUE,
    next_kid TEXT NOT NULL,
    statement TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
