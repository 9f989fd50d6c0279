//! JSON-LD 1.1 as a DIVOC certificate uses it: contexts (the built-in ones
//! of [`super::contexts`], never fetched), expansion into nodes whose
//! properties are IRIs, and the RDF statements (quads) those nodes make,
//! which the signature covers once canonicalised.
//!
//! This is the part of the JSON-LD 1.1 algorithms (W3C Recommendation,
//! 2020) that the bundled contexts and the certificates written with them
//! need, followed step for step: context processing with protected terms,
//! property-scoped contexts and type-scoped contexts that do not propagate
//! into embedded nodes; compact IRIs only through prefix terms (a simple
//! term whose IRI ends in `:`, `/`, `?`, `#`, `[`, `]` or `@`, as
//! jsonld.js and pyld decide it); type coercion to `@id`, `@vocab` and
//! datatypes; and integers, booleans and strings as RDF literals.
//! Anything else a document might use (`@reverse`, `@list`, `@graph` and
//! `@index` containers, value objects, `@vocab`, contexts other than the
//! document's own built-in ones, a non-integral number) is refused by name rather than read
//! differently from the signer's library. A property no context defines is
//! dropped, as jsonld.js drops it when signing, and is then neither signed
//! nor read: [`Node`] keeps only what expands.
//!
//! Work is bounded: [`MAX_DEPTH`] levels of nesting, [`MAX_NODES`] nodes,
//! [`MAX_CONTEXTS`] context documents processed per document.

use super::contexts;
use super::DivocError;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::rc::Rc;

/// Deepest nesting of node objects (a certificate nests four).
pub const MAX_DEPTH: usize = 16;
/// Most node objects in one document.
pub const MAX_NODES: usize = 256;
/// Most context documents and scoped contexts processed for one document.
pub const MAX_CONTEXTS: usize = 512;

/// `rdf:type`.
pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
/// `xsd:integer`.
pub const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
/// `xsd:boolean`.
pub const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
/// `xsd:string`.
pub const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";

fn refuse(why: impl Into<String>) -> DivocError {
    DivocError::JsonLd(why.into())
}

/// How a term's string values are read.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Coercion {
    /// As an IRI (`"@type": "@id"`).
    Id,
    /// As a term or an IRI (`"@type": "@vocab"`).
    Vocab,
    /// As a literal of this datatype.
    Datatype(String),
}

/// A term definition.
#[derive(Clone, Debug, PartialEq)]
struct Term {
    /// An absolute IRI, or the keyword `@id` or `@type` it aliases.
    iri: String,
    coercion: Option<Coercion>,
    /// Its container: `@set` (the same as none, for expansion), or
    /// `@list` or `@graph`, which a document may define but not use here.
    container: Option<String>,
    /// Its scoped context, as written.
    context: Option<Value>,
    /// Usable as the prefix of a compact IRI.
    prefix: bool,
    protected: bool,
}

impl Term {
    /// The same definition but for `protected` (JSON-LD 1.1 §4.2.2 step 27).
    fn same_as(&self, other: &Term) -> bool {
        self.iri == other.iri
            && self.coercion == other.coercion
            && self.container == other.container
            && self.context == other.context
            && self.prefix == other.prefix
    }
}

/// An active context.
#[derive(Clone, Debug, Default)]
struct Context {
    terms: HashMap<String, Rc<Term>>,
    /// What an embedded node returns to, after a type-scoped context.
    previous: Option<Rc<Context>>,
}

/// A value of a property, expanded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Val {
    /// An embedded node.
    Node(Box<Node>),
    /// An IRI or a blank node identifier (`_:…`).
    Iri(String),
    /// A literal: its lexical form and its datatype (`xsd:string` for a
    /// plain string).
    Literal { value: String, datatype: String },
}

impl Val {
    /// The lexical form of a literal, or an IRI.
    pub fn text(&self) -> Option<&str> {
        match self {
            Val::Literal { value, .. } | Val::Iri(value) => Some(value),
            Val::Node(_) => None,
        }
    }
}

/// A property of a node: the key as written and the IRI it expanded to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Prop {
    pub key: String,
    pub iri: String,
    pub values: Vec<Val>,
}

/// A node object, expanded.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    /// Its `@id`: an IRI or a blank node identifier.
    pub id: Option<String>,
    /// Its `@type`s, as IRIs.
    pub types: Vec<String>,
    pub props: Vec<Prop>,
    /// Keys that expanded to nothing (dropped, so neither signed nor read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
}

impl Node {
    /// The values of the property written `key` that expanded to `iri`.
    pub fn get(&self, key: &str, iri: &str) -> &[Val] {
        self.props
            .iter()
            .find(|p| p.key == key && p.iri == iri)
            .map_or(&[], |p| p.values.as_slice())
    }

    /// Every value of every property that expanded to `iri`, whatever its
    /// key: what the signature says this node has for `iri`.
    pub fn all<'a>(&'a self, iri: &'a str) -> impl Iterator<Item = &'a Val> + 'a {
        self.props
            .iter()
            .filter(move |p| p.iri == iri)
            .flat_map(|p| p.values.iter())
    }

    /// The keys other than `key` that expanded to the same `iri`.
    pub fn sharing(&self, key: &str, iri: &str) -> Vec<&str> {
        self.props
            .iter()
            .filter(|p| p.iri == iri && p.key != key)
            .map(|p| p.key.as_str())
            .collect()
    }
}

/// Expands documents over the built-in contexts, counting the work.
#[derive(Default)]
pub struct Expander {
    contexts: usize,
    nodes: usize,
}

/// Whether `s` is an absolute IRI (a scheme, a colon, and no character an
/// N-Quads IRI cannot hold) or a blank node identifier.
pub fn is_absolute(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (scheme_ok || scheme == "_")
        && !rest.is_empty()
        && !rest
            .chars()
            .any(|c| c <= ' ' || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\'))
}

impl Expander {
    pub fn new() -> Expander {
        Expander::default()
    }

    /// Expands the top-level node object `doc` (its `@context` included).
    pub fn expand(&mut self, doc: &Map<String, Value>) -> Result<Node, DivocError> {
        self.node(Rc::new(Context::default()), doc, None, 0)
    }

    // ---- context processing (JSON-LD 1.1 API §4.1) ----

    fn process(
        &mut self,
        active: &Context,
        local: &Value,
        override_protected: bool,
        propagate: bool,
        depth: usize,
    ) -> Result<Context, DivocError> {
        self.contexts += 1;
        if self.contexts > MAX_CONTEXTS || depth > MAX_DEPTH {
            return Err(refuse(
                "its contexts nest or repeat beyond any certificate's",
            ));
        }
        let mut result = active.clone();
        if !propagate && result.previous.is_none() {
            result.previous = Some(Rc::new(active.clone()));
        }
        let items: Vec<&Value> = match local {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        for item in items {
            match item {
                Value::String(url) => {
                    let ctx = contexts::context(url).ok_or_else(|| {
                        refuse(format!(
                            "context {} is not bundled (a checkpoint fetches nothing)",
                            crate::text::escape(url)
                        ))
                    })?;
                    result = self.process(&result, ctx, false, true, depth + 1)?;
                }
                Value::Object(map) => self.definitions(&mut result, map, override_protected)?,
                Value::Null => {
                    return Err(refuse(
                        "a null context (which would clear the terms) is not accepted",
                    ))
                }
                _ => {
                    return Err(refuse(
                        "a context must be a URL, an object or an array of them",
                    ))
                }
            }
        }
        Ok(result)
    }

    fn definitions(
        &mut self,
        result: &mut Context,
        local: &Map<String, Value>,
        override_protected: bool,
    ) -> Result<(), DivocError> {
        for (key, value) in local {
            match key.as_str() {
                "@version" if value.as_f64() != Some(1.1) => {
                    return Err(refuse("@version must be 1.1"));
                }
                "@protected" if !value.is_boolean() => {
                    return Err(refuse("@protected must be true or false"));
                }
                "@version" | "@protected" => {}
                k if k.starts_with('@') => {
                    return Err(refuse(format!("context keyword {k} is not supported")))
                }
                _ => {}
            }
        }
        let protected = local
            .get("@protected")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut defined: HashMap<String, bool> = HashMap::new();
        for key in local.keys().filter(|k| !k.starts_with('@')) {
            self.define(
                result,
                local,
                key,
                &mut defined,
                protected,
                override_protected,
            )?;
        }
        Ok(())
    }

    /// Create Term Definition (§4.2.2), for the features listed above.
    fn define(
        &mut self,
        result: &mut Context,
        local: &Map<String, Value>,
        term: &str,
        defined: &mut HashMap<String, bool>,
        protected_default: bool,
        override_protected: bool,
    ) -> Result<(), DivocError> {
        match defined.get(term) {
            Some(true) => return Ok(()),
            Some(false) => return Err(refuse(format!("term {term} is defined by itself"))),
            None => {}
        }
        defined.insert(term.to_string(), false);
        let flags = (protected_default, override_protected);
        let Some(value) = local.get(term) else {
            return Ok(());
        };
        let previous = result.terms.remove(term);
        let written;
        let (simple, map) = match value {
            Value::String(s) => {
                let mut m = Map::new();
                m.insert("@id".into(), Value::String(s.clone()));
                written = m;
                (true, &written)
            }
            Value::Object(m) => (false, m),
            Value::Null => return Err(refuse(format!("term {term} is defined as null"))),
            _ => {
                return Err(refuse(format!(
                    "term {term}: a definition must be a string or an object"
                )))
            }
        };
        for k in map.keys() {
            if !matches!(
                k.as_str(),
                "@id" | "@type" | "@container" | "@context" | "@protected"
            ) {
                return Err(refuse(format!("term {term}: {k} is not supported")));
            }
        }
        let protected = match map.get("@protected") {
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(refuse(format!(
                    "term {term}: @protected must be true or false"
                )))
            }
            None => protected_default,
        };
        let coercion = match map.get("@type") {
            None => None,
            Some(Value::String(t)) if t == "@id" => Some(Coercion::Id),
            Some(Value::String(t)) if t == "@vocab" => Some(Coercion::Vocab),
            Some(Value::String(t)) => {
                let iri = self.iri_while_defining(result, local, t, defined, flags)?;
                if !is_absolute(&iri) || iri.starts_with("_:") {
                    return Err(refuse(format!(
                        "term {term}: type {t} is not an absolute IRI"
                    )));
                }
                Some(Coercion::Datatype(iri))
            }
            Some(_) => return Err(refuse(format!("term {term}: @type must be a string"))),
        };
        let term_has_colon = term
            .get(1..term.len().saturating_sub(1))
            .is_some_and(|m| m.contains(':'));
        let iri = match map.get("@id") {
            Some(Value::String(id)) if id == "@id" || id == "@type" => id.clone(),
            Some(Value::String(id)) if id.starts_with('@') => {
                return Err(refuse(format!(
                    "term {term}: keyword {id} is not supported"
                )))
            }
            Some(Value::String(id)) => {
                let iri = self.iri_while_defining(result, local, id, defined, flags)?;
                if !is_absolute(&iri) || iri.starts_with("_:") {
                    return Err(refuse(format!("term {term}: {id} is not an absolute IRI")));
                }
                if term_has_colon || term.contains('/') {
                    let own = self.iri_while_defining(result, local, term, defined, flags)?;
                    if own != iri {
                        return Err(refuse(format!(
                            "term {term} looks like an IRI but is defined as another"
                        )));
                    }
                }
                iri
            }
            Some(_) => return Err(refuse(format!("term {term}: @id must be a string"))),
            None if term_has_colon => {
                let iri = self.iri_while_defining(result, local, term, defined, flags)?;
                if !is_absolute(&iri) {
                    return Err(refuse(format!("term {term} is not an absolute IRI")));
                }
                iri
            }
            None => {
                return Err(refuse(format!(
                    "term {term} has no IRI (and no @vocab is set)"
                )))
            }
        };
        let container = match map.get("@container") {
            None => None,
            Some(Value::String(c)) if matches!(c.as_str(), "@set" | "@list" | "@graph") => {
                Some(c.clone())
            }
            Some(c) => {
                return Err(refuse(format!(
                    "term {term}: container {c} is not supported (only @set, @list, @graph)"
                )))
            }
        };
        let prefix =
            simple && !term_has_colon && iri.ends_with([':', '/', '?', '#', '[', ']', '@']);
        let def = Term {
            iri,
            coercion,
            container,
            context: map.get("@context").cloned(),
            prefix,
            protected,
        };
        let def = match previous {
            Some(prev) if prev.protected && !override_protected => {
                if !prev.same_as(&def) {
                    return Err(refuse(format!("protected term {term} is redefined")));
                }
                prev
            }
            _ => Rc::new(def),
        };
        result.terms.insert(term.to_string(), def);
        defined.insert(term.to_string(), true);
        Ok(())
    }

    /// IRI expansion (vocabulary-relative) while a context is being
    /// defined: a term or prefix it uses is defined first.
    fn iri_while_defining(
        &mut self,
        result: &mut Context,
        local: &Map<String, Value>,
        value: &str,
        defined: &mut HashMap<String, bool>,
        flags: (bool, bool),
    ) -> Result<String, DivocError> {
        let (protected, override_protected) = flags;
        if local.contains_key(value) && defined.get(value) != Some(&true) {
            self.define(result, local, value, defined, protected, override_protected)?;
        }
        if let Some((prefix, _)) = value.split_once(':') {
            if local.contains_key(prefix) && defined.get(prefix) != Some(&true) {
                self.define(
                    result,
                    local,
                    prefix,
                    defined,
                    protected,
                    override_protected,
                )?;
            }
        }
        Ok(expand_iri(result, value, true))
    }

    // ---- expansion (§5.1.2), straight into nodes ----

    fn node(
        &mut self,
        ctx: Rc<Context>,
        element: &Map<String, Value>,
        property_scoped: Option<&Value>,
        depth: usize,
    ) -> Result<Node, DivocError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES || depth > MAX_DEPTH {
            return Err(refuse(format!(
                "more than {MAX_NODES} nodes or {MAX_DEPTH} levels of nesting"
            )));
        }
        let mut active = ctx;
        // Step 7: a type-scoped context does not reach an embedded node
        // (unless the node is a bare reference).
        if let Some(previous) = active.previous.clone() {
            let reference = element.len() == 1
                && element
                    .keys()
                    .all(|k| expand_iri(&active, k, true) == "@id");
            if !reference {
                active = previous;
            }
        }
        if let Some(scoped) = property_scoped {
            active = Rc::new(self.process(&active, scoped, true, true, depth)?);
        }
        if let Some(local) = element.get("@context") {
            // Only the document's own contexts (built-in URLs): a context
            // inside it would change what its keys mean part-way down.
            if depth > 0 {
                return Err(refuse("a context inside the document is not accepted"));
            }
            active = Rc::new(self.process(&active, local, false, true, depth)?);
        }
        // Step 11: type-scoped contexts, by key then by type, in order.
        let type_scoped = active.clone();
        let mut type_keys: Vec<&String> = element
            .keys()
            .filter(|k| expand_iri(&active, k, true) == "@type")
            .collect();
        type_keys.sort();
        if type_keys.len() > 1 {
            return Err(refuse("a node has its type under two keys"));
        }
        let mut type_terms: Vec<&str> = Vec::new();
        for key in &type_keys {
            match &element[key.as_str()] {
                Value::String(s) => type_terms.push(s),
                Value::Array(a) => {
                    for v in a {
                        type_terms.push(
                            v.as_str()
                                .ok_or_else(|| refuse("a type must be a string"))?,
                        );
                    }
                }
                _ => return Err(refuse("a type must be a string or an array of strings")),
            }
        }
        let mut sorted = type_terms.clone();
        sorted.sort_unstable();
        for t in sorted {
            if let Some(scoped) = type_scoped.terms.get(t).and_then(|d| d.context.clone()) {
                active = Rc::new(self.process(&active, &scoped, false, false, depth)?);
            }
        }
        let mut node = Node::default();
        for t in type_terms {
            let iri = expand_iri(&type_scoped, t, true);
            if !is_absolute(&iri) || iri.starts_with("_:") {
                return Err(refuse(format!(
                    "type {} is not defined by the bundled contexts",
                    crate::text::escape(t)
                )));
            }
            node.types.push(iri);
        }
        for (key, value) in element {
            if key == "@context" {
                continue;
            }
            let expanded = expand_iri(&active, key, true);
            match expanded.as_str() {
                "@type" => continue,
                "@id" => {
                    if node.id.is_some() {
                        return Err(refuse("a node has two ids"));
                    }
                    let Value::String(s) = value else {
                        return Err(refuse(format!("{key} must be a string")));
                    };
                    let iri = expand_iri(&active, s, false);
                    if !is_absolute(&iri) {
                        return Err(refuse(format!(
                            "{key} {} is not an absolute IRI",
                            crate::text::escape(s)
                        )));
                    }
                    node.id = Some(iri);
                }
                k if k.starts_with('@') => {
                    return Err(refuse(format!("keyword {k} is not supported")));
                }
                iri if !is_absolute(iri) || iri.starts_with("_:") => {
                    node.dropped.push(key.clone());
                }
                iri => {
                    let term = active.terms.get(key).cloned();
                    if let Some(c) = term.as_ref().and_then(|t| t.container.as_deref()) {
                        if c != "@set" {
                            return Err(refuse(format!(
                                "{key} is a {c} container, which is not supported here"
                            )));
                        }
                    }
                    let mut values = Vec::new();
                    self.values(&active, term.as_deref(), value, &mut values, depth)?;
                    if node.props.iter().any(|p| p.key == *key) {
                        return Err(refuse(format!("{key} appears twice")));
                    }
                    node.props.push(Prop {
                        key: key.clone(),
                        iri: iri.to_string(),
                        values,
                    });
                }
            }
        }
        Ok(node)
    }

    fn values(
        &mut self,
        active: &Rc<Context>,
        term: Option<&Term>,
        value: &Value,
        out: &mut Vec<Val>,
        depth: usize,
    ) -> Result<(), DivocError> {
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    if item.is_array() {
                        return Err(refuse("an array inside an array (a list) is not supported"));
                    }
                    self.values(active, term, item, out, depth)?;
                }
            }
            Value::Object(map) => {
                if let Some(k) = map.keys().find(|k| {
                    matches!(
                        expand_iri(active, k, true).as_str(),
                        "@value"
                            | "@list"
                            | "@set"
                            | "@graph"
                            | "@language"
                            | "@index"
                            | "@reverse"
                            | "@included"
                            | "@nest"
                            | "@json"
                            | "@direction"
                    )
                }) {
                    return Err(refuse(format!(
                        "a value object or keyword {k} is not supported"
                    )));
                }
                let scoped = term.and_then(|t| t.context.as_ref());
                let node = self.node(active.clone(), map, scoped, depth + 1)?;
                out.push(Val::Node(Box::new(node)));
            }
            Value::String(s) => out.push(match term.and_then(|t| t.coercion.as_ref()) {
                Some(Coercion::Id) | Some(Coercion::Vocab) => {
                    let vocab = matches!(
                        term.and_then(|t| t.coercion.as_ref()),
                        Some(Coercion::Vocab)
                    );
                    let iri = expand_iri(active, s, vocab);
                    if !is_absolute(&iri) {
                        return Err(refuse(format!(
                            "{} is not an absolute IRI",
                            crate::text::escape(s)
                        )));
                    }
                    Val::Iri(iri)
                }
                Some(Coercion::Datatype(dt)) => Val::Literal {
                    value: s.clone(),
                    datatype: dt.clone(),
                },
                None => Val::Literal {
                    value: s.clone(),
                    datatype: XSD_STRING.into(),
                },
            }),
            Value::Number(n) => {
                let Some(i) = n
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| n.as_u64().map(i128::from))
                else {
                    return Err(refuse(format!(
                        "number {n} is not a whole number (doubles are not supported)"
                    )));
                };
                out.push(Val::Literal {
                    value: i.to_string(),
                    datatype: datatype_or(term, XSD_INTEGER),
                });
            }
            Value::Bool(b) => out.push(Val::Literal {
                value: b.to_string(),
                datatype: datatype_or(term, XSD_BOOLEAN),
            }),
        }
        Ok(())
    }
}

fn datatype_or(term: Option<&Term>, default: &str) -> String {
    match term.and_then(|t| t.coercion.as_ref()) {
        Some(Coercion::Datatype(dt)) => dt.clone(),
        _ => default.to_string(),
    }
}

/// IRI Expansion (§5.2.2) in a finished context: a keyword stays itself; a
/// term (when `vocab`) gives its IRI; `prefix:suffix` gives the prefix
/// term's IRI and the suffix when the prefix may be one; anything else is
/// returned as written (an absolute IRI, or a relative one the caller
/// refuses).
fn expand_iri(ctx: &Context, value: &str, vocab: bool) -> String {
    if value.starts_with('@') {
        return value.to_string();
    }
    if vocab {
        if let Some(t) = ctx.terms.get(value) {
            return t.iri.clone();
        }
    }
    if let Some((prefix, suffix)) = value.split_once(':') {
        if prefix == "_" || suffix.starts_with("//") {
            return value.to_string();
        }
        if let Some(t) = ctx.terms.get(prefix) {
            if t.prefix {
                return format!("{}{suffix}", t.iri);
            }
        }
    }
    value.to_string()
}

/// The RDF statements `node` makes, in the default graph, with blank nodes
/// for nodes without an id (numbered from `_:b0` in the order met).
pub fn quads(node: &Node) -> Result<Vec<oxrdf::Quad>, DivocError> {
    let mut out = Vec::new();
    let mut blanks = Blanks::default();
    statements(node, &mut out, &mut blanks)?;
    Ok(out)
}

#[derive(Default)]
struct Blanks {
    next: usize,
    named: HashMap<String, String>,
}

impl Blanks {
    fn fresh(&mut self) -> String {
        let id = format!("b{}", self.next);
        self.next += 1;
        id
    }

    fn of(&mut self, label: &str) -> String {
        if let Some(id) = self.named.get(label) {
            return id.clone();
        }
        let id = self.fresh();
        self.named.insert(label.to_string(), id.clone());
        id
    }
}

fn term_of(iri: &str, blanks: &mut Blanks) -> oxrdf::Term {
    match iri.strip_prefix("_:") {
        Some(label) => oxrdf::BlankNode::new_unchecked(blanks.of(label)).into(),
        None => oxrdf::NamedNode::new_unchecked(iri).into(),
    }
}

fn statements(
    node: &Node,
    out: &mut Vec<oxrdf::Quad>,
    blanks: &mut Blanks,
) -> Result<oxrdf::Subject, DivocError> {
    use oxrdf::{GraphName, Literal, NamedNode, Quad, Subject, Term as RdfTerm};
    let subject: Subject = match &node.id {
        Some(id) => match term_of(id, blanks) {
            RdfTerm::NamedNode(n) => n.into(),
            RdfTerm::BlankNode(b) => b.into(),
            _ => return Err(refuse("an id is neither an IRI nor a blank node")),
        },
        None => oxrdf::BlankNode::new_unchecked(blanks.fresh()).into(),
    };
    for t in &node.types {
        out.push(Quad::new(
            subject.clone(),
            NamedNode::new_unchecked(RDF_TYPE),
            NamedNode::new_unchecked(t.clone()),
            GraphName::DefaultGraph,
        ));
    }
    for p in &node.props {
        let predicate = NamedNode::new_unchecked(p.iri.clone());
        for v in &p.values {
            let object: RdfTerm = match v {
                Val::Node(child) => match statements(child, out, blanks)? {
                    Subject::NamedNode(n) => n.into(),
                    Subject::BlankNode(b) => b.into(),
                    #[allow(unreachable_patterns)]
                    _ => return Err(refuse("an embedded node has no id")),
                },
                Val::Iri(iri) => term_of(iri, blanks),
                Val::Literal { value, datatype } => {
                    if datatype == XSD_STRING {
                        Literal::new_simple_literal(value.clone()).into()
                    } else {
                        Literal::new_typed_literal(
                            value.clone(),
                            NamedNode::new_unchecked(datatype.clone()),
                        )
                        .into()
                    }
                }
            };
            out.push(Quad::new(
                subject.clone(),
                predicate.clone(),
                object,
                GraphName::DefaultGraph,
            ));
        }
    }
    Ok(subject)
}

/// The canonical N-Quads (URDNA2015, as RDFC-1.0 with SHA-256) of `quads`,
/// by the `rdf-canon` crate; a dataset needing more than
/// [`MAX_HNDQ_CALLS`] steps of its costliest part is refused.
pub fn canonical(quads: &[oxrdf::Quad]) -> Result<String, DivocError> {
    let options = rdf_canon::CanonicalizationOptions {
        hndq_call_limit: Some(MAX_HNDQ_CALLS),
    };
    rdf_canon::canonicalize_quads_with::<sha2::Sha256>(quads, &options)
        .map_err(|e| refuse(format!("cannot be canonicalised: {e}")))
}

/// Most calls of the Hash N-Degree Quads step (a poison graph's cost).
pub const MAX_HNDQ_CALLS: usize = 4_000;
