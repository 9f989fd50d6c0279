//! `verifier decode`: show what a payload contains without judging trust.

use serde_json::{json, Value as Json};
use wallet_core::credential::dcc;
use wallet_core::credential::instant;
use wallet_core::text::{json_safe, Shown};
use wallet_core::wire::cbor::Value;
use wallet_core::wire::claims::DdccClaim;
use wallet_core::{Decoded, Profile};

fn cbor_debug(v: &Value) -> Json {
    match v {
        Value::Bytes(b) => json!(format!("h'{}'", hex::encode(b))),
        Value::Array(a) => Json::Array(a.iter().map(cbor_debug).collect()),
        Value::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::Text(t) => t.clone(),
                        Value::Integer(i) => i128::from(*i).to_string(),
                        other => format!("{other:?}"),
                    };
                    (key, cbor_debug(v))
                })
                .collect(),
        ),
        other => dcc::cbor_to_json(other).unwrap_or_else(|_| json!(format!("{other:?}"))),
    }
}

/// A JSON description of a decoded payload: envelope, headers, claims, payload.
pub fn describe(d: &Decoded) -> Json {
    let header = |h: &wallet_core::wire::cose::Headers| {
        let mut o = serde_json::Map::new();
        if let Some(a) = h.alg {
            let name = wallet_core::Algorithm::from_cose(a).map_or("unknown", |a| a.name());
            o.insert("alg".into(), json!(format!("{a} ({name})")));
        }
        if let Some(k) = &h.kid {
            o.insert("kid".into(), json!(hex::encode(k)));
        }
        for (k, v) in &h.other {
            o.insert(format!("{k:?}"), cbor_debug(v));
        }
        Json::Object(o)
    };
    let time = |t: Option<i64>| t.map(|t| json!({"unix": t, "utc": instant::format(t)}));
    let c = &d.claims;
    let mut claims = serde_json::Map::new();
    if let Some(iss) = &c.iss {
        claims.insert("iss".into(), json!(iss));
    }
    for (name, t) in [("iat", c.iat), ("nbf", c.nbf), ("exp", c.exp)] {
        if let Some(t) = time(t) {
            claims.insert(name.into(), t);
        }
    }
    if let Some(cti) = &c.cti {
        claims.insert("cti".into(), json!(hex::encode(cti)));
    }
    let payload = match (d.profile, &c.ddcc) {
        // A WHO DDCC core data set, under the name of its hcert key.
        (Profile::EuDcc, Some(ddcc)) => {
            let set = match ddcc {
                DdccClaim::Vaccination(_) => "ddcc_vs (hcert key 3)",
                DdccClaim::Test(_) => "ddcc_tr (hcert key 4)",
            };
            json!({ set: cbor_debug(ddcc.data()) })
        }
        (Profile::EuDcc, None) => d
            .dcc_json()
            .unwrap_or_else(|e| json!({"error": e.to_string()})),
        (Profile::Native, _) => c
            .native
            .as_ref()
            .map(cbor_debug)
            .unwrap_or_else(|| json!({"error": "no native claim"})),
    };
    let credential = match d.credential() {
        Ok(cred) => serde_json::to_value(cred).unwrap_or(Json::Null),
        Err(e) => json!({"error": e.to_string()}),
    };
    json!({
        "profile": d.profile.name(),
        "cose": {
            "tagging": format!("{:?}", d.cose.tagging),
            "protected": header(&d.cose.protected),
            "unprotected": header(&d.cose.unprotected),
            "signature_bytes": d.cose.signature.len(),
        },
        "claims": claims,
        "payload": payload,
        "credential": credential,
    })
}

/// Human-readable form of [`describe`].
pub fn describe_text(d: &Decoded) -> String {
    let j = describe(d);
    let mut out = String::new();
    out.push_str(&format!("profile:      {}\n", d.profile));
    let alg = d
        .cose
        .alg()
        .map(|a| {
            format!(
                "{a} ({})",
                wallet_core::Algorithm::from_cose(a).map_or("unknown", |x| x.name())
            )
        })
        .unwrap_or_else(|| "none".into());
    out.push_str(&format!("algorithm:    {alg}\n"));
    out.push_str(&format!(
        "kid:          {}\n",
        d.cose
            .kid()
            .map(hex::encode)
            .unwrap_or_else(|| "none".into())
    ));
    if let Some(iss) = &d.claims.iss {
        out.push_str(&format!("issuer:       {}\n", Shown(iss)));
    }
    for (name, t) in [
        ("issued at", d.claims.iat),
        ("not before", d.claims.nbf),
        ("expires at", d.claims.exp),
    ] {
        if let Some(t) = t {
            out.push_str(&format!(
                "{:<13} {}\n",
                format!("{name}:"),
                instant::format(t)
            ));
        }
    }
    // The interpreted credential reads better than the raw payload; fall back
    // to the raw payload (and say why) when it cannot be interpreted.
    let (label, shown) = match j["credential"].get("error") {
        None => ("credential", &j["credential"]),
        Some(e) => {
            out.push_str(&format!(
                "not a readable credential: {}\n",
                Shown(e.as_str().unwrap_or(""))
            ));
            ("raw payload", &j["payload"])
        }
    };
    out.push_str(&format!("{label}:\n"));
    let pretty = json_safe(serde_json::to_string_pretty(shown).unwrap_or_default());
    for line in pretty.lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("(signature not checked: decode shows content only)\n");
    out
}

/// A SMART Health Card as JSON: its header, claims and what its FHIR
/// bundle says (nothing here is trusted: no signature is checked).
pub fn describe_shc(c: &wallet_core::shc::card::Card) -> Json {
    let summary = match wallet_core::shc::fhir::summarise(&c.claims.bundle) {
        Ok(s) => serde_json::to_value(s).unwrap_or(Json::Null),
        Err(e) => serde_json::json!({"error": e.to_string()}),
    };
    serde_json::json!({
        "format": "smart-health-card",
        "header": {"alg": "ES256", "zip": "DEF", "kid": c.jws.kid},
        "claims": {
            "iss": c.claims.iss,
            "nbf": c.claims.nbf,
            "exp": c.claims.exp,
            "rid": c.claims.rid,
            "fhirVersion": c.claims.fhir_version,
        },
        "fhir": summary,
        "signature_hex": hex::encode(&c.jws.signature),
    })
}

/// [`describe_shc`] for people.
pub fn describe_shc_text(c: &wallet_core::shc::card::Card) -> String {
    use wallet_core::credential::instant;
    let mut out = String::from("format:   SMART Health Card (JWS ES256, zip DEF)\n");
    out.push_str(&format!("kid:      {}\n", Shown(&c.jws.kid)));
    out.push_str(&format!("iss:      {}\n", Shown(&c.claims.iss)));
    out.push_str(&format!(
        "nbf:      {}\n",
        instant::format(c.claims.nbf.floor() as i64)
    ));
    if let Some(exp) = c.claims.exp {
        out.push_str(&format!(
            "exp:      {}\n",
            instant::format(exp.floor() as i64)
        ));
    }
    if let Some(rid) = &c.claims.rid {
        out.push_str(&format!("rid:      {}\n", Shown(rid)));
    }
    match wallet_core::shc::fhir::summarise(&c.claims.bundle) {
        Ok(s) => {
            if let Some(p) = &s.patient {
                out.push_str(&format!(
                    "patient:  {} (born {})\n",
                    Shown(&p.name),
                    p.birth_date
                ));
            }
            for i in &s.immunizations {
                let codes: Vec<String> = i
                    .vaccine
                    .iter()
                    .map(|c| format!("{} {}", Shown(&c.system), Shown(&c.code)))
                    .collect();
                out.push_str(&format!(
                    "immunization: {} {} on {}{}{}\n",
                    Shown(&i.status),
                    codes.join(", "),
                    i.date
                        .map_or("?".into(), wallet_core::credential::day::format),
                    i.lot
                        .as_ref()
                        .map_or(String::new(), |l| format!(", lot {}", Shown(l))),
                    i.performer
                        .as_ref()
                        .map_or(String::new(), |p| format!(", by {}", Shown(p))),
                ));
            }
            if !s.observations.is_empty() {
                out.push_str(&format!("observations: {}\n", s.observations.len()));
            }
        }
        Err(e) => out.push_str(&format!("fhir:     {}\n", Shown(&e.to_string()))),
    }
    out
}

/// An NZ COVID Pass as JSON: its header and claims (nothing here is
/// trusted: no signature is checked).
pub fn describe_nzcp(p: &wallet_core::nzcp::Pass) -> Json {
    serde_json::json!({
        "format": "nzcp",
        "header": {"alg": "ES256", "kid": p.kid},
        "claims": p.claims,
        "signature_hex": hex::encode(&p.cose.signature),
    })
}

/// [`describe_nzcp`] for people.
pub fn describe_nzcp_text(p: &wallet_core::nzcp::Pass) -> String {
    use wallet_core::credential::instant;
    let c = &p.claims;
    let s = &c.subject;
    let mut out = String::from("format:   NZ COVID Pass (NZCP:/1/, COSE ES256)\n");
    out.push_str(&format!("kid:      {}\n", Shown(&p.kid)));
    out.push_str(&format!("iss:      {}\n", Shown(&c.iss)));
    out.push_str(&format!("nbf:      {}\n", instant::format(c.nbf)));
    out.push_str(&format!("exp:      {}\n", instant::format(c.exp)));
    out.push_str(&format!("jti:      {}\n", Shown(&c.jti)));
    let name = match &s.family_name {
        Some(f) => format!("{} {f}", s.given_name),
        None => s.given_name.clone(),
    };
    out.push_str(&format!("holder:   {} (born {})\n", Shown(&name), s.dob));
    out.push_str("(signature not checked: decode shows content only)\n");
    out
}

/// An ICAO seal as JSON: its header, its message and its signature (nothing
/// here is trusted: no signature or certificate is checked).
pub fn describe_icao(s: &wallet_core::icao::Seal) -> Json {
    serde_json::json!({
        "format": "icao-vds-nc",
        "type": s.kind,
        "issuing_country": s.country,
        "message": s.message,
        "sig": {"alg": s.alg, "certificate_bytes": s.certificate.len(), "signature_hex": hex::encode(&s.signature)},
    })
}

/// [`describe_icao`] for people.
pub fn describe_icao_text(s: &wallet_core::icao::Seal) -> String {
    use wallet_core::credential::instant;
    use wallet_core::icao::seal::Message;
    let mut out = format!(
        "format:   ICAO VDS-NC seal ({}, {}, JCS)\n",
        match s.kind {
            wallet_core::icao::SealKind::Vaccination => "icao.vacc",
            wallet_core::icao::SealKind::Test => "icao.test",
        },
        Shown(&s.alg)
    );
    out.push_str(&format!("issuer:   {}\n", Shown(&s.country)));
    out.push_str(&format!("id:       {}\n", Shown(s.id())));
    let p = s.person();
    out.push_str(&format!("holder:   {} (born {})\n", Shown(&p.name), p.dob));
    match &s.message {
        Message::Vaccination { ve, .. } => {
            for v in ve {
                for d in &v.doses {
                    out.push_str(&format!(
                        "dose:     {} {} ({}) {} in {}\n",
                        d.seq,
                        Shown(&v.brand),
                        Shown(&v.vaccine),
                        wallet_core::credential::day::format(d.date),
                        Shown(&d.country)
                    ));
                }
            }
        }
        Message::Test { test, .. } => {
            out.push_str(&format!(
                "test:     {}, {} (sampled {})\n",
                Shown(&test.test_type),
                Shown(&test.result),
                instant::format(test.collected)
            ));
        }
    }
    out.push_str("(signature not checked: decode shows content only)\n");
    out
}

/// A DIVOC certificate as JSON: its proof and what its document expands to,
/// key by key with the IRI each is signed as, and the keys no context
/// defines (neither signed nor read). Nothing here is trusted.
pub fn describe_divoc(c: &wallet_core::divoc::Certificate) -> Json {
    serde_json::json!({
        "format": "divoc",
        "proof": {
            "type": c.proof.kind,
            "verificationMethod": c.proof.method,
            "proofPurpose": c.proof.purpose,
            "created": wallet_core::credential::instant::format(c.proof.created),
        },
        "document": c.doc,
    })
}

/// [`describe_divoc`] for people.
pub fn describe_divoc_text(c: &wallet_core::divoc::Certificate) -> String {
    use wallet_core::divoc::jsonld::{Node, Val};
    let mut out = format!(
        "format:   DIVOC certificate ({:?}, URDNA2015)\n",
        c.proof.kind
    );
    out.push_str(&format!("key:      {}\n", Shown(&c.proof.method)));
    if let Some(i) = c.issuer() {
        out.push_str(&format!("issuer:   {}\n", Shown(&i)));
    }
    match c.holder() {
        Ok(h) if h.dob.is_unknown() => {
            out.push_str(&format!("holder:   {} (no birth date)\n", Shown(&h.name)))
        }
        Ok(h) => out.push_str(&format!("holder:   {} (born {})\n", Shown(&h.name), h.dob)),
        Err(e) => out.push_str(&format!(
            "holder:   cannot be read: {}\n",
            Shown(&e.to_string())
        )),
    }
    fn walk(n: &Node, path: &str, out: &mut String) {
        for d in &n.dropped {
            out.push_str(&format!(
                "unsigned: {path}{} (no context defines it)\n",
                Shown(d)
            ));
        }
        for p in &n.props {
            for v in &p.values {
                match v {
                    Val::Node(child) => walk(child, &format!("{path}{}.", p.key), out),
                    Val::Iri(t) | Val::Literal { value: t, .. } => {
                        if !t.is_empty() {
                            out.push_str(&format!(
                                "          {path}{} = {}\n",
                                Shown(&p.key),
                                Shown(t)
                            ));
                        }
                    }
                }
            }
        }
    }
    walk(&c.doc, "", &mut out);
    out.push_str("(signature not checked: decode shows content only)\n");
    out
}
