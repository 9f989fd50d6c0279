//! The views the page shows, built from the device's state: status and
//! settings, the verdict card, the wallet's codes, the exposure match.
//! Each is a typed struct of [`super::views`], in the page's words.

use super::views;
use super::{device_now, Device};
use crate::lang::{self, Lang, Local};
use time::OffsetDateTime;
use wallet_core::checkpoint::cache::CacheError;
use wallet_core::citizen::wallet::Held;
use wallet_core::credential::Body;
use wallet_core::signed::file::Header;

impl Device {
    pub(super) fn describe(&self, now: i64, lang: Lang) -> Result<views::Status, String> {
        let anchors = match self.cache.anchor_set() {
            Ok(set) => set,
            Err(CacheError::Missing { .. }) => return Ok(views::Status::default()),
            Err(e) => return Err(self.err(e)),
        };
        let anchors = anchors
            .keys()
            .iter()
            .map(|a| views::Anchor {
                fingerprint: wallet_core::keys::fingerprint_for_spki(&a.key.spki_der()),
                kid: hex::encode(&a.kid),
                algorithm: a.algorithm.to_string(),
            })
            .collect();
        let trust = self.cache.trust_store().map_err(|e| self.err(e))?;
        let local = self.local.get();
        let file = |name: &'static str, h: Option<Header>| views::FileLine {
            name,
            label: lang::file_name(name, lang),
            held: h.is_some(),
            copy: h.map(|h| views::HeldCopy {
                version: h.version,
                issued: local.when(h.issued_at),
                age: lang::age(now - h.issued_at, lang),
                next_update: local.when(h.next_update),
                stale: h.is_stale(now),
            }),
        };
        let revocations = self.cache.revocations(&trust).map_err(|e| self.err(e))?;
        let rules = self.cache.rules(&trust).map_err(|e| self.err(e))?;
        let exposures = self.cache.exposures(&trust).map_err(|e| self.err(e))?;
        let profiles: Vec<String> = rules
            .as_ref()
            .map(|(r, _)| r.rules.profiles.keys().cloned().collect())
            .unwrap_or_default();
        // Each foreign source the authority sent, in words; or why the
        // file held adds no key.
        let (foreign_header, foreign) = match self.cache.foreign_trust(&trust) {
            Ok(Some((f, _))) => {
                let lines = f
                    .summaries()
                    .iter()
                    .map(|s| {
                        lang::fill(
                            "foreign_line",
                            lang,
                            &[
                                s.name.clone(),
                                s.format.to_string(),
                                s.keys.to_string(),
                                s.skipped.to_string(),
                                lang::age(now - s.read_at, lang),
                                wallet_core::text::escape(&s.origin).into_owned(),
                            ],
                        )
                    })
                    .collect::<Vec<_>>();
                (Some(f.header()), lines)
            }
            Ok(None) => (None, Vec::new()),
            Err(e) => (
                None,
                vec![lang::fill("foreign_unusable", lang, &[self.err(e)])],
            ),
        };
        let files = vec![
            file("trust-list", trust.header()),
            file("revocations", revocations.map(|r| r.header())),
            file("rules", rules.map(|(r, _)| r.header())),
            file("exposures", exposures.map(|(e, _)| e.header())),
            file("foreign-trust", foreign_header),
        ];
        let stale = files
            .iter()
            .any(|f| f.copy.as_ref().is_some_and(|c| c.stale));
        // One line for the scan screen: the files a check reads, each
        // held one's version and age.
        let summary: Vec<String> = files
            .iter()
            .filter(|f| f.name != "exposures" && f.name != "foreign-trust")
            .filter_map(|f| {
                let c = f.copy.as_ref()?;
                Some(lang::fill(
                    "file_summary",
                    lang,
                    &[f.label.clone(), c.version.to_string(), c.age.clone()],
                ))
            })
            .collect();
        let checkpoint = self.checkpoint().ok();
        let ready = checkpoint.is_some();
        // A clock set back would show expired codes as valid: say so.
        let clock_behind = checkpoint.as_ref().and_then(|cp| {
            let device = OffsetDateTime::from_unix_timestamp(now).ok()?;
            cp.device_time(device)
                .warning
                .map(|w| lang::warning(&w, lang))
        });
        Ok(views::Status {
            clock_behind,
            anchors,
            profile: self.cache.profile().map_err(|e| self.err(e))?,
            profiles,
            files,
            stale,
            ready,
            summary: summary.join(" · "),
            shc_issuers: trust.shc().issuers().map(|i| i.name.clone()).collect(),
            foreign,
        })
    }

    pub(super) fn card(
        &self,
        text: &str,
        now: OffsetDateTime,
        lang: Lang,
    ) -> Result<views::Card, String> {
        let cp = self.checkpoint()?;
        let word = |k: &str| lang::word(k, lang).to_string();
        let profile = self
            .cache
            .profile()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| word("no_profile"))?;
        // The device clock, never below the held files' issue time.
        let time = cp.device_time(now);
        let v = wallet_core::checkpoint::check::check_at(text, &cp, &profile, &time)
            .map_err(|e| self.err(e))?;
        let local = self.local.get();
        Ok(views::Card {
            valid: v.valid,
            word: word(if v.valid { "valid" } else { "invalid" }),
            symbol: if v.valid { "✓" } else { "✗" },
            name: v.holder.as_ref().map(|h| h.name.clone()),
            dob: v.holder.as_ref().map(|h| {
                if h.dob.is_unknown() {
                    word("dob_unknown")
                } else {
                    h.dob.to_string()
                }
            }),
            kind: v.kind.map(|k| lang::kind(k, lang)),
            valid_until: v.valid_until.filter(|_| v.valid).map(|t| local.when(t)),
            reasons: v
                .reasons
                .iter()
                .map(|r| lang::reason_at(r, lang, local))
                .collect(),
            warnings: v.warnings.iter().map(|w| lang::warning(w, lang)).collect(),
            profile: v.profile,
            signed_by: v.signed_by,
        })
    }

    pub(super) fn add_code(
        &self,
        member: &str,
        text: &str,
        now: OffsetDateTime,
        lang: Lang,
    ) -> Result<views::Added, String> {
        let member = member.trim();
        let cp = self.checkpoint().ok();
        let added = self
            .wallet
            .add(member, text, cp.as_deref(), now)
            .map_err(|e| self.err(e))?;
        Ok(views::Added {
            member: member.to_string(),
            kind: lang::kind(added.kind, lang),
            verified: added.verified,
            reasons: added
                .reasons
                .iter()
                .map(|r| lang::reason_at(r, lang, self.local.get()))
                .collect(),
            id: added.id,
        })
    }

    pub(super) fn held_codes(
        &self,
        now: OffsetDateTime,
        lang: Lang,
    ) -> Result<Vec<views::Held>, String> {
        // No verified files: every code is "not checked", never valid.
        let cp = self.checkpoint().ok();
        let profile = self.cache.profile().map_err(|e| self.err(e))?;
        let now = device_now(cp.as_deref(), now);
        let held = self
            .wallet
            .list(cp.as_deref(), profile.as_deref(), now)
            .map_err(|e| self.err(e))?;
        Ok(held
            .iter()
            .map(|h| held_view(h, lang, self.local.get()))
            .collect())
    }

    pub(super) fn code_view(
        &self,
        member: &str,
        id: &str,
        now: OffsetDateTime,
        lang: Lang,
    ) -> Result<views::Code, String> {
        let cp = self.checkpoint().ok();
        let profile = self.cache.profile().map_err(|e| self.err(e))?;
        let now = device_now(cp.as_deref(), now);
        let held = self
            .wallet
            .member_credentials(member, cp.as_deref(), profile.as_deref(), now)
            .map_err(|e| self.err(e))?;
        let h = held.iter().find(|h| h.id == id).ok_or_else(|| {
            let esc = |t: &str| wallet_core::text::escape(t).into_owned();
            self.say("no_such_code", &[esc(member), esc(id)])
        })?;
        let svg = wallet_core::wire::qr::Symbol::new(&h.payload, wallet_core::wire::qr::Level::M)
            .map_err(|e| self.err(e))?
            .to_svg();
        Ok(views::Code {
            held: held_view(h, lang, self.local.get()),
            svg,
            lines: caption(&h.credential.body, lang, self.local.get()),
        })
    }

    pub(super) fn match_exposures(&self, now: OffsetDateTime) -> Result<views::Exposures, String> {
        let trust = self.cache.trust_store().map_err(|e| self.err(e))?;
        let Some((list, _)) = self.cache.exposures(&trust).map_err(|e| self.err(e))? else {
            return Ok(views::Exposures::default());
        };
        let log = self.wallet.visit_log();
        let found = log.exposures(&list, now).map_err(|e| self.err(e))?;
        let checked = log.visits(now).map_err(|e| self.err(e))?.len();
        let local = self.local.get();
        let found = found
            .iter()
            .map(|f| views::Exposure {
                name: f.visit.name.clone(),
                area: f.visit.area.clone(),
                at: local.when(f.visit.at),
                from: local.when(f.exposure.from),
                until: local.when(f.exposure.until),
                advice: f.exposure.advice.clone(),
            })
            .collect();
        Ok(views::Exposures {
            held: true,
            version: Some(list.version),
            stale: Some(list.header().is_stale(now.unix_timestamp())),
            checked: Some(checked),
            found,
        })
    }
}

pub(super) fn held_view(h: &Held, lang: Lang, local: Local) -> views::Held {
    let (status, tone) = lang::status(&h.status, lang, local);
    views::Held {
        member: h.member.clone(),
        id: h.id.clone(),
        kind: lang::kind(h.kind, lang),
        holder: h.holder.clone(),
        status,
        tone,
    }
}

/// The lines under a code on screen and on paper.
fn caption(body: &Body, lang: Lang, local: Local) -> Vec<String> {
    let zh = lang == Lang::Zh;
    let mut lines = Vec::new();
    if let Some(h) = body.holder() {
        if !h.dob.is_unknown() {
            lines.push(if zh {
                format!("出生日期 {}", h.dob)
            } else {
                format!("Born {}", h.dob)
            });
        }
    }
    match body {
        Body::Test { test, .. } => {
            let positive = matches!(test.result, wallet_core::credential::TestResult::Positive);
            let result = match (positive, zh) {
                (false, false) => "negative",
                (true, false) => "POSITIVE",
                (false, true) => "阴性",
                (true, true) => "阳性",
            };
            let sampled = local.when(test.sampled_at);
            lines.push(if zh {
                format!("检测结果：{result}，采样于 {sampled}")
            } else {
                format!("Test: {result}, sampled {sampled}")
            });
        }
        Body::Vaccination { vaccination: v, .. } => lines.push(match (zh, v.attested) {
            (true, true) => format!("疫苗接种（签发国认证的通行证，{} 起）", v.date),
            (true, false) => format!("疫苗接种：第 {} 剂，共 {} 剂，{}", v.dose, v.doses, v.date),
            (false, _) => format!("Vaccination: {}", v.describe()),
        }),
        Body::Recovery { recovery: r, .. } => lines.push(if zh {
            format!("康复：{} 至 {} 有效", r.valid_from, r.valid_until)
        } else {
            format!("Recovery: valid {} to {}", r.valid_from, r.valid_until)
        }),
        Body::Venue { venue } => lines.push(venue.area.clone()),
    }
    lines
}
