//! Errors, and files a sync refused, in the user's language. wallet-core's errors are typed: each is
//! matched here and put in Chinese from its kind and its parameters (a
//! file, a kid, a version, a count), never from its English words. Text
//! from outside (a kid, a member's name) is escaped as in English.

use crate::lang::{self, kind, published, reason, Lang};
use std::error::Error;
use wallet_core::checkpoint::cache::CacheError;
use wallet_core::checkpoint::check::CheckError;
use wallet_core::checkpoint::sync::{Refusal, Refused, SyncError};
use wallet_core::citizen::WalletError;
use wallet_core::icao::IcaoError;
use wallet_core::keys::dsc_list::DscListError;
use wallet_core::keys::KeyError;
use wallet_core::message::error_chain;
use wallet_core::nzcp::NzcpError;
use wallet_core::shc::ShcError;
use wallet_core::signed::file::{FileType, SignedFileError};
use wallet_core::signed::foreign::ForeignError;
use wallet_core::signed::rules::RulesError;
use wallet_core::storage::StorageError;
use wallet_core::text::escape;
use wallet_core::verify::DecodeError;
use wallet_core::wire::envelope::EnvelopeError;
use wallet_core::Reason;

/// What the page says when an operation fails: English, the error and
/// its causes as the core words them; Chinese, the first error of the
/// chain this module knows, from its kind and parameters.
pub fn error(e: &(dyn Error + 'static), lang: Lang) -> String {
    match lang {
        Lang::En => error_chain(e),
        Lang::Zh => escape(&zh(e).unwrap_or_else(|| UNKNOWN.to_string())).into_owned(),
    }
}

/// An error no arm below knows (a test over the core's errors keeps this
/// from being reached by the ones the apps can meet).
pub(crate) const UNKNOWN: &str = "操作未能完成";

/// A file a sync did not install, and why, in `lang`; the reason's own
/// detail (the file's field, a kid) is kept as the core gives it, escaped.
pub fn refused(r: &Refused, lang: Lang) -> String {
    if lang == Lang::En {
        return r.to_string();
    }
    let name = published(r.file, lang);
    match &r.why {
        Refusal::NotInSource { source } => format!("{name}：来源 {} 中没有", escape(source)),
        Refusal::Refused(e) => {
            format!("{name}：已拒绝，保留所持副本（{}）", error(e, lang))
        }
        Refusal::Missing { what, .. } => format!("{name}：缺少 {what}，请先完整同步"),
    }
}

fn zh(e: &(dyn Error + 'static)) -> Option<String> {
    if let Some(e) = e.downcast_ref::<CacheError>() {
        return Some(cache(e));
    }
    if let Some(e) = e.downcast_ref::<SignedFileError>() {
        return Some(signed(e));
    }
    if let Some(e) = e.downcast_ref::<WalletError>() {
        return Some(wallet(e));
    }
    if let Some(e) = e.downcast_ref::<StorageError>() {
        return Some(storage(e));
    }
    if let Some(e) = e.downcast_ref::<ShcError>() {
        return Some(shc(e));
    }
    if let Some(e) = e.downcast_ref::<NzcpError>() {
        return Some(nzcp(e));
    }
    if let Some(e) = e.downcast_ref::<IcaoError>() {
        return Some(icao(e));
    }
    if let Some(e) = e.downcast_ref::<RulesError>() {
        return Some(rules(e));
    }
    if let Some(CheckError::Rules(e)) = e.downcast_ref::<CheckError>() {
        return Some(rules(e));
    }
    if let Some(e) = e.downcast_ref::<SyncError>() {
        return Some(match e {
            SyncError::Source(_) => "无法从来源取得文件".into(),
            SyncError::NoTrustList { .. } => "来源没有信任列表".into(),
            SyncError::Cache(c) => cache(c),
        });
    }
    if let Some(e) = e.downcast_ref::<KeyError>() {
        return Some(match e {
            KeyError::Invalid(_) => "不是可用的公钥（应为 PEM 格式）".into(),
        });
    }
    if let Some(e) = e.downcast_ref::<DscListError>() {
        return Some(dsc_list(e));
    }
    if let Some(e) = e.downcast_ref::<ForeignError>() {
        return Some(foreign(e));
    }
    if let Some(e) = e.downcast_ref::<DecodeError>() {
        return Some(not_a_code(&Reason::from(e)));
    }
    if let Some(e) = e.downcast_ref::<EnvelopeError>() {
        return Some(not_a_code(&Reason::from(e)));
    }
    e.source().and_then(zh)
}

fn not_a_code(r: &Reason) -> String {
    reason(r, Lang::Zh)
}

/// A signed file's name as the core gives it (`trust-list`, …), in Chinese.
fn file(name: &str) -> String {
    match FileType::from_name(name) {
        Some(t) => lang::file(t, Lang::Zh),
        None => escape(name).into_owned(),
    }
}

fn cache(e: &CacheError) -> String {
    match e {
        CacheError::Io(s) => storage(s),
        CacheError::Missing { what, .. } => {
            // What the core names (CacheError::Missing's `what`).
            let what = match *what {
                "pinned trust anchor" => "固定的信任锚",
                "pinned DSC list key" => "固定的 DSC 列表密钥",
                "revocation list to apply a delta to" => "可应用增量的吊销列表",
                "trust list" => "信任列表",
                "revocation list" => "吊销列表",
                "rule set" | "rules" => "规则",
                _ => "所需的文件",
            };
            format!("本设备尚无{what}：请在“设置”中固定信任锚并同步")
        }
        CacheError::Corrupt { source, .. } => {
            format!("本设备保存的文件已损坏（{}）：请重新同步", signed(source))
        }
        CacheError::Refused(s) => signed(s),
        CacheError::BadKey { .. } => "密钥文件无法读取".into(),
        CacheError::DscList(d) => dsc_list(d),
        CacheError::BadProfileName(n) => {
            format!("场景名称 {n} 无效：须为字母、数字、- 或 _")
        }
        CacheError::Shc(s) => shc(s),
        CacheError::Nzcp(n) => nzcp(n),
        CacheError::Icao(i) => icao(i),
        CacheError::Divoc(_) => "DIVOC 密钥无法读取".into(),
        CacheError::NoProfile => "尚未选择核验场景".into(),
    }
}

fn signed(e: &SignedFileError) -> String {
    match e {
        SignedFileError::TooLarge { file: f, len, max } => {
            format!("{}过大（{len} 字节，上限 {max} 字节）", file(f))
        }
        SignedFileError::Malformed { file: f, .. } => format!("{}格式错误", file(f)),
        SignedFileError::UnknownSigner { file: f, kid } => {
            format!("{}由未知密钥 {kid} 签名", file(f))
        }
        SignedFileError::SignerNotAllowed { file: f, kid } => {
            format!("{}的签名密钥 {kid} 无权签署此类文件", file(f))
        }
        SignedFileError::BadSignature { file: f, kid, .. } => {
            format!("{}的签名无效（密钥 {kid}）", file(f))
        }
        SignedFileError::WrongType { expected, found } => {
            format!("应为{}，收到的是{}", file(expected), file(found))
        }
        SignedFileError::Field { file: f, field, .. } => {
            format!("{}的字段 {field} 无效", file(f))
        }
        SignedFileError::Rollback {
            file: f,
            held,
            offered,
        } => format!(
            "{}第 {offered} 版比本机已有的第 {held} 版旧（拒绝回滚）",
            file(f)
        ),
        SignedFileError::Conflict { file: f, version } => format!(
            "{}第 {version} 版与本机已有的同版本副本不同（同一版本只发布一次）",
            file(f)
        ),
    }
}

fn reasons(rs: &[Reason]) -> String {
    let words: Vec<String> = rs.iter().map(|r| reason(r, Lang::Zh)).collect();
    words.join("；")
}

fn wallet(e: &WalletError) -> String {
    match e {
        WalletError::BadMember(n) => {
            format!("成员名 {n} 无效：须为 1 至 40 个字母、数字、- 或 _")
        }
        WalletError::Io { .. } => "无法读写本机存储".into(),
        WalletError::Corrupt { .. } => "本机保存的记录已损坏，未作改动".into(),
        WalletError::Malformed(rs) => {
            // The decoder's kind of broken, without "cannot be read" twice.
            let words: Vec<String> = rs
                .iter()
                .map(|r| match r {
                    Reason::Malformed { fault, .. } => lang::fault(*fault),
                    r => reason(r, Lang::Zh),
                })
                .collect();
            format!("不是健康码：{}", words.join("；"))
        }
        WalletError::Untrusted(rs) => format!(
            "已拒绝：{}（此码是伪造的，或来自本钱包不信任的签发方）",
            reasons(rs)
        ),
        WalletError::Duplicate { member, .. } => format!("{member}已持有此码"),
        WalletError::NotFound { member, .. } => format!("{member}没有此码"),
        WalletError::Full { member, max } => {
            format!("{member}已持有 {max} 个码：请先删除一些")
        }
        WalletError::Profile(_) => "核验场景无效".into(),
        WalletError::NotAVenue(k) => {
            format!("这是{}凭证，不是场所码", kind(*k, Lang::Zh))
        }
        WalletError::VenueRefused(rs) => format!("场所码被拒绝：{}", reasons(rs)),
        WalletError::NotABackup(_) => "不是钱包备份文件".into(),
        WalletError::TooManyVisits { max } => {
            format!("到访记录已满 {max} 条：请缩短保留天数")
        }
        WalletError::BadRetention { max, .. } => format!("保留天数须为 1 至 {max} 天"),
    }
}

fn storage(e: &StorageError) -> String {
    match e {
        StorageError::Io { .. } => "无法读写本机存储".into(),
        StorageError::TooLarge { max, .. } => format!("文件超过 {max} 字节"),
        StorageError::BadName { .. } => "存储中的文件名无效".into(),
    }
}

fn shc(e: &ShcError) -> String {
    match e {
        ShcError::Key { kid, .. } => format!("签发方密钥 {kid} 无法使用"),
        ShcError::Jwks(_) => "签发方的密钥集（JWKS）无法读取".into(),
        ShcError::Crl(_) => "吊销列表（CRL）无法读取".into(),
        ShcError::Directory(_) => "签发方目录无法读取".into(),
        e => not_a_code(&Reason::from(e)),
    }
}

fn nzcp(e: &NzcpError) -> String {
    match e {
        NzcpError::Document(_) => "新西兰新冠通行证签发方的 DID 文档无法使用".into(),
        e => not_a_code(&Reason::from(e)),
    }
}

fn icao(e: &IcaoError) -> String {
    match e {
        IcaoError::Csca(_) => "ICAO 国家签名机构（CSCA）证书无法使用".into(),
        IcaoError::Crl(_) => "ICAO 证书吊销列表（CRL）无法使用".into(),
        e => not_a_code(&Reason::from(e)),
    }
}

fn rules(e: &RulesError) -> String {
    match e {
        RulesError::UnknownProfile { name, known } => {
            format!("未知的核验场景 {name}（规则中有：{}）", known.join("、"))
        }
        RulesError::Invalid(_) => "规则无效".into(),
    }
}

fn dsc_list(e: &DscListError) -> String {
    match e {
        DscListError::BadSignature => "DSC 列表的签名与固定的列表密钥不符".into(),
        DscListError::ListKey(_) => "列表密钥不是 P-256 公钥（PEM）".into(),
        _ => "DSC 列表无法读取".into(),
    }
}

fn foreign(e: &ForeignError) -> String {
    match e {
        ForeignError::BadName(n) => format!("境外信任来源名称 {n} 无效"),
        ForeignError::Invalid { name, .. } => format!("境外信任来源 {name} 无效"),
        ForeignError::TooMany(n) => format!("境外信任来源过多（{n} 个）"),
        ForeignError::Duplicate(n) => format!("境外信任来源 {n} 重复"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use wallet_core::checkpoint::sync::SourceError;
    use wallet_core::verify::reason::{
        CrlProblem, EntryKind, Fault, KeyWindow, Scheme, SignerProblem, Unlisted,
    };
    use wallet_core::CredentialKind;

    /// Names kept as they are in every language.
    const KEPT: &[&str] = &[
        "HC1", "HCN1", "shc", "SMART", "FHIR", "fhir", "JWKS", "CRL", "DSC", "PEM", "HTTP", "JSON",
        "VCI", "UTC", "kid", "ABCD", "EFGH", "JKLM", "English", "QR", "P", "eu", "dcc", "SHA",
        "ES256", "EdDSA", "PS256", "A6", "A4", "DID", "NZCP", "ICAO", "CSCA", "DIVOC",
    ];
    /// The data the samples below carry (a kid, an issuer, a field).
    const DATA: &[&str] = &[
        "k1d",
        "https://issuer.example",
        "exp",
        // ICAO seal fields, as their errors name them.
        "data.msg.pid.n",
        "sig.cer",
        "anna",
        "night",
        "id7",
        "2026-01-01T00:00:00Z",
        // The member names the wallet's hint gives as examples.
        "me",
        "lily",
    ];

    /// The Latin words of `text` that are neither data nor a kept name.
    pub(crate) fn english(text: &str) -> Vec<String> {
        let mut rest = text.to_string();
        for d in DATA {
            rest = rest.replace(d, " ");
        }
        rest.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()) && !KEPT.contains(w))
            .map(str::to_string)
            .collect()
    }

    fn every_fault() -> Vec<Fault> {
        vec![
            Fault::Empty,
            Fault::TooLong,
            Fault::NotACode,
            Fault::Damaged,
            Fault::TooLarge,
            Fault::Structure,
            Fault::Missing { field: "exp" },
            Fault::Invalid { field: "exp" },
            Fault::NoAlgorithm,
            Fault::Signature,
            Fault::Parts,
            Fault::Content,
            Fault::NoHolder,
            Fault::Other,
        ]
    }

    /// One of every reason, with English detail where the core keeps it.
    fn every_reason() -> Vec<Reason> {
        let kid = || "k1d".to_string();
        let iss = || "https://issuer.example".to_string();
        let mut all: Vec<Reason> = every_fault()
            .into_iter()
            .map(|f| Reason::malformed(f, "some English detail"))
            .collect();
        all.extend([
            Reason::MissingKid,
            Reason::UnknownKey { kid: kid() },
            Reason::UnknownIssuer {
                iss: iss(),
                scheme: Scheme::Shc,
            },
            Reason::UnknownIssuer {
                iss: iss(),
                scheme: Scheme::Nzcp,
            },
            Reason::UnknownIssuer {
                iss: iss(),
                scheme: Scheme::Icao,
            },
            Reason::UnknownIssuer {
                iss: iss(),
                scheme: Scheme::Divoc,
            },
            Reason::NotReadHere {
                scheme: Scheme::Divoc,
            },
            Reason::SignerNotTrusted {
                signer: kid(),
                why: SignerProblem::NoCsca { issuer: iss() },
            },
            Reason::SignerNotTrusted {
                signer: kid(),
                why: SignerProblem::NotSignedByCsca,
            },
            Reason::SignerNotTrusted {
                signer: kid(),
                why: SignerProblem::NotASealSigner,
            },
            Reason::SignerNotTrusted {
                signer: kid(),
                why: SignerProblem::Unreadable {
                    why: "an English detail".into(),
                },
            },
            Reason::RevokedByIssuer { iss: iss() },
            Reason::NotRecognised {
                what: Unlisted::NoTable,
            },
            Reason::NotRecognised {
                what: Unlisted::Nothing,
            },
            Reason::NotRecognised {
                what: Unlisted::Codes {
                    codes: vec!["https://issuer.example id7".into()],
                    more: 2,
                },
            },
            Reason::AlgorithmNotAllowed {
                kid: kid(),
                used: "ES256".into(),
                bound: "EdDSA".into(),
            },
            Reason::BadSignature { kid: kid() },
            Reason::KeyNotValid {
                kid: kid(),
                window: KeyWindow::NotYetAtIssue {
                    from: "2026-01-01T00:00:00Z".into(),
                },
            },
            Reason::KeyNotValid {
                kid: kid(),
                window: KeyWindow::Ended {
                    on: "2026-01-01T00:00:00Z".into(),
                },
            },
            Reason::Expired {
                on: "2026-01-01T00:00:00Z".into(),
            },
            Reason::NotYetValid {
                from: "2026-01-01T00:00:00Z".into(),
            },
            Reason::Revoked { by: EntryKind::Id },
            Reason::Revoked {
                by: EntryKind::Signature,
            },
            Reason::TestTooOld {
                max_hours: 48,
                sampled: "2026-01-01T00:00:00Z".into(),
            },
            Reason::TestPositive,
            Reason::SeriesIncomplete { dose: 1, doses: 2 },
            Reason::NotAccepted {
                kind: CredentialKind::Test,
                profile: "night".into(),
            },
            Reason::NoProfile {
                profile: "night".into(),
            },
        ]);
        for why in [
            CrlProblem::Older {
                held: 1,
                declared: 2,
            },
            CrlProblem::Unreadable {
                why: "not JSON at line 1".into(),
            },
            CrlProblem::NotHeld { declared: 2 },
            CrlProblem::Expired {
                on: "2026-01-01T00:00:00Z".into(),
            },
        ] {
            all.push(Reason::CrlUnavailable {
                iss: iss(),
                kid: kid(),
                why,
            });
        }
        all
    }

    /// One of every error the apps can meet, the ones with a file once for
    /// each file.
    fn every_error() -> Vec<Box<dyn Error>> {
        let why = || "an English detail".to_string();
        let path = || PathBuf::from("/x/y");
        let mut signed: Vec<SignedFileError> = Vec::new();
        for t in FileType::ALL {
            let file = t.name();
            signed.extend([
                SignedFileError::TooLarge {
                    file,
                    len: 9,
                    max: 8,
                },
                SignedFileError::Malformed { file, why: why() },
                SignedFileError::UnknownSigner {
                    file,
                    kid: "k1d".into(),
                },
                SignedFileError::SignerNotAllowed {
                    file,
                    kid: "k1d".into(),
                },
                SignedFileError::BadSignature {
                    file,
                    kid: "k1d".into(),
                    why: why(),
                },
                SignedFileError::WrongType {
                    expected: file,
                    found: "rules".into(),
                },
                SignedFileError::Field {
                    file,
                    field: "exp".into(),
                    why: why(),
                },
                SignedFileError::Rollback {
                    file,
                    held: 2,
                    offered: 1,
                },
                SignedFileError::Conflict { file, version: 2 },
            ]);
        }
        let mut all: Vec<Box<dyn Error>> = Vec::new();
        for what in [
            "pinned trust anchor",
            "pinned DSC list key",
            "revocation list to apply a delta to",
            "trust list",
            "revocation list",
            "rule set",
            "a file named later",
        ] {
            all.push(Box::new(CacheError::Missing {
                what,
                dir: path(),
                hint: "an English hint",
            }));
        }
        for s in &signed {
            all.push(Box::new(CacheError::Refused(s.clone())));
            all.push(Box::new(CacheError::Corrupt {
                path: path(),
                source: s.clone(),
            }));
        }
        let storage = || {
            vec![
                StorageError::Io {
                    path: path(),
                    why: why(),
                },
                StorageError::TooLarge {
                    path: path(),
                    max: 9,
                },
                StorageError::BadName {
                    store: path(),
                    name: "anna".into(),
                },
            ]
        };
        for s in storage() {
            all.push(Box::new(CacheError::Io(s)));
        }
        let shc = || {
            vec![
                ShcError::Numeric(why()),
                ShcError::Chunks(why()),
                ShcError::Jws(why()),
                ShcError::Header(why()),
                ShcError::Payload(why()),
                ShcError::Fhir(why()),
                ShcError::Key {
                    kid: "k1d".into(),
                    why: why(),
                },
                ShcError::Jwks(why()),
                ShcError::Crl(why()),
                ShcError::Directory(why()),
            ]
        };
        for s in shc() {
            all.push(Box::new(CacheError::Shc(s)));
        }
        for n in [
            NzcpError::Text(why()),
            NzcpError::Claim {
                claim: "exp",
                why: why(),
            },
            NzcpError::Missing("exp"),
            NzcpError::Document(why()),
        ] {
            all.push(Box::new(n.clone()));
            all.push(Box::new(CacheError::Nzcp(n)));
        }
        for i in [
            IcaoError::NotASeal(why()),
            IcaoError::Field {
                field: "data.msg.pid.n",
                why: why(),
            },
            IcaoError::Missing("sig.cer"),
            IcaoError::Csca(why()),
            IcaoError::Crl(why()),
        ] {
            all.push(Box::new(i.clone()));
            all.push(Box::new(CacheError::Icao(i)));
        }
        all.extend([
            Box::new(CacheError::BadKey {
                path: path(),
                why: why(),
            }) as Box<dyn Error>,
            Box::new(CacheError::BadProfileName("night".into())),
            Box::new(CacheError::NoProfile),
            Box::new(CacheError::DscList(DscListError::BadSignature)),
            Box::new(CacheError::DscList(DscListError::ListKey(why()))),
            Box::new(CacheError::DscList(DscListError::Json(why()))),
            Box::new(SyncError::Source(SourceError {
                place: "https://issuer.example".into(),
                why: why(),
            })),
            Box::new(SyncError::NoTrustList {
                place: "https://issuer.example".into(),
            }),
            Box::new(KeyError::Invalid(why())),
            Box::new(ForeignError::BadName("night".into())),
            Box::new(ForeignError::Invalid {
                name: "night".into(),
                why: why(),
            }),
            Box::new(ForeignError::TooMany(9)),
            Box::new(ForeignError::Duplicate("night".into())),
            Box::new(RulesError::UnknownProfile {
                name: "night".into(),
                known: vec!["exp".into()],
            }),
            Box::new(RulesError::Invalid(why())),
            Box::new(EnvelopeError::UnknownPrefix {
                found: "anna".into(),
            }),
        ]);
        let reasons = || every_reason();
        all.extend([
            Box::new(WalletError::BadMember("anna".into())) as Box<dyn Error>,
            Box::new(WalletError::Io {
                path: path(),
                why: why(),
            }),
            Box::new(WalletError::Corrupt {
                path: path(),
                why: why(),
            }),
            Box::new(WalletError::Malformed(reasons())),
            Box::new(WalletError::Untrusted(reasons())),
            Box::new(WalletError::Duplicate {
                member: "anna".into(),
                id: "id7".into(),
            }),
            Box::new(WalletError::NotFound {
                member: "anna".into(),
                id: "id7".into(),
            }),
            Box::new(WalletError::Full {
                member: "anna".into(),
                max: 9,
            }),
            Box::new(WalletError::Profile(why())),
            Box::new(WalletError::NotAVenue(CredentialKind::Vaccination)),
            Box::new(WalletError::VenueRefused(reasons())),
            Box::new(WalletError::NotABackup(why())),
            Box::new(WalletError::TooManyVisits { max: 9 }),
            Box::new(WalletError::BadRetention { days: 0, max: 9 }),
        ]);
        for s in storage() {
            all.push(Box::new(s));
        }
        for s in shc() {
            all.push(Box::new(s));
        }
        all
    }

    #[test]
    fn no_reason_reaches_a_chinese_screen_in_english() {
        for r in every_reason() {
            let zh = reason(&r, Lang::Zh);
            assert!(english(&zh).is_empty(), "{r:?} → {zh}: {:?}", english(&zh));
            assert_ne!(zh, reason(&r, Lang::En));
        }
    }

    #[test]
    fn no_error_reaches_a_chinese_screen_in_english() {
        for e in every_error() {
            let zh = error(e.as_ref(), Lang::Zh);
            assert!(english(&zh).is_empty(), "{e:?} → {zh}: {:?}", english(&zh));
            assert_ne!(zh, UNKNOWN, "{e:?} is not known to errors::error");
            assert_eq!(error(e.as_ref(), Lang::En), error_chain(e.as_ref()));
        }
    }

    #[test]
    fn no_word_of_the_screens_is_english_in_chinese() {
        for (key, _, zh) in crate::lang::WORDS {
            assert!(english(zh).is_empty(), "{key}: {zh}: {:?}", english(zh));
        }
        // A wallet's standing, every reason at once.
        let (lines, _) = crate::lang::status(
            &wallet_core::citizen::wallet::Status::Invalid {
                reasons: every_reason(),
            },
            Lang::Zh,
            crate::lang::Local::default(),
        );
        assert!(english(&lines).is_empty(), "{lines}");
    }
}
