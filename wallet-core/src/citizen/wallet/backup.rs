//! A wallet's backup: every code of every member in one file, to keep
//! somewhere else (a browser may clear a site's storage; a phone is lost)
//! and to import on another device.
//!
//! ```json
//! {"format": "health-wallet-backup", "version": 1, "exported": "2026-12-07T10:00:00Z",
//!  "members": [{"member": "me", "codes": ["HC1:…", "shc:/…"]}]}
//! ```
//!
//! The export holds the payload texts exactly as stored, including any a
//! newer or older version of this software cannot read, so nothing is lost
//! by a round trip. An import adds each code as `add` does: verified
//! against the synced files when there are some (a forged code or one from
//! an untrusted issuer is refused and named), a code already held is left
//! as it is, and one member's problem never stops the others.

use super::{Wallet, MAX_CREDENTIALS};
use crate::checkpoint::check::Checkpoint;
use crate::citizen::files::WalletError;
use crate::credential::instant;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The `format` field of a backup.
pub const BACKUP_FORMAT: &str = "health-wallet-backup";
/// Largest backup read: 200 codes of a few kilobytes for each of many members.
pub const MAX_BACKUP: usize = 16 * 1024 * 1024;
/// Most members one backup may hold.
pub const MAX_BACKUP_MEMBERS: usize = 100;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Backup {
    format: String,
    version: u32,
    exported: String,
    members: Vec<MemberCodes>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberCodes {
    member: String,
    codes: Vec<String>,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    /// Codes added.
    pub added: usize,
    /// Codes the wallet already held, left as they were.
    pub already_held: usize,
    /// Codes not added, each with its member and why.
    pub refused: Vec<String>,
}

impl Wallet {
    /// Every code of every member, as a backup file (JSON bytes), and the
    /// number of codes in it.
    pub fn export(&self, now: OffsetDateTime) -> Result<(Vec<u8>, usize), WalletError> {
        let mut members = Vec::new();
        let mut count = 0;
        for member in self.members()? {
            let file = self.read_member(&member)?;
            let codes: Vec<String> = file.credentials.into_iter().map(|s| s.payload).collect();
            count += codes.len();
            members.push(MemberCodes { member, codes });
        }
        let backup = Backup {
            format: BACKUP_FORMAT.into(),
            version: 1,
            exported: instant::format(now.unix_timestamp()),
            members,
        };
        let bytes = serde_json::to_vec_pretty(&backup)
            .map_err(|e| WalletError::NotABackup(format!("cannot be written: {e}")))?;
        Ok((bytes, count))
    }

    /// Adds every code of a backup (see the module docs).
    pub fn import(
        &self,
        bytes: &[u8],
        checkpoint: Option<&Checkpoint>,
        now: OffsetDateTime,
    ) -> Result<Imported, WalletError> {
        let bad = WalletError::NotABackup;
        if bytes.len() > MAX_BACKUP {
            return Err(bad(format!(
                "{} bytes, more than {MAX_BACKUP}",
                bytes.len()
            )));
        }
        let backup: Backup = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if backup.format != BACKUP_FORMAT {
            return Err(bad(format!("format {:?}", backup.format)));
        }
        if backup.version != 1 {
            return Err(bad(format!(
                "version {} (this version reads version 1)",
                backup.version
            )));
        }
        if backup.members.len() > MAX_BACKUP_MEMBERS {
            return Err(bad(format!(
                "{} members, more than {MAX_BACKUP_MEMBERS}",
                backup.members.len()
            )));
        }
        let mut out = Imported::default();
        for m in &backup.members {
            let shown = crate::text::escape(&m.member).into_owned();
            if m.codes.len() > MAX_CREDENTIALS {
                out.refused.push(format!(
                    "{shown}: {} codes, more than the {MAX_CREDENTIALS} a member may hold",
                    m.codes.len()
                ));
                continue;
            }
            for (i, code) in m.codes.iter().enumerate() {
                match self.add(&m.member, code, checkpoint, now) {
                    Ok(_) => out.added += 1,
                    Err(WalletError::Duplicate { .. }) => out.already_held += 1,
                    Err(e) => out.refused.push(format!(
                        "{shown}, code {}: {}",
                        i + 1,
                        crate::text::escape(&e.to_string())
                    )),
                }
            }
        }
        Ok(out)
    }
}
