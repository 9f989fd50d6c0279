//! The apps' two languages: the words of every screen, and the verdict's
//! reasons, kinds and states in each. The browser passes its preferred
//! languages; [`choose`] decides, so the choice is the same everywhere.

use serde_json::{Map, Value};
use wallet_core::checkpoint::check::Warning;
use wallet_core::checkpoint::sync::{Published, SyncReport};
use wallet_core::citizen::wallet::Status;
use wallet_core::credential::instant::{self, Elapsed};
use wallet_core::signed::file::FileType;
use wallet_core::text::escape;
use wallet_core::verify::reason::{
    CrlProblem, EntryKind, Fault, KeyWindow, Scheme, SignerProblem, Unlisted,
};
use wallet_core::{CredentialKind, Reason};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// `en` or `zh` (as [`Lang::code`] gives); anything else is English.
    pub fn parse(code: &str) -> Lang {
        if code.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }
}

/// The first of the browser's preferred languages (BCP 47 tags, most
/// preferred first, as `navigator.languages` gives them) that the apps
/// speak; English when none is.
pub fn choose(preferred: &[String]) -> Lang {
    for tag in preferred {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "zh" => return Lang::Zh,
            "en" => return Lang::En,
            _ => {}
        }
    }
    Lang::En
}

/// Every screen's words: key, English, Simplified Chinese. `{0}` is
/// filled in by the page.
pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("lang_other", "中文", "English"),
    ("title_verify", "Checkpoint", "核验点"),
    ("title_wallet", "Health wallet", "健康码钱包"),
    ("scan", "Scan", "扫码"),
    ("stop", "Stop", "停止"),
    ("torch", "Torch", "手电筒"),
    ("switch_camera", "Switch camera", "切换摄像头"),
    ("image_file", "From image", "从图片读取"),
    ("paste", "Paste code", "粘贴码"),
    (
        "paste_hint",
        "Paste the code text (HC1:… or HCN1:…)",
        "粘贴码文本（HC1:… 或 HCN1:…）",
    ),
    ("check", "Check", "核验"),
    ("next", "Next", "下一位"),
    ("settings", "Settings", "设置"),
    ("close", "Close", "关闭"),
    ("back", "Back", "返回"),
    ("valid", "VALID", "通过"),
    ("invalid", "INVALID", "不通过"),
    ("name", "Name", "姓名"),
    ("dob", "Date of birth", "出生日期"),
    ("dob_unknown", "not given in the code", "码中未提供"),
    ("kind", "Kind", "类型"),
    ("valid_until", "Valid until", "有效期至"),
    ("signed_by", "Signed by", "签发方"),
    (
        "shc_issuers",
        "SMART Health Card issuers",
        "SMART 健康卡签发方",
    ),
    (
        "shc_directory",
        "Load a directory of issuers (VCI snapshot, JSON)",
        "载入签发方目录（VCI 快照，JSON）",
    ),
    (
        "shc_loaded",
        "{0} issuers trusted ({1} keys); {2} entries refused",
        "已信任 {0} 个签发方（{1} 个密钥）；拒绝 {2} 项",
    ),
    ("backup", "Backup", "备份"),
    (
        "hint_steady",
        "A code is in view but cannot be read: hold steady, move closer, or add light",
        "看到了码但无法读取：请保持稳定、靠近一些或增加光线",
    ),
    (
        "code_unreadable",
        "There is a code in the image, but it cannot be read: take a sharper, closer photo",
        "图片中有码但无法读取：请拍得更清晰、更近一些",
    ),
    (
        "image_unreadable",
        "This file is not an image this browser can open",
        "此文件不是本浏览器能打开的图片",
    ),
    (
        "backup_hint",
        "Keep a copy of every code somewhere else (the browser may clear its storage; a phone may be lost), and bring it into a new phone.",
        "把所有码另存一份（浏览器可能清除存储，手机可能丢失），并可导入新手机。",
    ),
    ("export", "Export all codes", "导出所有码"),
    ("import", "Import a backup", "导入备份"),
    ("exported", "{0} code(s) exported to {1}", "已导出 {0} 个码到 {1}"),
    (
        "imported",
        "{0} code(s) imported, {1} already held, {2} refused",
        "已导入 {0} 个码，{1} 个已有，拒绝 {2} 个",
    ),
    (
        "save_failed",
        "Could not save on this device ({0}): what is on screen is not kept yet",
        "无法保存到本设备（{0}）：屏幕上的内容尚未保存",
    ),
    (
        "storage_kept",
        "Storage: kept by the browser (persistent)",
        "存储：浏览器将保留（持久）",
    ),
    (
        "storage_at_risk",
        "Storage: the browser may clear it when space runs low. Install the app (Add to Home Screen) or allow it to keep data.",
        "存储：空间不足时浏览器可能清除数据。请安装应用（添加到主屏幕）或允许其保留数据。",
    ),
    ("storage_ask", "Ask to keep data", "申请保留数据"),
    (
        "foreign_trust",
        "Foreign keys from the authority",
        "主管机构提供的境外密钥",
    ),
    (
        "foreign_none",
        "No foreign keys received yet (sync)",
        "尚未收到境外密钥（请同步）",
    ),
    (
        "foreign_line",
        "{0} ({1}): {2} key(s), {3} skipped; read {4} ago from {5}",
        "{0}（{1}）：{2} 个密钥，跳过 {3} 个；{4}前读取自 {5}",
    ),
    (
        "foreign_unusable",
        "The foreign keys held cannot be used ({0}): sync again",
        "所持境外密钥无法使用（{0}）：请重新同步",
    ),
    (
        "shc_none",
        "No SMART Health Card issuers trusted",
        "尚未信任任何 SMART 健康卡签发方",
    ),
    (
        "no_code_in_image",
        "No code found in the image",
        "图片中未找到码",
    ),
    (
        "shc_chunks",
        "Part {0} of {1} of a SMART Health Card scanned: scan the other parts",
        "已扫描 SMART 健康卡第 {0}/{1} 部分：请扫描其余部分",
    ),
    ("checked_for", "Checked for", "核验场景"),
    (
        "match_id",
        "Compare name and date of birth with an ID",
        "请核对证件上的姓名和出生日期",
    ),
    (
        "profile",
        "This device's checkpoint profile",
        "本设备的核验场景",
    ),
    (
        "no_profile",
        "Choose this device's checkpoint profile in Settings",
        "请在设置中选择本设备的核验场景",
    ),
    ("anchor", "Trust anchor", "信任锚"),
    (
        "anchor_offered",
        "Use the anchor this issuer offers",
        "使用本签发方提供的信任锚",
    ),
    (
        "anchor_confirm",
        "Compare this fingerprint with the one your authority published, then confirm:",
        "请将此指纹与主管部门公布的指纹核对后确认：",
    ),
    ("confirm", "Confirm", "确认"),
    ("cancel", "Cancel", "取消"),
    (
        "shc_confirm",
        "This file would trust {0} SMART Health Card issuers ({1} keys) in place of those held; {2} entries would be refused. It is not signed: compare its fingerprint with the one your health authority published, then confirm.",
        "此文件将信任 {0} 个 SMART 健康卡签发方（{1} 个密钥），替换当前所持的签发方；{2} 项将被拒绝。此文件未签名：请将其指纹与卫生主管部门公布的指纹核对后再确认。",
    ),
    ("shc_more", "… and {0} more", "……以及另外 {0} 个"),
    ("shc_issuer_line", "{0}, {2} key(s): {1}", "{0}，{2} 个密钥：{1}"),
    ("file_fingerprint", "File fingerprint (SHA-256)", "文件指纹（SHA-256）"),
    ("key_fingerprint", "Fingerprint (SHA-256)", "指纹（SHA-256）"),
    (
        "pin_paste",
        "Or paste the anchor (PEM)",
        "或粘贴信任锚（PEM）",
    ),
    ("pin", "Pin this anchor", "固定此信任锚"),
    ("pinned", "Pinned anchor", "已固定的信任锚"),
    ("not_pinned", "No anchor pinned yet", "尚未固定信任锚"),
    ("issuer_url", "Issuer address", "签发方地址"),
    ("sync", "Sync now", "立即同步"),
    ("syncing", "Syncing…", "正在同步…"),
    (
        "sync_failed",
        "Sync failed: {0}. The files held are kept.",
        "同步失败：{0}。已保留现有文件。",
    ),
    ("files", "Files held", "已缓存文件"),
    ("file_none", "none (sync first)", "无（请先同步）"),
    ("version", "version", "版本"),
    ("file_summary", "{0} v{1} ({2})", "{0} 第 {1} 版（{2}）"),
    ("issued", "issued {0} ago", "{0}前签发"),
    ("stale", "OUT OF DATE", "已过期"),
    (
        "stale_banner",
        "Files out of date: verdicts may miss recent revocations. Sync when possible.",
        "缓存文件已过期，可能漏掉最新的吊销信息。请尽快同步。",
    ),
    (
        "never_synced",
        "Not set up: pin the trust anchor and sync in Settings",
        "尚未设置：请在设置中固定信任锚并同步",
    ),
    (
        "update_ready",
        "A new version of the app is ready.",
        "应用有新版本。",
    ),
    ("reload", "Reload", "重新加载"),
    (
        "camera_error",
        "Camera unavailable: {0}",
        "摄像头不可用：{0}",
    ),
    (
        "scanner_restarted",
        "The scanner failed on a frame and was restarted",
        "扫码器处理画面出错，已重启",
    ),
    (
        "wedge_hint",
        "A hardware scanner can type a code at any time.",
        "可随时使用扫码枪输入。",
    ),
    ("minutes", "{0} min", "{0}分钟"),
    ("hours", "{0} h", "{0}小时"),
    ("days", "{0} days", "{0}天"),
    ("codes", "Codes", "健康码"),
    ("add", "Add", "添加"),
    ("venue", "Check in", "场所签到"),
    ("exposure", "Exposure", "暴露检查"),
    ("member", "Family member", "家庭成员"),
    (
        "member_hint",
        "me, or a name such as lily",
        "me，或如 lily 的名字",
    ),
    (
        "retrieval_code",
        "Retrieval code from the lab",
        "检测机构提供的取码号",
    ),
    ("fetch", "Fetch", "获取"),
    ("added", "Added for {0}", "已添加给{0}"),
    ("show", "Show", "出示"),
    ("print", "Print", "打印"),
    ("print_a6", "Print (A6)", "打印（A6）"),
    ("print_a4", "Print (A4)", "打印（A4）"),
    ("remove", "Remove", "删除"),
    (
        "remove_confirm",
        "Remove {0} from {1}'s codes? A retrieval code works only once.",
        "从{1}的健康码中删除{0}？取码号只能使用一次。",
    ),
    (
        "empty_wallet",
        "No codes yet: add one",
        "暂无健康码，请添加",
    ),
    (
        "not_set_up",
        "This wallet is not set up, so no code here is checked: confirm the issuer's fingerprint in Settings first.",
        "此钱包尚未设置，其中的健康码均未核验：请先在“设置”中确认签发机构的指纹。",
    ),
    ("set_up", "Set up now", "立即设置"),
    (
        "show_hint",
        "Show this code at the checkpoint",
        "请向核验人员出示此码",
    ),
    ("scan_venue", "Scan the venue's code", "扫描场所码"),
    ("checked_in", "Checked in at {0}", "已在{0}签到"),
    (
        "visits",
        "Visits kept on this phone",
        "保存在本机的到访记录",
    ),
    ("no_visits", "No visits kept", "暂无到访记录"),
    ("retention", "Keep visits for (days)", "到访记录保留天数"),
    ("save", "Save", "保存"),
    (
        "deleted_visits",
        "{0} older visit(s) deleted",
        "已删除{0}条较早的到访记录",
    ),
    ("check_exposure", "Check for exposure", "检查是否暴露"),
    (
        "exposure_none",
        "No exposure found in your visits",
        "您的到访记录中未发现暴露",
    ),
    ("exposure_found", "POSSIBLE EXPOSURE", "可能存在暴露"),
    (
        "exposure_private",
        "Matched on this phone: your visits are never uploaded.",
        "仅在本机比对：到访记录不会上传。",
    ),
    (
        "exposure_none_held",
        "No exposure list yet: sync first",
        "尚无暴露名单：请先同步",
    ),
    ("at", "at {0}", "于{0}"),
    (
        "anchor_other",
        "This device already trusts anchor {0}; to trust {1} instead, clear this site's data and set the device up again",
        "本设备已信任信任锚 {0}；如要改为信任 {1}，请清除本网站的数据后重新设置",
    ),
    ("no_such_code", "{0} holds no code {1}", "{0}没有码 {1}"),
    (
        "retrieval_empty",
        "Type the retrieval code the lab gave you",
        "请输入检测机构给您的取码号",
    ),
    (
        "retrieval_bad",
        "{0}: not a retrieval code (letters and digits, such as ABCD-EFGH-JKLM)",
        "{0}：不是取码号（应为字母和数字，如 ABCD-EFGH-JKLM）",
    ),
    (
        "retrieval_too_big",
        "The issuer's answer is over {0} bytes",
        "签发机构的回复超过 {0} 字节",
    ),
    (
        "retrieval_not_json",
        "The issuer's answer cannot be read",
        "无法读取签发机构的回复",
    ),
    (
        "retrieval_unknown",
        "{0}: no such retrieval code, or it was used already (each works once)",
        "{0}：取码号不存在或已使用（每个只能使用一次）",
    ),
    (
        "retrieval_later",
        "{0}: too many tries from this network; wait a minute and try again",
        "{0}：此网络尝试次数过多，请稍等一分钟再试",
    ),
    (
        "http_failed",
        "{0}: the issuer answered HTTP {1}",
        "{0}：签发机构返回 HTTP {1}",
    ),
    (
        "unreachable",
        "{0} cannot be reached: this device may be offline",
        "无法连接 {0}：本设备可能处于离线状态",
    ),
    ("camera_denied", "this site may not use the camera (allow it in the browser's settings)", "本网站未获准使用摄像头（请在浏览器设置中允许）"),
    ("camera_none", "no camera found", "未找到摄像头"),
    ("camera_busy", "the camera is in use by another app, or failed", "摄像头被其他应用占用或出现故障"),
    ("camera_other", "the browser refused to open it", "浏览器无法打开摄像头"),
    (
        "retrieval_no_payload",
        "The issuer's answer holds no code",
        "签发机构的回复中没有码",
    ),
];

/// One word of the screens in `lang` (the key itself if there is none).
pub fn word(key: &str, lang: Lang) -> &str {
    match WORDS.iter().find(|w| w.0 == key) {
        Some((_, en, _)) if lang == Lang::En => en,
        Some((_, _, zh)) => zh,
        None => key,
    }
}

/// Every word of the screens in `lang`, by key (a JSON object).
/// A word with `{0}`, `{1}`, … filled in from `args`, in order.
pub fn fill(key: &str, lang: Lang, args: &[String]) -> String {
    let mut out = word(key, lang).to_string();
    for (i, a) in args.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), a);
    }
    out
}

pub fn words(lang: Lang) -> Value {
    let mut map = Map::new();
    for (key, en, zh) in WORDS {
        let text = match lang {
            Lang::En => en,
            Lang::Zh => zh,
        };
        map.insert((*key).to_string(), Value::String((*text).to_string()));
    }
    Value::Object(map)
}

pub fn kind(kind: CredentialKind, lang: Lang) -> String {
    match lang {
        Lang::En => match kind {
            CredentialKind::Test => "Test",
            CredentialKind::Vaccination => "Vaccination",
            CredentialKind::Recovery => "Recovery",
            CredentialKind::Venue => "Venue",
        },
        Lang::Zh => match kind {
            CredentialKind::Test => "检测",
            CredentialKind::Vaccination => "疫苗接种",
            CredentialKind::Recovery => "康复",
            CredentialKind::Venue => "场所",
        },
    }
    .to_string()
}

pub(crate) fn file(file: FileType, lang: Lang) -> String {
    match lang {
        Lang::En => match file {
            FileType::TrustList => "trust list",
            FileType::Revocations => "revocations",
            FileType::RevocationDelta => "revocation delta",
            FileType::Rules => "rules",
            FileType::Exposures => "exposure list",
            FileType::ForeignTrust => "foreign trust file",
        }
        .to_string(),
        Lang::Zh => match file {
            FileType::TrustList => "信任列表",
            FileType::Revocations => "吊销列表",
            FileType::RevocationDelta => "吊销列表增量",
            FileType::Rules => "规则",
            FileType::Exposures => "暴露名单",
            FileType::ForeignTrust => "境外信任文件",
        }
        .to_string(),
    }
}

/// A held file's name (`trust-list`, `revocations`, `rules`, `exposures`)
/// for people.
pub fn file_name(name: &str, lang: Lang) -> String {
    let t = match name {
        "trust-list" => FileType::TrustList,
        "revocations" => FileType::Revocations,
        "rules" => FileType::Rules,
        "exposures" => FileType::Exposures,
        "foreign-trust" => FileType::ForeignTrust,
        other => return other.to_string(),
    };
    file(t, lang)
}

/// What a sync did, a line a file, in `lang` (English: the core's own lines).
pub fn sync_lines(report: &SyncReport, lang: Lang) -> Vec<String> {
    if lang == Lang::En {
        return report.describe().lines().map(str::to_string).collect();
    }
    let versions = |from: Option<u64>, to: u64| match from {
        None => format!("版本 {to}（新）"),
        Some(f) if f == to => format!("版本 {to}（未变）"),
        Some(f) => format!("版本 {f} → {to}"),
    };
    let kids = |k: &[String]| {
        if k.is_empty() {
            String::new()
        } else {
            format!("（{}）", k.join("、"))
        }
    };
    let mut out = Vec::new();
    if let Some(t) = &report.trust_list {
        out.push(format!(
            "信任列表：{}，新增 {} 个密钥{}，停用 {} 个{}",
            versions(t.from_version, t.to_version),
            t.added.len(),
            kids(&t.added),
            t.removed.len(),
            kids(&t.removed)
        ));
        for kid in &t.anchors_pinned {
            out.push(format!("信任锚：已固定 {kid}（原锚已交接给它）"));
        }
    }
    for kid in &report.anchors_dropped {
        out.push(format!("信任锚：已移除 {kid}（它已交接给下一个）"));
    }
    if let Some(r) = &report.revocations {
        out.push(format!(
            "吊销列表：{}，新增 {} 条，移除 {} 条",
            versions(r.from_version, r.to_version),
            r.added,
            r.removed
        ));
    }
    if let Some(r) = &report.rules {
        out.push(format!("规则：{}", versions(r.from_version, r.to_version)));
    }
    if let Some(r) = &report.foreign_trust {
        out.push(format!(
            "境外信任文件：{}",
            versions(r.from_version, r.to_version)
        ));
    }
    for f in &report.not_modified {
        out.push(format!("{}：未修改（所持副本为最新）", published(*f, lang)));
    }
    out.push(format!("收到 {} 字节", report.received));
    out
}

/// A published file's name for people.
pub fn published(file: Published, lang: Lang) -> String {
    let t = match file {
        Published::TrustList => FileType::TrustList,
        Published::Revocations => FileType::Revocations,
        Published::Rules => FileType::Rules,
        Published::Exposures => FileType::Exposures,
        Published::ForeignTrust => FileType::ForeignTrust,
    };
    self::file(t, lang)
}

/// Why a code is not valid, in words a checkpoint officer can act on
/// (times in UTC).
pub fn reason(r: &Reason, lang: Lang) -> String {
    reason_at(r, lang, Local::default())
}

/// [`reason`], its times in the device's zone (Chinese; English keeps the
/// core's words).
pub fn reason_at(r: &Reason, lang: Lang, local: Local) -> String {
    if lang == Lang::En {
        return r.to_string();
    }
    let t = |s: &str| instant::parse(s).map_or_else(|_| s.to_string(), |secs| local.when(secs));
    // Text from the code (a kid, an iss) is escaped, as in English.
    let words = match r {
        Reason::Malformed { fault: f, .. } => format!("码无法读取：{}", fault(*f)),
        Reason::MissingKid => "码无法读取：缺少密钥标识（kid）".into(),
        Reason::UnknownKey { kid } => format!("签发方密钥 {kid} 不受信任（未知签发方）"),
        Reason::UnknownIssuer { iss, scheme } => match scheme {
            Scheme::Shc => format!("SMART 健康卡签发方 {iss} 不受信任"),
            Scheme::Nzcp => format!("新西兰新冠通行证签发方 {iss} 不受信任"),
            Scheme::Icao => format!("ICAO 印章签发方 {iss} 不受信任"),
            Scheme::Divoc => format!("DIVOC 证书的签名密钥 {iss} 不受信任"),
        },
        Reason::SignerNotTrusted { signer, why } => {
            let why = match why {
                SignerProblem::NoCsca { issuer } => {
                    format!("无法追溯到受信任的 CSCA（其签发方 {issuer} 在本机不受信任）")
                }
                SignerProblem::NotSignedByCsca => {
                    "无法追溯到受信任的 CSCA（该签发方的受信任 CSCA 均未签发此证书）".into()
                }
                SignerProblem::NotASealSigner => {
                    "不是印章签名证书（缺少扩展密钥用途 2.23.136.1.1.14.2）".into()
                }
                SignerProblem::Unreadable { .. } => "无法读取".into(),
            };
            format!("ICAO 印章：签名证书 {signer} {why}")
        }
        Reason::RevokedByIssuer { iss } => format!("已吊销（在 {iss} 的吊销列表中）"),
        Reason::NotRecognised { what } => format!("无法识别卡中内容：{}", unlisted(what)),
        Reason::NotReadHere { scheme } => {
            let what = match scheme {
                Scheme::Shc => "SMART 健康卡",
                Scheme::Nzcp => "新西兰新冠通行证",
                Scheme::Icao => "ICAO 印章",
                Scheme::Divoc => "DIVOC 证书",
            };
            format!("{what}：本应用不读取此类码（命令行核验工具可读取）")
        }
        Reason::AlgorithmNotAllowed { kid, used, bound } => {
            format!("密钥 {kid} 不允许使用算法 {used}（绑定为 {bound}）")
        }
        Reason::BadSignature { kid } => format!("签名无效（密钥 {kid}）：码已被篡改或伪造"),
        Reason::KeyNotValid { kid, window } => match window {
            KeyWindow::NotYetAtIssue { from } => {
                format!(
                    "签发方密钥 {kid} 在签发此码时尚未生效（生效于 {}）",
                    t(from)
                )
            }
            KeyWindow::Ended { on } => format!("签发方密钥 {kid} 已于 {} 失效", t(on)),
        },
        Reason::KindNotAllowed { kid, kind: k } => {
            format!("签发方密钥 {kid} 无权签发{}类凭证", self::kind(*k, lang))
        }
        Reason::Expired { on } => format!("已于 {} 过期", t(on)),
        Reason::NotYetValid { from } => format!("{} 之前无效", t(from)),
        Reason::Revoked { by } => match by {
            EntryKind::Id => "已吊销（凭证编号在吊销列表中）".into(),
            EntryKind::Signature => "已吊销（签名在吊销列表中）".into(),
        },
        Reason::TestTooOld { max_hours, sampled } => {
            format!("检测超过 {max_hours} 小时（采样于 {}）", t(sampled))
        }
        Reason::TestPositive => "检测结果为阳性".into(),
        Reason::SeriesIncomplete { dose, doses } => {
            format!("疫苗接种未完成（第 {dose} 剂，共 {doses} 剂）")
        }
        Reason::NotAccepted { kind: k, profile } => {
            format!("{}类凭证不适用于{profile}场景", self::kind(*k, lang))
        }
        Reason::CrlUnavailable { iss, kid, why } => {
            let why = match why {
                CrlProblem::Older { held, declared } => {
                    format!("所持为第 {held} 版，密钥集声明为第 {declared} 版")
                }
                CrlProblem::Unreadable { .. } => "给出的吊销列表无法读取".to_string(),
                CrlProblem::Expired { on } => format!("所持吊销列表应于 {} 更新，已过期", t(on)),
                CrlProblem::NotHeld { declared } => {
                    format!("密钥集声明了第 {declared} 版，本机没有此密钥的吊销列表")
                }
            };
            format!("{iss} 的密钥 {kid} 的吊销列表不可用（{why}）：在装入可读且未过期的吊销列表之前，该密钥签发的码一律拒绝")
        }
        Reason::NoProfile { profile } => {
            format!("同步的规则中没有用于核验此码的场景 {profile}")
        }
    };
    escape(&words).into_owned()
}

/// Which kind of broken a code is, in Chinese.
pub(crate) fn fault(f: Fault) -> String {
    match f {
        Fault::Empty => "没有读到内容".into(),
        Fault::TooLong => "内容过长，不是健康码".into(),
        Fault::NotACode => {
            "不是能识别的码（应以 HC1:、HCN1:、shc:/ 或 NZCP:/ 开头，或为 ICAO 印章）".into()
        }
        Fault::Damaged => "码已损坏或不完整".into(),
        Fault::TooLarge => "解压后超过任何码的大小，已拒绝".into(),
        Fault::Structure => "签名结构已损坏".into(),
        Fault::Missing { field } => format!("缺少字段 {field}"),
        Fault::Invalid { field } => format!("字段 {field} 的值无效"),
        Fault::NoAlgorithm => "头部未指明签名算法".into(),
        Fault::Signature => "签名格式错误".into(),
        Fault::Parts => "分段扫描的各部分不属于同一张卡".into(),
        Fault::Content => "卡中的健康内容（FHIR）无法读取".into(),
        Fault::NoHolder => "卡中未写明持有人".into(),
        Fault::Other => "内容无法读取".into(),
    }
}

/// What a card holds that the rules do not list, in Chinese.
fn unlisted(u: &Unlisted) -> String {
    match u {
        Unlisted::NoTable => "规则集未列出任何疫苗或检测代码（其 fhir 表）".into(),
        Unlisted::Nothing => "卡中没有疫苗接种或检测结果".into(),
        Unlisted::Codes { codes, more } => {
            let more = if *more > 0 {
                format!("等，另有 {more} 个")
            } else {
                String::new()
            };
            format!(
                "卡中的代码均不在规则列表中（含 {}{more}）",
                codes.join("、")
            )
        }
    }
}

pub fn warning(w: &Warning, lang: Lang) -> String {
    match (w, lang) {
        (_, Lang::En) => w.to_string(),
        (Warning::ClockBehind { files_issued }, Lang::Zh) => {
            format!("本机时钟慢了（同步的文件签发于 {files_issued}）：请校正时间；已按该时间核验")
        }
        (Warning::BeforeFiles { files_issued }, Lang::Zh) => {
            format!("核验时间早于所持文件的签发时间（{files_issued}）")
        }
        (
            Warning::Stale {
                file: f,
                next_update,
            },
            Lang::Zh,
        ) => format!(
            "缓存的{}已过期（应于 {next_update} 更新）；请尽快同步",
            file(*f, lang)
        ),
    }
}

/// Times for people, to the minute, in the device's time zone (the page
/// gives its offset from UTC): `2026-12-05 00:53 UTC+8`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Local {
    /// Minutes east of UTC, within ±18 h.
    pub offset_minutes: i32,
}

impl Local {
    pub fn new(offset_minutes: i32) -> Local {
        Local {
            offset_minutes: offset_minutes.clamp(-18 * 60, 18 * 60),
        }
    }

    pub fn when(self, secs: i64) -> String {
        let m = self.offset_minutes;
        let shifted = secs.saturating_add(i64::from(m) * 60);
        let text = instant::minutes(shifted);
        let Some(day_time) = text.strip_suffix(" UTC") else {
            return text;
        };
        let zone = match (m / 60, (m % 60).abs()) {
            (0, 0) => "UTC".to_string(),
            (h, 0) => format!("UTC{}{}", if m < 0 { '-' } else { '+' }, h.abs()),
            (h, min) => format!("UTC{}{}:{min:02}", if m < 0 { '-' } else { '+' }, h.abs()),
        };
        format!("{day_time} {zone}")
    }
}

/// A held credential's standing, in words, and its tone (`ok`, `warn`,
/// `bad`, or `unknown` for a code not checked: never shown as valid).
pub fn status(s: &Status, lang: Lang, local: Local) -> (String, &'static str) {
    let f = |t: i64| local.when(t);
    match (s, lang) {
        (Status::NotChecked, Lang::En) => ("Not checked yet: set up the wallet".into(), "unknown"),
        (Status::NotChecked, Lang::Zh) => ("尚未核验：请先设置钱包".into(), "unknown"),
        (Status::Valid { until }, Lang::En) => (format!("Valid until {}", f(*until)), "ok"),
        (Status::Valid { until }, Lang::Zh) => (format!("有效，至 {}", f(*until)), "ok"),
        (Status::ExpiresSoon { until }, Lang::En) => {
            (format!("Expires soon: {}", f(*until)), "warn")
        }
        (Status::ExpiresSoon { until }, Lang::Zh) => (format!("即将过期：{}", f(*until)), "warn"),
        (Status::Expired { on }, Lang::En) => (format!("Expired on {}", f(*on)), "bad"),
        (Status::Expired { on }, Lang::Zh) => (format!("已于 {} 过期", f(*on)), "bad"),
        (Status::NotYetValid { from }, Lang::En) => {
            (format!("Not valid before {}", f(*from)), "warn")
        }
        (Status::NotYetValid { from }, Lang::Zh) => (format!("{} 之前无效", f(*from)), "warn"),
        (Status::Invalid { reasons }, Lang::En) => {
            let words: Vec<String> = reasons.iter().map(|r| reason(r, lang)).collect();
            (format!("Not valid: {}", words.join("; ")), "bad")
        }
        (Status::Invalid { reasons }, Lang::Zh) => {
            let words: Vec<String> = reasons.iter().map(|r| reason_at(r, lang, local)).collect();
            (format!("无效：{}", words.join("；")), "bad")
        }
    }
}

/// How long ago, in the page's words (`minutes`, `hours`, `days`).
pub fn age(secs: i64, lang: Lang) -> String {
    let (n, key) = match instant::elapsed(secs) {
        Elapsed::Minutes(n) => (n, "minutes"),
        Elapsed::Hours(n) => (n, "hours"),
        Elapsed::Days(n) => (n, "days"),
    };
    word(key, lang).replace("{0}", &n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_language_spoken_wins() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(choose(&tags(&["zh-CN", "en-US"])), Lang::Zh);
        assert_eq!(choose(&tags(&["fr-FR", "zh-Hans", "en"])), Lang::Zh);
        assert_eq!(choose(&tags(&["de", "en-GB", "zh"])), Lang::En);
        assert_eq!(choose(&tags(&["fr"])), Lang::En);
        assert_eq!(choose(&[]), Lang::En);
    }

    #[test]
    fn every_word_the_module_and_the_pages_ask_for_is_in_the_table() {
        let sources = [
            include_str!("device.rs"),
            include_str!("device/fetch.rs"),
            include_str!("../www/app/common.js"),
            include_str!("../www/app/verify.js"),
            include_str!("../www/app/wallet.js"),
        ];
        let known = |k: &str| WORDS.iter().any(|w| w.0 == k);
        let mut asked = Vec::new();
        for src in sources {
            // word("key" and say("key" in Rust; t('key' and w('tag', 'key' in the pages.
            for (open, close) in [
                ("word(\"", '"'),
                ("say(\"", '"'),
                ("t('", '\''),
                ("w('", '\''),
            ] {
                for (i, _) in src.match_indices(open) {
                    // A call of its own, not the end of another name (createElement(').
                    let before = src[..i].chars().last().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' || before == '.' {
                        continue;
                    }
                    let mut rest = &src[i + open.len()..];
                    if open == "w('" {
                        let Some(j) = rest.find("', '") else { continue };
                        rest = &rest[j + 4..];
                    }
                    let key: String = rest.chars().take_while(|c| *c != close).collect();
                    if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !key.is_empty() {
                        asked.push(key);
                    }
                }
            }
        }
        assert!(asked.len() > 30, "{asked:?}");
        let missing: Vec<&String> = asked.iter().filter(|k| !known(k)).collect();
        assert!(
            missing.is_empty(),
            "words asked for but not in the table: {missing:?}"
        );
    }

    #[test]
    fn every_word_is_in_both_languages() {
        for (key, en, zh) in WORDS {
            assert!(!en.is_empty() && !zh.is_empty(), "{key}");
            for slot in ["{0}", "{1}"] {
                assert_eq!(
                    en.matches(slot).count(),
                    zh.matches(slot).count(),
                    "{key}: the placeholders differ"
                );
            }
        }
        let keys: std::collections::BTreeSet<_> = WORDS.iter().map(|w| w.0).collect();
        assert_eq!(keys.len(), WORDS.len(), "a key is listed twice");
    }

    #[test]
    fn times_are_shown_in_the_devices_zone() {
        let t = 1_764_608_400; // 2025-12-01 17:00 UTC
        assert_eq!(Local::new(0).when(t), "2025-12-01 17:00 UTC");
        assert_eq!(Local::new(480).when(t), "2025-12-02 01:00 UTC+8");
        assert_eq!(Local::new(-300).when(t), "2025-12-01 12:00 UTC-5");
        assert_eq!(Local::new(330).when(t), "2025-12-01 22:30 UTC+5:30");
        assert_eq!(Local::new(-570).when(t), "2025-12-01 07:30 UTC-9:30");
        assert_eq!(Local::new(100_000).offset_minutes, 18 * 60);
    }

    #[test]
    fn ages_read_in_one_unit() {
        assert_eq!(age(-5, Lang::En), "0 min");
        assert_eq!(age(30 * 60, Lang::En), "30 min");
        assert_eq!(age(3 * 3600, Lang::Zh), "3小时");
        assert_eq!(age(3 * 86_400, Lang::En), "3 days");
        assert_eq!(word("no such word", Lang::Zh), "no such word");
    }

    #[test]
    fn a_sync_report_reads_in_chinese() {
        use wallet_core::checkpoint::cache::FileChange;
        let report = SyncReport {
            revocations: Some(FileChange {
                file: FileType::Revocations,
                from_version: Some(2),
                to_version: 3,
                added: 2,
                removed: 0,
            }),
            not_modified: vec![Published::TrustList, Published::ForeignTrust],
            received: 120,
            ..SyncReport::default()
        };
        let zh = sync_lines(&report, Lang::Zh).join("\n");
        assert_eq!(
            zh,
            "吊销列表：版本 2 → 3，新增 2 条，移除 0 条\n信任列表：未修改（所持副本为最新）\n\
             境外信任文件：未修改（所持副本为最新）\n收到 120 字节"
        );
        assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "{zh}");
        let en = sync_lines(&report, Lang::En).join("\n");
        assert!(en.contains("revocations: version 2 -> 3, 2 added"), "{en}");
    }

    #[test]
    fn reasons_read_in_chinese() {
        let r = Reason::Revoked { by: EntryKind::Id };
        assert_eq!(
            reason(&r, Lang::En),
            "revoked (credential id on the revocation list)"
        );
        assert!(reason(&r, Lang::Zh).starts_with("已吊销"));
        assert!(reason(&Reason::TestPositive, Lang::Zh).contains("阳性"));
    }
}
