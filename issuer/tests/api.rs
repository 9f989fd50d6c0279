//! The HTTP API, in process (tower) and on a real bound port, on SQLite and
//! on PostgreSQL. PostgreSQL runs when ISSUER_TEST_POSTGRES_URL names a
//! server (`.ci/run` starts one and sets it; under CI it is required).

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use issuer::api::{self, AppState, Limits};
use issuer::service::Issuer;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tower::ServiceExt;
use wallet_core::credential::instant;
use wallet_core::signed::exposures::ExposureList;
use wallet_core::signed::revocation::{id_entry, EntryKind};
use wallet_core::{RevocationList, TrustStore};

fn t(s: &str) -> i64 {
    instant::parse(s).unwrap()
}

/// Where a test's database lives.
#[derive(Debug)]
enum Db {
    Sqlite,
    Postgres(String),
}

/// SQLite always; PostgreSQL when a server is given (required under CI).
async fn databases() -> Vec<Db> {
    let mut out = vec![Db::Sqlite];
    match std::env::var("ISSUER_TEST_POSTGRES_URL") {
        Ok(admin) => out.push(Db::Postgres(fresh_postgres_database(&admin).await)),
        Err(_) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must run these tests on PostgreSQL too: set ISSUER_TEST_POSTGRES_URL"
            );
            say_postgres_skipped();
        }
    }
    out
}

/// One line, once per run, past the test harness's output capture (which
/// would show it only for a failing test), saying PostgreSQL was skipped
/// and how to run it.
fn say_postgres_skipped() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "issuer api tests: PostgreSQL SKIPPED (SQLite only): no server given. To run them on \
             PostgreSQL too: ISSUER_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/postgres \
             cargo test -p issuer --test api"
        );
    });
}

/// A new, empty database on the server, so tests never share state.
async fn fresh_postgres_database(admin: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
    let mut suffix = [0u8; 6];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut suffix);
    let name = format!("issuer_test_{}", hex::encode(suffix));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    format!("{base}/{name}")
}

struct App {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    url: Option<String>,
    issuer: Arc<Issuer>,
    state: Arc<AppState>,
    router: Router,
    clock: Arc<AtomicI64>,
    lab: String,
    admin: String,
}

const NOW: &str = "2026-11-20T10:00:00Z";

/// A submission whose body arrives only when the sender sends it (and is
/// dropped): it holds its place in the service meanwhile.
fn slow_submission(
    app: &App,
) -> (
    tokio::sync::mpsc::Sender<Result<axum::body::Bytes, std::io::Error>>,
    tokio::task::JoinHandle<Reply>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
    let slow_body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|c| (c, rx))
    }));
    let router = app.router.clone();
    let lab = app.lab.clone();
    let slow = tokio::spawn(async move {
        call(
            &router,
            post("/v1/credentials", Some(&lab), "application/json", slow_body),
        )
        .await
    });
    (tx, slow)
}

async fn app_with(db: &Db, limits: Limits) -> App {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("issuer-data");
    issuer::service::init_data(&data).unwrap();
    let url = match db {
        Db::Sqlite => None,
        Db::Postgres(u) => Some(u.clone()),
    };
    let now = t(NOW);
    let issuer = Arc::new(Issuer::open(&data, url.as_deref(), now).await.unwrap());
    let clock = Arc::new(AtomicI64::new(now));
    let c = clock.clone();
    let (state, flusher) = AppState::new(
        issuer.clone(),
        limits,
        Arc::new(move || c.load(Ordering::SeqCst)),
    )
    .await
    .unwrap();
    tokio::spawn(flusher);
    let (_, lab) = issuer.create_token("Lab A", false, now).await.unwrap();
    let (_, admin) = issuer.create_token("ops", true, now).await.unwrap();
    state.reload_tokens().await.unwrap();
    let router =
        api::router(state.clone()).layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 7], 5555))));
    App {
        _dir: dir,
        data,
        url,
        issuer,
        state,
        router,
        clock,
        lab,
        admin,
    }
}

async fn app(db: &Db) -> App {
    app_with(db, Limits::default()).await
}

/// The app's database URL (its SQLite file when it has no other).
fn database_url(app: &App) -> String {
    app.url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            app.data.join(issuer::store::SQLITE_FILE).display()
        )
    })
}

/// A further node on the app's database, made as `issuer init --join`
/// does: the anchor's public half and the code secret copied from the
/// first node, its own signing key, no anchor key.
fn join_folder(app: &App, name: &str) -> std::path::PathBuf {
    join_folder_as(app, name, name)
}

/// [`join_folder`] in folder `dir`, as node `name`.
fn join_folder_as(app: &App, dir: &str, name: &str) -> std::path::PathBuf {
    use issuer::service::{folder, ConfigChange};
    let dir = app._dir.path().join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let anchor = issuer::service::read_anchor_public(&app.data).unwrap();
    folder::write_anchor_public(&dir, &anchor.key).unwrap();
    issuer::codes::CodeKey::install(&dir, &app.data.join(issuer::codes::SECRET_FILE)).unwrap();
    let change = ConfigChange {
        node: Some(name.into()),
        joined: true,
        ..ConfigChange::default()
    };
    issuer::service::init_data_with(&dir, &change).unwrap();
    dir
}

async fn join(app: &App, name: &str) -> Issuer {
    let dir = join_folder(app, name);
    Issuer::open(&dir, Some(&database_url(app)), t(NOW))
        .await
        .unwrap()
}

/// A node's service on the same clock and tokens as the app's.
async fn serve_node(app: &App, node: Arc<Issuer>) -> Router {
    let c = app.clock.clone();
    let (state, flusher) = AppState::new(
        node,
        Limits::default(),
        Arc::new(move || c.load(Ordering::SeqCst)),
    )
    .await
    .unwrap();
    tokio::spawn(flusher);
    state.reload_tokens().await.unwrap();
    api::router(state).layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 8], 5555))))
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

async fn call(router: &Router, req: Request<Body>) -> Reply {
    let r = router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn post(
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut b = Request::post(path).header(header::CONTENT_TYPE, content_type);
    if let Some(tok) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {tok}"));
    }
    b.body(body.into()).unwrap()
}

fn test_result(sample: &str, name: &str) -> Value {
    json!({
        "sample_id": sample,
        "kind": "test",
        "holder": {"name": name, "dob": "1990-05-01"},
        "test": {"test_type": "naat", "result": "negative", "sampled_at": "2026-11-20T08:00:00Z"}
    })
}

/// A checkpoint's view: the published trust list opened with the anchor.
fn checkpoint_trust(app: &App, trust_list: &[u8]) -> TrustStore {
    let mut trust = TrustStore::new(app.issuer.anchors().to_vec());
    trust.install(trust_list).unwrap();
    trust
}

#[tokio::test]
async fn issue_retrieve_publish_and_revoke() {
    for db in databases().await {
        let app = app(&db).await;
        let r = &app.router;

        // Issue: 201 with id, payload and a retrieval code.
        let body = test_result("S-1", "Li Hua").to_string();
        let first = call(
            r,
            post(
                "/v1/credentials",
                Some(&app.lab),
                "application/json",
                body.clone(),
            ),
        )
        .await;
        assert_eq!(
            first.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&first.body)
        );
        let issued = first.json();
        let code = issued["retrieval_code"].as_str().unwrap().to_string();
        let payload = issued["payload"].as_str().unwrap().to_string();
        let id = issued["id"].as_str().unwrap().to_string();
        assert!(payload.starts_with("HCN1:"));
        assert_eq!(issued["created"], true);

        // A retry gives the same credential and code, and stores nothing new.
        let again = call(
            r,
            post("/v1/credentials", Some(&app.lab), "application/json", body),
        )
        .await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.json()["id"], issued["id"]);
        assert_eq!(again.json()["retrieval_code"], issued["retrieval_code"]);
        assert_eq!(app.issuer.store.count_credentials().await.unwrap(), 1);

        // The same sample id from another lab is another credential.
        let (_, other) = app
            .issuer
            .create_token("Lab B", false, t(NOW))
            .await
            .unwrap();
        app.state.reload_tokens().await.unwrap();
        let b = call(
            r,
            post(
                "/v1/credentials",
                Some(&other),
                "application/json",
                test_result("S-1", "Wang Fang").to_string(),
            ),
        )
        .await;
        assert_eq!(b.status, StatusCode::CREATED);
        assert_ne!(b.json()["id"], issued["id"]);

        // Errors name what is wrong.
        let mut missing = test_result("S-2", "X");
        missing["holder"].as_object_mut().unwrap().remove("dob");
        let bad = call(
            r,
            post(
                "/v1/credentials",
                Some(&app.lab),
                "application/json",
                missing.to_string(),
            ),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.json()["error"].as_str().unwrap().contains("dob"),
            "{:?}",
            bad.json()
        );
        let no_id = call(
            r,
            post(
                "/v1/credentials",
                Some(&app.lab),
                "application/json",
                test_result("", "X").to_string(),
            ),
        )
        .await;
        assert_eq!(no_id.json()["error"], "sample_id: missing");
        let anon = call(r, post("/v1/credentials", None, "application/json", "{}")).await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
        assert_eq!(anon.header(header::WWW_AUTHENTICATE), "Bearer");
        // The real token with its last hex digit changed.
        let last = if app.lab.ends_with('0') { '1' } else { '0' };
        let forged = format!("{}{last}", &app.lab[..app.lab.len() - 1]);
        let forged = call(
            r,
            post("/v1/credentials", Some(&forged), "application/json", "{}"),
        )
        .await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
        let huge = call(
            r,
            post(
                "/v1/credentials",
                Some(&app.lab),
                "application/json",
                vec![b' '; 70_000],
            ),
        )
        .await;
        assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);

        // The citizen fetches it with the code, typed loosely.
        let typed = code.to_lowercase().replace('-', " ");
        let fetched = call(
            r,
            get(&format!("/v1/retrieve/{}", typed.replace(' ', "%20"))),
        )
        .await;
        assert_eq!(fetched.status, StatusCode::OK);
        assert_eq!(fetched.json()["payload"], payload.as_str());
        assert_eq!(fetched.header(header::CACHE_CONTROL), "no-store");
        let png = call(r, get(&format!("/v1/retrieve/{code}?format=png"))).await;
        assert_eq!(png.header(header::CONTENT_TYPE), "image/png");
        let read = wallet_core::wire::qr::read_image(&png.body).unwrap();
        assert_eq!(read, payload);
        let svg = call(r, get(&format!("/v1/retrieve/{code}?format=svg"))).await;
        assert!(String::from_utf8(svg.body).unwrap().starts_with("<?xml"));

        // A wrong code and a malformed one get the same answer.
        let wrong = call(r, get("/v1/retrieve/AAAA-BBBB-CCCC")).await;
        let junk = call(r, get("/v1/retrieve/not-a-code")).await;
        assert_eq!(wrong.status, StatusCode::NOT_FOUND);
        assert_eq!((wrong.status, wrong.body.clone()), (junk.status, junk.body));

        // One-time: after the grace period the code is spent, same answer.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        app.clock
            .fetch_add(app.state.limits.retrieval_grace + 1, Ordering::SeqCst);
        let spent = call(r, get(&format!("/v1/retrieve/{code}"))).await;
        assert_eq!(
            (spent.status, spent.body),
            (wrong.status, wrong.body.clone())
        );
        app.clock.store(t(NOW), Ordering::SeqCst);

        // Published files: cacheable, 304 on a matching ETag.
        let tl = call(r, get("/v1/trust-list")).await;
        assert_eq!(tl.status, StatusCode::OK);
        assert_eq!(tl.header(header::CONTENT_TYPE), "application/cose");
        assert_eq!(tl.header(header::CACHE_CONTROL), "public, max-age=60");
        let etag = tl.header(header::ETAG);
        let cached = call(
            r,
            Request::get("/v1/trust-list")
                .header(header::IF_NONE_MATCH, format!("W/\"x\", {etag}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
        assert!(cached.body.is_empty());
        assert_eq!(cached.header(header::ETAG), etag);
        let trust = checkpoint_trust(&app, &tl.body);
        let rules = call(r, get("/v1/rules")).await;
        wallet_core::RuleSet::open(&rules.body, &trust).unwrap();
        let full = call(r, get("/v1/revocations")).await;
        let v1 = RevocationList::open(&full.body, &trust).unwrap();
        assert!(v1.is_empty());

        // The credential verifies against what was published.
        let checkpoint = wallet_core::Checkpoint {
            trust: trust.clone(),
            revocations: v1.clone(),
            rules: wallet_core::RuleSet::open(&rules.body, &trust).unwrap().0,
        };
        let at = time::OffsetDateTime::from_unix_timestamp(t("2026-11-20T12:00:00Z")).unwrap();
        assert!(
            wallet_core::check(&payload, &checkpoint, "transport", at)
                .unwrap()
                .valid
        );

        // Revoking takes an admin token.
        let revoke = json!({"credential_id": id, "reason": "sample mix-up"}).to_string();
        let denied = call(
            r,
            post(
                "/v1/revocations",
                Some(&app.lab),
                "application/json",
                revoke.clone(),
            ),
        )
        .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        let unknown = call(
            r,
            post(
                "/v1/revocations",
                Some(&app.admin),
                "application/json",
                json!({"credential_id": "00", "reason": "x"}).to_string(),
            ),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let done = call(
            r,
            post(
                "/v1/revocations",
                Some(&app.admin),
                "application/json",
                revoke,
            ),
        )
        .await;
        assert_eq!(
            done.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&done.body)
        );
        let v2_version = done.json()["version"].as_u64().unwrap();
        assert_eq!(v2_version, v1.version + 1);

        // A checkpoint holding v1 gets a delta; one with nothing gets the list.
        let delta = call(r, get(&format!("/v1/revocations?since={}", v1.version))).await;
        let delta =
            wallet_core::signed::revocation::RevocationDelta::open(&delta.body, &trust).unwrap();
        let v2 = v1.apply(&delta).unwrap();
        assert!(v2.contains(EntryKind::Id, &id_entry(&id)));
        let full2 =
            RevocationList::open(&call(r, get("/v1/revocations")).await.body, &trust).unwrap();
        assert_eq!(full2.digest(), v2.digest());
        let checkpoint = wallet_core::Checkpoint {
            revocations: v2,
            ..checkpoint
        };
        assert!(
            !wallet_core::check(&payload, &checkpoint, "transport", at)
                .unwrap()
                .valid
        );
        // A checkpoint already at v2 that asks conditionally (as `sync`
        // does) is sent nothing; asked without a condition, the list.
        let current = format!("/v1/revocations?since={v2_version}");
        let held_etag = call(r, get("/v1/revocations")).await;
        let held_etag = held_etag.header(header::ETAG).to_string();
        let unchanged = call(
            r,
            Request::get(&current)
                .header(header::IF_NONE_MATCH, "\"an-older-delta\"")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        assert!(unchanged.body.is_empty());
        assert_eq!(unchanged.header(header::ETAG), held_etag);
        let unconditional = call(r, get(&current)).await;
        assert_eq!(unconditional.status, StatusCode::OK);
        assert_eq!(
            RevocationList::open(&unconditional.body, &trust)
                .unwrap()
                .version,
            v2_version
        );
        let bad_since = call(r, get("/v1/revocations?since=x")).await;
        assert_eq!(bad_since.status, StatusCode::BAD_REQUEST);

        // A revoked credential can no longer be fetched.
        app.clock.fetch_add(1, Ordering::SeqCst);
        let other_code = b.json()["retrieval_code"].as_str().unwrap().to_string();
        assert_eq!(
            call(r, get(&format!("/v1/retrieve/{other_code}")))
                .await
                .status,
            StatusCode::OK
        );

        // Health, metrics, the API description.
        let health = call(r, get("/healthz")).await;
        assert_eq!(health.status, StatusCode::OK);
        assert_eq!(health.json()["revocations"], v2_version);
        let metrics = String::from_utf8(call(r, get("/metrics")).await.body).unwrap();
        assert!(
            metrics.contains("issuer_credentials_issued_total 2\n"),
            "{metrics}"
        );
        assert!(metrics
            .contains("issuer_http_requests_total{route=\"/v1/trust-list\",status=\"304\"} 1\n"));
        assert!(metrics
            .contains("issuer_http_request_duration_seconds_count{route=\"/v1/credentials\"}"));
        let api = call(r, get("/openapi.json")).await.json();
        // Every route the service measures (all but "POST …" and "other").
        for path in &issuer::metrics::ROUTES[..issuer::metrics::PATHS] {
            assert!(
                api["paths"][path].is_object(),
                "{path} is not in openapi.json"
            );
        }
        assert!(api["paths"]["/v1/revocations"]["post"].is_object());
        assert_eq!(
            call(r, get("/v2/nothing")).await.status,
            StatusCode::NOT_FOUND
        );
        app.issuer.store.close().await;
        let _ = (&app.data, &app.url);
    }
}

#[tokio::test]
async fn bulk_upload_reports_each_line_and_stores_the_good_ones_once() {
    for db in databases().await {
        let app = app(&db).await;
        let csv = "sample_id,name,dob,test_type,result,sampled_at\n\
                   B-1,Li Hua,1990-05-01,naat,negative,2026-11-20T08:00:00Z\n\
                   B-2,Wang Fang,1985,rat,maybe,2026-11-20T08:00:00Z\n\
                   B-3,Zhang Wei,1970-01-02,rat,positive,2026-11-20T08:00:00Z\n\
                   B-1,Li Hua,1990-05-01,naat,negative,2026-11-20T08:00:00Z\n";
        let reply = call(
            &app.router,
            post("/v1/credentials/bulk", Some(&app.lab), "text/csv", csv),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header(header::CONTENT_TYPE), "application/x-ndjson");
        let lines: Vec<Value> = String::from_utf8(reply.body)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert_eq!(lines[0]["status"], "issued");
        assert_eq!(lines[0]["line"], 2);
        assert_eq!(lines[1]["status"], "rejected");
        assert_eq!(lines[1]["line"], 3);
        assert_eq!(lines[1]["sample_id"], "B-2");
        assert_eq!(
            lines[1]["reason"],
            "result: \"maybe\" is not negative or positive"
        );
        assert_eq!(lines[2]["status"], "issued");
        assert_eq!(lines[3]["status"], "duplicate");
        assert_eq!(lines[3]["id"], lines[0]["id"]);
        assert_eq!(
            lines[4]["summary"],
            json!({"lines": 4, "issued": 2, "duplicates": 1, "rejected": 1})
        );

        // The same upload again stores nothing new.
        let again = call(
            &app.router,
            post("/v1/credentials/bulk", Some(&app.lab), "text/csv", csv),
        )
        .await;
        let last: Value = serde_json::from_str(
            String::from_utf8(again.body)
                .unwrap()
                .lines()
                .last()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            last["summary"],
            json!({"lines": 4, "issued": 0, "duplicates": 3, "rejected": 1})
        );
        assert_eq!(
            app.issuer.store.count_samples("Lab A").await.unwrap(),
            (2, 2)
        );

        // NDJSON, by content type; anything else is refused.
        let nd = format!(
            "{}\n{{\"sample_id\": \"N-2\"}}\n",
            test_result("N-1", "Chen Jing")
        );
        let reply = call(
            &app.router,
            post(
                "/v1/credentials/bulk",
                Some(&app.lab),
                "application/x-ndjson",
                nd,
            ),
        )
        .await;
        let text = String::from_utf8(reply.body).unwrap();
        assert!(
            text.contains("\"summary\":{\"lines\":2,\"issued\":1,\"duplicates\":0,\"rejected\":1}"),
            "{text}"
        );
        let refused = call(
            &app.router,
            post(
                "/v1/credentials/bulk",
                Some(&app.lab),
                "application/pdf",
                "x",
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let header_only = call(
            &app.router,
            post(
                "/v1/credentials/bulk?format=csv",
                Some(&app.lab),
                "text/plain",
                "name,dob\n",
            ),
        )
        .await;
        let text = String::from_utf8(header_only.body).unwrap();
        assert!(text.contains("no sample_id column"), "{text}");
        app.issuer.store.close().await;
    }
}

#[tokio::test]
async fn guesses_are_rate_limited_and_overload_is_shed() {
    let app = app(&Db::Sqlite).await;
    let mut last = None;
    for i in 0..11 {
        let r = call(&app.router, get(&format!("/v1/retrieve/AAAA-BBBB-{i:04}"))).await;
        last = Some(r);
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = last.header(header::RETRY_AFTER).parse().unwrap();
    assert!((1..=6).contains(&wait), "{wait}");
    // Another address is not affected.
    let other = api::router(app.state.clone())
        .layer(MockConnectInfo(SocketAddr::from(([198, 51, 100, 1], 1))));
    assert_eq!(
        call(&other, get("/v1/retrieve/AAAA-BBBB-CCCC"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // One request in flight at most: a second one is shed with 503.
    let app = app_with(
        &Db::Sqlite,
        Limits {
            max_in_flight: 1,
            ..Limits::default()
        },
    )
    .await;
    let (tx, slow) = slow_submission(&app);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let shed = call(&app.router, get("/v1/trust-list")).await;
    assert_eq!(shed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.header(header::RETRY_AFTER), "1");
    // Health checks and metrics have a lane of their own: a load balancer
    // does not mark a busy node down.
    let health = call(&app.router, get("/healthz")).await;
    assert_eq!(
        health.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&health.body)
    );
    assert_eq!(
        call(&app.router, get("/metrics")).await.status,
        StatusCode::OK
    );
    tx.send(Ok(test_result("SLOW", "Li Hua").to_string().into()))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(slow.await.unwrap().status, StatusCode::CREATED);
    assert_eq!(
        call(&app.router, get("/v1/trust-list")).await.status,
        StatusCode::OK
    );
    let metrics = String::from_utf8(call(&app.router, get("/metrics")).await.body).unwrap();
    assert!(
        metrics.contains("issuer_requests_shed_total 1\n"),
        "{metrics}"
    );

    // One submission signed at a time at most: a second is shed with 503
    // while other requests are served.
    let app = app_with(
        &Db::Sqlite,
        Limits {
            max_submissions: 1,
            ..Limits::default()
        },
    )
    .await;
    let (tx, slow) = slow_submission(&app);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let second = post(
        "/v1/credentials",
        Some(&app.lab),
        "application/json",
        test_result("SECOND", "Li Hua").to_string(),
    );
    let shed = call(&app.router, second).await;
    assert_eq!(shed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.header(header::RETRY_AFTER), "1");
    assert_eq!(
        call(&app.router, get("/v1/trust-list")).await.status,
        StatusCode::OK
    );
    tx.send(Ok(test_result("SLOW", "Li Hua").to_string().into()))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(slow.await.unwrap().status, StatusCode::CREATED);

    // A lab over its rate gets 429.
    let app = app_with(
        &Db::Sqlite,
        Limits {
            lab_per_second: 1.0,
            ..Limits::default()
        },
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let r = call(
            &app.router,
            post(
                "/v1/credentials",
                Some(&app.lab),
                "application/json",
                test_result(&format!("R-{i}"), "Li Hua").to_string(),
            ),
        )
        .await;
        statuses.push(r.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn guesses_count_against_the_address_a_trusted_proxy_forwarded_for() {
    let guess = |i: usize, forwarded: &str| {
        Request::get(format!("/v1/retrieve/AAAA-BBBB-{i:04}"))
            .header("x-forwarded-for", forwarded)
            .body(Body::empty())
            .unwrap()
    };
    // Behind a trusted proxy (the peer, 192.0.2.7): one client's wrong
    // codes do not lock out another behind the same proxy.
    let behind = app_with(
        &Db::Sqlite,
        Limits {
            trusted_proxies: vec!["192.0.2.0/24".parse().unwrap()],
            ..Limits::default()
        },
    )
    .await;
    for i in 0..10 {
        let r = call(&behind.router, guess(i, "203.0.113.5")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let r = call(&behind.router, guess(10, "203.0.113.5")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // A client cannot escape by prepending an address of its own.
    let r = call(&behind.router, guess(11, "198.51.100.1, 203.0.113.5")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = call(&behind.router, guess(12, "203.0.113.6")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // With no trusted proxy the header is ignored: a client changing it
    // still counts as its own address.
    let app = app(&Db::Sqlite).await;
    let mut last = StatusCode::OK;
    for i in 0..11 {
        last = call(&app.router, guess(i, &format!("203.0.113.{i}")))
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

/// The citizen fetch's status once it is `want`, or the last one after 5 s.
async fn fetch_until(r: &Router, code: &str, want: StatusCode) -> StatusCode {
    let mut tries = 0;
    loop {
        let status = call(r, get(&format!("/v1/retrieve/{code}"))).await.status;
        tries += 1;
        if status == want || tries == 100 {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_first_fetch_is_answered_only_once_it_can_be_recorded() {
    let app = app(&Db::Sqlite).await;
    let mut codes = Vec::new();
    for sample in ["Q-1", "Q-2"] {
        let body = test_result(sample, "Li Hua").to_string();
        let r = call(
            &app.router,
            post("/v1/credentials", Some(&app.lab), "application/json", body),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
        codes.push(r.json()["retrieval_code"].as_str().unwrap().to_string());
    }
    // Room for one first retrieval waiting to be recorded, and nothing
    // recording them yet.
    let clock = Arc::new(AtomicI64::new(t(NOW)));
    let c = clock.clone();
    let (state, flusher) = AppState::new(
        app.issuer.clone(),
        Limits {
            marks_queued: 1,
            ..Limits::default()
        },
        Arc::new(move || c.load(Ordering::SeqCst)),
    )
    .await
    .unwrap();
    let r =
        api::router(state.clone()).layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 8], 5555))));
    let fetch = |code: &str| call(&r, get(&format!("/v1/retrieve/{code}")));
    assert_eq!(fetch(&codes[0]).await.status, StatusCode::OK);
    // The second would be handed out with nothing to say it was: refused,
    // and the code is not spent.
    let busy = fetch(&codes[1]).await;
    assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.header(header::RETRY_AFTER), "1");
    assert!(busy.json()["error"].as_str().unwrap().contains("try again"));
    tokio::spawn(flusher);
    assert_eq!(
        fetch_until(&r, &codes[1], StatusCode::OK).await,
        StatusCode::OK
    );
    // Both first retrievals reach the database: after the grace period
    // both codes are spent.
    clock.fetch_add(state.limits.retrieval_grace + 1, Ordering::SeqCst);
    for code in &codes {
        assert_eq!(
            fetch_until(&r, code, StatusCode::NOT_FOUND).await,
            StatusCode::NOT_FOUND,
            "{code}"
        );
    }
}

#[tokio::test]
async fn key_rotation_lists_the_new_key_before_first_use() {
    for db in databases().await {
        let app = app(&db).await;
        let now = t(NOW);
        let old = app
            .issuer
            .signer(wallet_core::Algorithm::EdDsa, now)
            .unwrap()
            .kid;
        let before = app.issuer.snapshot().trust_list.clone().unwrap();
        let old_payload = call(
            &app.router,
            post(
                "/v1/credentials",
                Some(&app.lab),
                "application/json",
                test_result("K-1", "Li Hua").to_string(),
            ),
        )
        .await
        .json()["payload"]
            .as_str()
            .unwrap()
            .to_string();

        let report = app.issuer.rotate(86_400, now).await.unwrap();
        assert!(report.listed);
        assert_eq!(report.retired, vec![old.clone()]);
        let snap = app.issuer.snapshot();
        let list = snap.trust.list().unwrap();
        assert_eq!(list.version, before.version + 1);
        let kids: Vec<String> = list.keys.iter().map(|k| hex::encode(&k.key.kid)).collect();
        assert!(kids.contains(&old) && kids.contains(&report.kid));
        // Listed now, used only from its first-use time.
        assert_eq!(
            app.issuer
                .signer(wallet_core::Algorithm::EdDsa, now)
                .unwrap()
                .kid,
            old
        );
        assert_eq!(
            app.issuer
                .signer(wallet_core::Algorithm::EdDsa, now + 86_400)
                .unwrap()
                .kid,
            report.kid
        );
        // The old key stays verifiable: the credential it signed still checks.
        let trust = checkpoint_trust(&app, &snap.trust_list.as_ref().unwrap().bytes);
        let checkpoint = wallet_core::Checkpoint {
            trust,
            revocations: RevocationList::new(1, now, now + 86_400, vec![], vec![]),
            rules: wallet_core::samples::rule_set(),
        };
        let at = time::OffsetDateTime::from_unix_timestamp(now + 3600).unwrap();
        assert!(
            wallet_core::check(&old_payload, &checkpoint, "transport", at)
                .unwrap()
                .valid
        );
        let old_entry = list
            .keys
            .iter()
            .find(|k| hex::encode(&k.key.kid) == old)
            .unwrap();
        assert_eq!(
            old_entry.key.not_after,
            Some(now + 86_400 + issuer::service::keys::MAX_CREDENTIAL_LIFETIME)
        );
        app.issuer.store.close().await;
    }
}

#[tokio::test]
async fn an_offline_anchor_signs_the_list_before_a_rotated_key_is_used() {
    let app = app(&Db::Sqlite).await;
    let now = t(NOW);
    let anchor_file = app.data.join(issuer::keystore::ANCHOR_KEY_FILE);
    let offline = app._dir.path().join("usb-anchor.pem");
    std::fs::rename(&anchor_file, &offline).unwrap();
    app.issuer.store.close().await;
    let issuer = Issuer::open(&app.data, None, now).await.unwrap();
    assert!(!issuer.anchor_online());
    let old = issuer
        .signer(wallet_core::Algorithm::EdDsa, now)
        .unwrap()
        .kid;
    let report = issuer.rotate(0, now).await.unwrap();
    assert!(
        !report.listed,
        "no anchor here: the new key cannot be listed yet"
    );
    // Not listed: the old key keeps signing.
    assert_eq!(
        issuer
            .signer(wallet_core::Algorithm::EdDsa, now)
            .unwrap()
            .kid,
        old
    );
    // A stranger's key is refused as the anchor.
    let stranger = wallet_core::SigningKey::ed25519_from_seed(&[9; 32]);
    assert!(issuer
        .sign_trust_list(&stranger, 7 * 86_400, now)
        .await
        .is_err());
    let anchor = issuer::keystore::load(&offline).unwrap();
    let version = issuer
        .sign_trust_list(&anchor, 7 * 86_400, now)
        .await
        .unwrap();
    assert_eq!(version, 2);
    assert_eq!(
        issuer
            .signer(wallet_core::Algorithm::EdDsa, now)
            .unwrap()
            .kid,
        report.kid
    );
    issuer.store.close().await;
}

/// The service's accept loop (`api::serve`, as `issuer serve` runs it) on a
/// port of its own, for `app`'s issuer with `limits`: its address, what
/// stops it, and its task.
async fn serve_on_a_port(
    app: &App,
    limits: Limits,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (state, flusher) = AppState::new(app.issuer.clone(), limits, Arc::new(move || t(NOW)))
        .await
        .unwrap();
    let server = tokio::spawn(api::serve(
        listener,
        state,
        flusher,
        std::time::Duration::from_secs(1),
        async {
            let _ = stopped.await;
        },
    ));
    (addr, stop, server)
}

#[tokio::test]
async fn the_service_answers_on_a_real_port() {
    for db in databases().await {
        let app = app(&db).await;
        let (addr, stop, server) = serve_on_a_port(&app, Limits::default()).await;
        let base = format!("http://{addr}");
        let lab = app.lab.clone();
        let (issued, trust_list, status, codes) = tokio::task::spawn_blocking(move || {
            let issued = ureq::post(&format!("{base}/v1/credentials"))
                .set("Authorization", &format!("Bearer {lab}"))
                .send_string(&test_result("P-1", "Li Hua").to_string())
                .unwrap()
                .into_string()
                .unwrap();
            let issued: Value = serde_json::from_str(&issued).unwrap();
            let code = issued["retrieval_code"].as_str().unwrap();
            let fetched: Value = serde_json::from_str(
                &ureq::get(&format!("{base}/v1/retrieve/{code}"))
                    .call()
                    .unwrap()
                    .into_string()
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(fetched["payload"], issued["payload"]);
            // A second first fetch right after: its record waits for the
            // next second, so only stopping records it.
            let second: Value = serde_json::from_str(
                &ureq::post(&format!("{base}/v1/credentials"))
                    .set("Authorization", &format!("Bearer {lab}"))
                    .send_string(&test_result("P-2", "Li Lei").to_string())
                    .unwrap()
                    .into_string()
                    .unwrap(),
            )
            .unwrap();
            let second = second["retrieval_code"].as_str().unwrap().to_string();
            ureq::get(&format!("{base}/v1/retrieve/{second}"))
                .call()
                .unwrap();
            let codes = [code.to_string(), second];
            let mut tl = Vec::new();
            std::io::Read::read_to_end(
                &mut ureq::get(&format!("{base}/v1/trust-list"))
                    .call()
                    .unwrap()
                    .into_reader(),
                &mut tl,
            )
            .unwrap();
            let status = match ureq::get(&format!("{base}/v1/retrieve/ZZZZ-ZZZZ-ZZZZ")).call() {
                Err(ureq::Error::Status(s, _)) => s,
                other => panic!("{other:?}"),
            };
            (issued, tl, status, codes)
        })
        .await
        .unwrap();
        assert_eq!(status, 404);
        assert!(issued["payload"].as_str().unwrap().starts_with("HCN1:"));
        checkpoint_trust(&app, &trust_list);
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        // Both first fetches are recorded once the server has stopped.
        let keys = codes.map(|c| {
            app.issuer
                .code_lookup_key(&issuer::codes::normalize(&c).unwrap())
        });
        let found = app.issuer.store.by_codes(&keys).await.unwrap();
        for key in keys {
            assert_eq!(found[&key].retrieved_at, Some(t(NOW)));
        }
        app.issuer.store.close().await;
    }
}

/// Sends a GET on `conn` (kept alive) and reads the whole answer.
async fn get_on(conn: &mut tokio::net::TcpStream, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read(&mut buf).await.unwrap();
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        if n == 0 {
            return text;
        }
    }
}

/// The accept loop's bounds: one connection past --max-connections is told
/// 503 with Retry-After (before its request is read) and closed; a
/// connection idle past its limit is closed, and makes room; so is one
/// whose request head stalls.
#[tokio::test]
async fn connections_past_the_limit_are_refused_and_idle_ones_closed() {
    use tokio::io::AsyncReadExt;
    let app = app(&Db::Sqlite).await;
    let idle = std::time::Duration::from_millis(600);
    let limits = Limits {
        max_connections: 2,
        idle,
        ..Limits::default()
    };
    let (addr, stop, server) = serve_on_a_port(&app, limits).await;
    let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(get_on(&mut first, "/v1/trust-list")
        .await
        .starts_with("HTTP/1.1 200"));
    assert!(get_on(&mut second, "/v1/trust-list")
        .await
        .starts_with("HTTP/1.1 200"));

    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    let refused = get_on(&mut third, "/v1/trust-list").await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("retry-after: 1\r\n"), "{refused}");
    assert!(refused.contains("connection: close\r\n"), "{refused}");
    let mut rest = Vec::new();
    third.read_to_end(&mut rest).await.unwrap();
    assert!(
        rest.is_empty(),
        "the refused connection is closed after its answer"
    );

    // Idle past the limit: closed by the service, which then has room.
    tokio::time::sleep(idle * 2).await;
    for conn in [&mut first, &mut second] {
        let mut b = [0u8; 16];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), conn.read(&mut b))
            .await
            .expect("an idle connection is closed")
            .unwrap_or(0);
        assert_eq!(n, 0);
    }
    let mut fourth = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(get_on(&mut fourth, "/v1/trust-list")
        .await
        .starts_with("HTTP/1.1 200"));
    let metrics = get_on(&mut fourth, "/metrics").await;
    assert!(
        metrics.contains("issuer_requests_shed_total 1\n"),
        "{metrics}"
    );
    drop(fourth);

    // A request head that stops coming (a byte at a time, then nothing) is
    // closed once the same limit has passed: it holds no descriptor.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut slow, b"GET /v1/trust-list HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(idle * 5, slow.read_to_end(&mut rest))
        .await
        .expect("a stalled request head is closed")
        .unwrap_or(0);
    assert!(
        !String::from_utf8_lossy(&rest).contains(" 200 "),
        "{}",
        String::from_utf8_lossy(&rest)
    );

    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("the service stops once its connections have closed")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn exposures_are_published_signed_and_age_out() {
    for db in databases().await {
        let app = app(&db).await;
        let r = &app.router;
        // An empty list is published from the start.
        let first = call(r, get("/v1/exposures")).await;
        assert_eq!(first.status, StatusCode::OK);
        let etag = first.header(header::ETAG);
        let trust_list = call(r, get("/v1/trust-list")).await.body;
        let trust = checkpoint_trust(&app, &trust_list);
        let (empty, _) = ExposureList::open(&first.body, &trust).unwrap();
        assert!(empty.exposures.is_empty());

        let window = json!({
            "venue": "CD-MALL-9",
            "from": "2026-11-20T08:00:00Z",
            "until": "2026-11-20T09:30:00Z",
            "advice": "Take a rapid test today."
        });
        // Labs may not publish exposures; bad windows are named.
        let denied = call(
            r,
            post(
                "/v1/exposures",
                Some(&app.lab),
                "application/json",
                window.to_string(),
            ),
        )
        .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        let backwards =
            json!({"venue": "V", "from": "2026-11-20T09:00:00Z", "until": "2026-11-20T08:00:00Z"});
        let bad = call(
            r,
            post(
                "/v1/exposures",
                Some(&app.admin),
                "application/json",
                backwards.to_string(),
            ),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.json()["error"]
            .as_str()
            .unwrap()
            .contains("until is before from"));
        let unknown = call(
            r,
            post("/v1/exposures", Some(&app.admin), "application/json", r#"{"venue":"V","from":"2026-11-20T09:00:00Z","until":"2026-11-20T10:00:00Z","where":"x"}"#),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

        let added = call(
            r,
            post(
                "/v1/exposures",
                Some(&app.admin),
                "application/json",
                window.to_string(),
            ),
        )
        .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.json());
        let version = added.json()["version"].as_u64().unwrap();
        assert_eq!(version, empty.version + 1);
        let batch = json!({"exposures": [
            {"venue": "CD-METRO-1", "from": "2026-11-19T18:00:00Z", "until": "2026-11-19T19:00:00Z"},
            {"venue": "CD-METRO-2", "from": "2026-11-19T18:00:00Z", "until": "2026-11-19T19:00:00Z"}
        ]});
        let added = call(
            r,
            post(
                "/v1/exposures",
                Some(&app.admin),
                "application/json",
                batch.to_string(),
            ),
        )
        .await;
        assert_eq!(added.json()["added"], 2);

        let now = call(r, get("/v1/exposures")).await;
        assert_ne!(now.header(header::ETAG), etag);
        let (list, _) = ExposureList::open(&now.body, &trust).unwrap();
        assert_eq!(list.version, version + 1);
        let venues: Vec<&str> = list.exposures.iter().map(|e| e.venue.as_str()).collect();
        assert_eq!(venues, ["CD-METRO-1", "CD-METRO-2", "CD-MALL-9"]);
        assert_eq!(
            list.exposures[2].advice.as_deref(),
            Some("Take a rapid test today.")
        );
        let again = call(
            r,
            Request::get("/v1/exposures")
                .header(header::IF_NONE_MATCH, now.header(header::ETAG))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);

        // Another process on the same database (`issuer exposures add`):
        // the running service serves its list after one poll.
        let cli = Issuer::open(&app.data, app.url.as_deref(), t(NOW))
            .await
            .unwrap();
        let from_cli = cli
            .add_exposures(
                vec![wallet_core::signed::exposures::Exposure {
                    venue: "CD-PARK-4".into(),
                    from: t("2026-11-20T07:00:00Z"),
                    until: t("2026-11-20T08:00:00Z"),
                    advice: None,
                }],
                "cli",
                t(NOW),
            )
            .await
            .unwrap();
        cli.store.close().await;
        assert!(app.issuer.poll(t(NOW)).await.unwrap());
        let polled = call(r, get("/v1/exposures")).await;
        let (list, _) = ExposureList::open(&polled.body, &trust).unwrap();
        assert_eq!(list.version, from_cli);
        assert_eq!(list.exposures.len(), 4);

        // 28 days after a window ends it leaves the list (re-signed on refresh).
        let later = t("2026-12-18T09:00:00Z");
        app.issuer.refresh(later).await.unwrap();
        let snap = app.issuer.snapshot();
        let (aged, _) =
            ExposureList::open(&snap.exposures.as_ref().unwrap().bytes, &snap.trust).unwrap();
        let venues: Vec<&str> = aged.exposures.iter().map(|e| e.venue.as_str()).collect();
        assert_eq!(venues, ["CD-MALL-9"]);
        let health = call(r, get("/healthz")).await.json();
        assert_eq!(health["exposures"], aged.version);
        app.issuer.store.close().await;
    }
}

fn new_row(id: usize, sample: &str) -> issuer::store::NewCredential {
    issuer::store::NewCredential {
        id: format!("{id:032x}"),
        lab: "Lab A".into(),
        sample_id: sample.into(),
        kind: "test".into(),
        kid: "k".into(),
        payload: format!("HC1:{id}"),
        code_key: id as i64,
        issued_at: 1,
        expires_at: 2,
    }
}

/// A statement some of whose rows were stored before says which of them
/// it stored, in order, across statement chunks.
#[tokio::test]
async fn inserting_says_which_rows_were_new() {
    use issuer::store::{NewCredential, Store, ROWS_PER_STATEMENT};
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let store = match &db {
            Db::Sqlite => Store::open_data_dir(dir.path()).await.unwrap(),
            Db::Postgres(url) => Store::open(url).await.unwrap(),
        };
        let first: Vec<NewCredential> = (0..3).map(|i| new_row(i, &format!("S{i}"))).collect();
        let refs: Vec<&NewCredential> = first.iter().collect();
        assert_eq!(
            store.insert_credentials(&refs).await.unwrap(),
            [true, true, true]
        );
        // Sample S1 again under a new id, among new samples, with enough
        // rows that the statement is split.
        let n = ROWS_PER_STATEMENT + 10;
        let again_at = ROWS_PER_STATEMENT + 3;
        let again: Vec<NewCredential> = (0..n)
            .map(|i| {
                let sample = if i == again_at {
                    "S1".to_string()
                } else {
                    format!("T{i}")
                };
                new_row(1000 + i, &sample)
            })
            .collect();
        let refs: Vec<&NewCredential> = again.iter().collect();
        let inserted = store.insert_credentials(&refs).await.unwrap();
        assert_eq!(inserted.len(), n);
        for (i, stored) in inserted.iter().enumerate() {
            assert_eq!(*stored, i != again_at, "row {i}");
        }
        assert_eq!(store.count_credentials().await.unwrap(), 3 + n as u64 - 1);
        store.close().await;
    }
}

/// A database as an older version left it: the first `n` migrations, run
/// without the service's migrator.
async fn migrated_up_to(db: &Db, dir: &std::path::Path, n: usize) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = match db {
        Db::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("old.db").display()),
        Db::Postgres(u) => u.clone(),
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    for (_, _, sql) in &issuer::store::MIGRATIONS[..n] {
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    }
    conn
}

/// A database from before migration 3 keeps every citizen's code: its
/// stored hashes become the integer keys the service now looks codes up by,
/// on both databases (the first hex digit carries the sign).
#[tokio::test]
async fn migrating_to_integer_code_keys_keeps_every_code() {
    use sha2::{Digest, Sha256};
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    // Codes whose old hashes start with a digit below 8 and with one above.
    let first_with = |top: fn(u8) -> bool| {
        (0u64..)
            .map(|i| format!("{i:012}"))
            .find(|c| top(Sha256::digest(c.as_bytes())[0] >> 4))
            .unwrap()
    };
    let codes = [
        first_with(|t| t < 8),
        first_with(|t| t >= 8),
        "ZZZZZZZZZZZZ".to_string(),
    ];
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = migrated_up_to(&db, dir.path(), 2).await;
        for (i, canonical) in codes.iter().enumerate() {
            // What the service stored before: 128 bits of SHA-256, hex.
            let old = hex::encode(&Sha256::digest(canonical.as_bytes())[..16]);
            sqlx::query(
                "INSERT INTO credentials (id, lab, sample_id, kind, kid, payload, code_sha256, issued_at, expires_at) \
                 VALUES ($1, 'Lab A', $2, 'test', 'k', 'HC1:x', $3, 1, 2)",
            )
            .bind(format!("id{i}"))
            .bind(format!("S{i}"))
            .bind(old)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        sqlx::raw_sql(issuer::store::MIGRATIONS[2].2)
            .execute(&mut conn)
            .await
            .unwrap();
        for (i, canonical) in codes.iter().enumerate() {
            let row = sqlx::query("SELECT code_key FROM credentials WHERE id = $1")
                .bind(format!("id{i}"))
                .fetch_one(&mut conn)
                .await
                .unwrap();
            let key: i64 = row.try_get(0).unwrap();
            assert_eq!(
                key,
                issuer::codes::legacy_sha256_key(canonical),
                "code {canonical}"
            );
        }
        let gone = sqlx::query("SELECT code_sha256 FROM credentials")
            .fetch_all(&mut conn)
            .await;
        assert!(gone.is_err(), "the old column is dropped");
        conn.close().await.unwrap();
    }
}

/// First retrievals live in their own table (migration 4): a code fetched
/// before the upgrade stays fetched, at the same time.
#[tokio::test]
async fn migrating_moves_first_retrievals_to_their_own_table() {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = migrated_up_to(&db, dir.path(), 3).await;
        for (key, at) in [(11i64, Some(5i64)), (12, None)] {
            sqlx::query(
                "INSERT INTO credentials (id, lab, sample_id, kind, kid, payload, code_key, issued_at, expires_at, retrieved_at) \
                 VALUES ($1, 'Lab A', $1, 'test', 'k', 'HC1:x', $2, 1, 2, $3)",
            )
            .bind(format!("id{key}"))
            .bind(key)
            .bind(at)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        sqlx::raw_sql(issuer::store::MIGRATIONS[3].2)
            .execute(&mut conn)
            .await
            .unwrap();
        let moved: Vec<(i64, i64)> =
            sqlx::query("SELECT code_key, retrieved_at FROM retrievals ORDER BY code_key")
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.try_get(0).unwrap(), r.try_get(1).unwrap()))
                .collect();
        assert_eq!(moved, [(11, 5)]);
        conn.close().await.unwrap();
    }
}

/// A later fetch never replaces a code's earliest retrieval time, within
/// one batch of marks or across batches.
#[tokio::test]
async fn a_first_retrieval_keeps_its_earliest_time() {
    use issuer::store::{NewCredential, Store};
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let store = match &db {
            Db::Sqlite => Store::open_data_dir(dir.path()).await.unwrap(),
            Db::Postgres(url) => Store::open(url).await.unwrap(),
        };
        let rows: Vec<NewCredential> = (1..=3).map(|i| new_row(i, &format!("S{i}"))).collect();
        let refs: Vec<&NewCredential> = rows.iter().collect();
        store.insert_credentials(&refs).await.unwrap();
        store
            .mark_retrieved(&[(1, 9), (2, 8), (1, 7)])
            .await
            .unwrap();
        store.mark_retrieved(&[(1, 3), (2, 20)]).await.unwrap();
        let found = store.by_codes(&[1, 2, 3]).await.unwrap();
        let times: Vec<Option<i64>> = (1..=3).map(|k| found[&k].retrieved_at).collect();
        assert_eq!(times, [Some(7), Some(8), None]);
        store.close().await;
    }
}

/// Two nodes on one database rotate the anchor at the same instant: one
/// hand-over is stored, both nodes then agree on the current anchor, and
/// a device pinned to the first anchor follows to it.
#[tokio::test]
async fn two_nodes_rotating_the_anchor_at_once_store_one_handover() {
    use issuer::keystore;
    use wallet_core::{Algorithm, IssuerKey, SigningKey};
    for db in databases().await {
        let app = app(&db).await;
        let now = t(NOW);
        let a = keystore::load(&app.data.join(keystore::ANCHOR_KEY_FILE)).unwrap();
        let first = IssuerKey::from_public_key(a.public_key(), "anchor");
        let node = join(&app, "node-2").await;
        let new_key = || SigningKey::generate(Algorithm::EdDsa, &mut rand_core::OsRng).unwrap();
        let (b, c) = (new_key(), new_key());
        let (one, two) = tokio::join!(
            app.issuer.rotate_anchor(&a, &b, 86_400, now + 10),
            node.rotate_anchor(&a, &c, 86_400, now + 10)
        );
        assert_eq!(
            [one.is_ok(), two.is_ok()].iter().filter(|ok| **ok).count(),
            1,
            "{db:?}: {one:?} {two:?}"
        );
        let winner = if one.is_ok() { &b } else { &c };
        app.issuer.poll(now + 20).await.unwrap();
        node.poll(now + 20).await.unwrap();
        let expected = vec![hex::encode(winner.kid())];
        assert_eq!(app.issuer.current_anchors(), expected, "{db:?}");
        assert_eq!(node.current_anchors(), expected, "{db:?}");
        let list = app.issuer.snapshot().trust_list.clone().unwrap();
        let mut device = TrustStore::new(vec![first]);
        let change = device.install(&list.bytes).unwrap();
        assert_eq!(change.anchors_pinned, expected, "{db:?}");
        node.store.close().await;
        app.issuer.store.close().await;
    }
}

#[tokio::test]
async fn the_anchor_is_offered_and_the_browser_apps_served_from_their_folder() {
    let app = app(&Db::Sqlite).await;
    let r = &app.router;
    let offered = call(r, get("/v1/anchor")).await;
    assert_eq!(offered.status, StatusCode::OK);
    assert_eq!(
        offered.header(header::CONTENT_TYPE),
        "application/x-pem-file"
    );
    let pem = String::from_utf8(offered.body).unwrap();
    let key = wallet_core::keys::PublicKey::from_pem(&pem).unwrap();
    assert_eq!(
        key,
        app.issuer.anchors()[0].key,
        "the anchor the issuer holds"
    );

    // No folder given: a 404 that says how to serve them.
    let none = call(r, get("/verify")).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(none.json()["error"].as_str().unwrap().contains("--apps"));

    let apps = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(apps.path().join("verify")).unwrap();
    std::fs::create_dir_all(apps.path().join("app")).unwrap();
    std::fs::write(
        apps.path().join("verify/index.html"),
        "<!doctype html>checkpoint",
    )
    .unwrap();
    std::fs::write(apps.path().join("app/m.wasm"), b"\0asm").unwrap();
    std::fs::write(apps.path().join("secret.txt"), "not an app file").unwrap();
    app.state.apps.set(apps.path().to_path_buf()).unwrap();
    for path in ["/verify", "/verify/"] {
        let page = call(r, get(path)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(
            page.header(header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(page.body, b"<!doctype html>checkpoint");
    }
    let wasm = call(r, get("/app/m.wasm")).await;
    assert_eq!(wasm.header(header::CONTENT_TYPE), "application/wasm");
    assert_eq!(wasm.header(header::CACHE_CONTROL), "no-cache");
    // The copies web/build.sh writes: brotli for a client that takes it,
    // gzip for one that takes only that, the file itself otherwise; each
    // with its own ETag, and a 304 (no body) to a request that names it.
    std::fs::write(apps.path().join("app/m.wasm.br"), b"brotli bytes").unwrap();
    std::fs::write(apps.path().join("app/m.wasm.gz"), b"gzip bytes").unwrap();
    let with = |path: &str, name: header::HeaderName, value: &str| {
        let mut req = get(path);
        req.headers_mut()
            .insert(name, header::HeaderValue::from_str(value).unwrap());
        req
    };
    let br = call(
        r,
        with("/app/m.wasm", header::ACCEPT_ENCODING, "gzip, deflate, br"),
    )
    .await;
    assert_eq!(br.header(header::CONTENT_ENCODING), "br");
    assert_eq!(br.header(header::VARY), "Accept-Encoding");
    assert_eq!(br.body, b"brotli bytes");
    let gz = call(r, with("/app/m.wasm", header::ACCEPT_ENCODING, "gzip")).await;
    assert_eq!(gz.header(header::CONTENT_ENCODING), "gzip");
    assert_eq!(gz.body, b"gzip bytes");
    let plain = call(r, get("/app/m.wasm")).await;
    assert_eq!(plain.body, b"\0asm");
    let tags = [
        br.header(header::ETAG),
        gz.header(header::ETAG),
        plain.header(header::ETAG),
    ];
    assert!(tags[0] != tags[1] && tags[1] != tags[2], "{tags:?}");
    let again = call(
        r,
        with(
            "/app/m.wasm",
            header::IF_NONE_MATCH,
            &plain.header(header::ETAG),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    // A compressed copy alone, with no file beside it, is not served.
    std::fs::write(apps.path().join("app/orphan.js.gz"), b"x").unwrap();
    let orphan = call(r, with("/app/orphan.js", header::ACCEPT_ENCODING, "gzip")).await;
    assert_eq!(orphan.status, StatusCode::NOT_FOUND);
    for path in [
        "/app/../secret.txt",
        "/app/%2e%2e/secret.txt",
        "/secret.txt",
        "/wallet",
        "/app/none.js",
    ] {
        assert_eq!(
            call(r, get(path)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    app.issuer.store.close().await;
}

/// Sends each of 30 samples (PREFIX-0 …) twice at the same instant, the
/// i-th request to `routers[i % routers.len()]`. Asserts that exactly one
/// of each pair created the credential and that both answers carry its id
/// and code; returns the answers by sample.
async fn send_each_sample_twice(
    routers: &[Router],
    lab: &str,
    prefix: &str,
    db: &Db,
) -> std::collections::HashMap<usize, Vec<Value>> {
    let mut sent = Vec::new();
    for i in 0..60 {
        let router = routers[i % routers.len()].clone();
        let (lab, sample) = (lab.to_string(), format!("{prefix}-{}", i / 2));
        sent.push(tokio::spawn(async move {
            let body = test_result(&sample, "Li Hua").to_string();
            let r = call(
                &router,
                post("/v1/credentials", Some(&lab), "application/json", body),
            )
            .await;
            (
                i / 2,
                r.status,
                serde_json::from_slice::<Value>(&r.body).unwrap(),
            )
        }));
    }
    let mut answers: std::collections::HashMap<usize, Vec<Value>> = Default::default();
    let mut created = 0;
    for s in sent {
        let (sample, status, body) = s.await.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{db:?}: {status} {body}"
        );
        created += usize::from(status == StatusCode::CREATED);
        answers.entry(sample).or_default().push(body);
    }
    assert_eq!(created, 30, "{db:?}: one credential created per sample");
    for (sample, a) in &answers {
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[0]["id"], a[1]["id"],
            "{db:?}: {prefix}-{sample} got two credentials"
        );
        assert_eq!(
            a[0]["retrieval_code"], a[1]["retrieval_code"],
            "{db:?}: {prefix}-{sample}"
        );
    }
    answers
}

/// Single submissions sent at once share commits; each sample still has
/// one credential, and a sample sent twice at the same instant gets the
/// same credential and code both times. On SQLite and PostgreSQL.
#[tokio::test]
async fn concurrent_submissions_store_one_credential_per_sample() {
    for db in databases().await {
        let app = app(&db).await;
        let answers =
            send_each_sample_twice(std::slice::from_ref(&app.router), &app.lab, "C", &db).await;
        assert_eq!(answers.len(), 30, "{db:?}");
        assert_eq!(
            app.issuer.store.count_credentials().await.unwrap(),
            30,
            "{db:?}"
        );
    }
}

/// Two nodes on one database: the joining node signs only once the anchor
/// (on the first node) lists its key, and then only with its own key; the
/// same sample sent to both at once is one credential with one code; a
/// code from either node is answered by the other; a revocation made on
/// one reaches the other's list; both serve the same bytes and ETag; a
/// rotation on one leaves the other's key alone. On SQLite and PostgreSQL.
#[tokio::test]
async fn two_nodes_on_one_database_act_as_one_issuer() {
    use issuer::service::IssuerError;
    use wallet_core::Algorithm;
    for db in databases().await {
        let app = app(&db).await;
        let now = t(NOW);
        let b = Arc::new(join(&app, "node-b").await);
        assert_eq!(b.node(), "node-b");
        let b_key = issuer::keystore::load(
            &app._dir
                .path()
                .join("node-b")
                .join(issuer::keystore::SIGNING_KEY_FILE),
        )
        .unwrap();
        let b_kid = hex::encode(b_key.kid());
        let a_kid = app.issuer.signer(Algorithm::EdDsa, now).unwrap().kid;
        assert_ne!(a_kid, b_kid);
        // Not listed yet: node B refuses to sign rather than sign with A's key.
        match b.signer(Algorithm::EdDsa, now) {
            Err(IssuerError::NoSigner { .. }) => {}
            other => panic!(
                "{db:?}: node B signed before it was listed: {:?}",
                other.map(|s| s.kid)
            ),
        }
        // A (with the anchor) sees B's key and lists it; B loads the list.
        assert!(app.issuer.poll(now + 1).await.unwrap(), "{db:?}");
        b.poll(now + 1).await.unwrap();
        assert_eq!(
            b.signer(Algorithm::EdDsa, now + 1).unwrap().kid,
            b_kid,
            "{db:?}"
        );
        assert_eq!(
            app.issuer.signer(Algorithm::EdDsa, now + 1).unwrap().kid,
            a_kid
        );
        app.clock.store(now + 2, Ordering::SeqCst);
        let b_router = serve_node(&app, b.clone()).await;

        // The same 30 samples, each to both nodes at once.
        let answers =
            send_each_sample_twice(&[app.router.clone(), b_router.clone()], &app.lab, "N", &db)
                .await;
        assert_eq!(app.issuer.store.count_credentials().await.unwrap(), 30);
        let mut kids = std::collections::HashSet::new();
        for row in app.issuer.store.credentials_after("", 100).await.unwrap() {
            kids.insert(row.kid.clone());
        }
        assert!(
            kids.is_subset(&[a_kid.clone(), b_kid.clone()].into()),
            "{db:?}: {kids:?}"
        );

        // Each node answers the other's codes, once.
        let (first, second) = (&answers[&0][0], &answers[&1][0]);
        for (code, router) in [
            (&first["retrieval_code"], &b_router),
            (&second["retrieval_code"], &app.router),
        ] {
            let r = call(
                router,
                get(&format!("/v1/retrieve/{}", code.as_str().unwrap())),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{db:?}");
        }

        // A revocation and an exposure made on B are published, and A
        // serves them after a poll.
        let id = second["id"].as_str().unwrap().to_string();
        b.revoke(&[issuer::service::RevokeTarget::Id(id)], "test", now + 3)
            .await
            .unwrap();
        let exposure = wallet_core::signed::exposures::Exposure {
            venue: "CD-NODE-B".into(),
            from: now - 3600,
            until: now - 1800,
            advice: None,
        };
        b.add_exposures(vec![exposure.clone()], "ops", now + 3)
            .await
            .unwrap();
        app.issuer.poll(now + 3).await.unwrap();
        let served = call(&app.router, get("/v1/exposures")).await;
        let (held, _) = ExposureList::open(&served.body, &app.issuer.snapshot().trust).unwrap();
        assert!(
            held.exposures.contains(&exposure),
            "{db:?}: node A serves B's exposure"
        );
        for path in [
            "/v1/trust-list",
            "/v1/revocations",
            "/v1/rules",
            "/v1/exposures",
        ] {
            let (x, y) = (
                call(&app.router, get(path)).await,
                call(&b_router, get(path)).await,
            );
            assert_eq!(x.status, StatusCode::OK, "{db:?} {path}");
            assert_eq!(x.body, y.body, "{db:?}: {path} differs between nodes");
            assert_eq!(
                x.header(header::ETAG),
                y.header(header::ETAG),
                "{db:?} {path}"
            );
        }
        let revocations = call(&app.router, get("/v1/revocations")).await;
        let trust = checkpoint_trust(&app, &call(&b_router, get("/v1/trust-list")).await.body);
        let list = RevocationList::open(&revocations.body, &trust).unwrap();
        let stored = app.issuer.store.revocations().await.unwrap().len();
        assert!(stored > 0, "{db:?}");
        assert_eq!(list.len(), stored, "{db:?}");

        // B rotates its key: A keeps signing with its own.
        b.rotate(0, now + 4).await.unwrap();
        app.issuer.poll(now + 5).await.unwrap();
        b.poll(now + 5).await.unwrap();
        assert_eq!(
            app.issuer.signer(Algorithm::EdDsa, now + 5).unwrap().kid,
            a_kid,
            "{db:?}"
        );
        assert_ne!(
            b.signer(Algorithm::EdDsa, now + 5).unwrap().kid,
            b_kid,
            "{db:?}"
        );
        let keys = app.issuer.store.keys().await.unwrap();
        assert!(
            keys.iter()
                .any(|k| k.kid == a_kid && k.retired_at.is_none()),
            "{db:?}"
        );
        b.store.close().await;
        app.issuer.store.close().await;
    }
}

/// A node whose code secret is not the others' is refused (its codes would
/// differ), and so is a folder using another node's name.
#[tokio::test]
async fn a_node_with_another_secret_or_name_is_refused() {
    for db in databases().await {
        let app = app(&db).await;
        let now = t(NOW);
        let url = database_url(&app);
        let dir = join_folder(&app, "node-b");
        std::fs::remove_file(dir.join(issuer::codes::SECRET_FILE)).unwrap();
        issuer::codes::CodeKey::load_or_create(&dir).unwrap();
        let err = Issuer::open(&dir, Some(&url), now)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("code secret the other nodes"), "{db:?}: {err}");

        let b = join(&app, "node-c").await;
        drop(b);
        let twin = join_folder_as(&app, "twin", "node-c");
        let err = Issuer::open(&twin, Some(&url), now)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("another data folder using this node's name"),
            "{db:?}: {err}"
        );

        // A joined folder without the shared database is refused, not given a new one.
        let err = Issuer::open(&twin, None, now)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("--database-url"), "{err}");
        app.issuer.store.close().await;
    }
}

/// The authority's name and country come from the folder's config.json
/// (`issuer init --authority-name --country`) and reach the trust list;
/// changing them re-signs it.
#[tokio::test]
async fn the_authority_is_named_by_its_configuration() {
    use issuer::service::ConfigChange;
    let app = app(&Db::Sqlite).await;
    let now = t(NOW);
    let labels = |issuer: &Issuer| -> Vec<(String, String)> {
        let snap = issuer.snapshot();
        snap.trust
            .list()
            .unwrap()
            .keys
            .iter()
            .map(|k| (k.key.label.clone(), k.country.clone()))
            .collect()
    };
    assert_eq!(
        labels(&app.issuer),
        [("Health Commission (EdDSA)".to_string(), "CN".to_string())]
    );
    let before = app.issuer.snapshot().trust_list.as_ref().unwrap().version;
    app.issuer.store.close().await;
    let change = ConfigChange {
        authority_name: Some("Sichuan Provincial Health Commission".into()),
        country: Some("cn".into()),
        ..Default::default()
    };
    issuer::service::init_data_with(&app.data, &change).unwrap();
    let reopened = Issuer::open(&app.data, None, now + 10).await.unwrap();
    assert_eq!(
        labels(&reopened),
        [(
            "Sichuan Provincial Health Commission (EdDSA)".to_string(),
            "CN".to_string()
        )]
    );
    assert!(reopened.snapshot().trust_list.as_ref().unwrap().version > before);
    for (bad, why) in [("C", "country"), ("CHN", "country"), ("", "authority")] {
        let change = if why == "country" {
            ConfigChange {
                country: Some(bad.into()),
                ..Default::default()
            }
        } else {
            ConfigChange {
                authority_name: Some(bad.into()),
                ..Default::default()
            }
        };
        let err = issuer::service::init_data_with(&app.data, &change)
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{bad}: {err}");
    }
    reopened.store.close().await;
}

/// A database from before migration 7 (code keys a bare SHA-256 of the
/// code) keeps every citizen's code and first fetch: the issuer that opens
/// it re-keys each row with the keyed hash, on both databases, and the code
/// still retrieves its credential; a copy of the database alone no longer
/// gives a way to test candidate codes.
#[tokio::test]
async fn migrating_to_keyed_code_hashes_keeps_every_code() {
    use sqlx::Connection;
    for db in databases().await {
        let app = app(&db).await;
        let mut codes = Vec::new();
        for (i, name) in ["Li Hua", "Wang Fang"].iter().enumerate() {
            let issued = call(
                &app.router,
                post(
                    "/v1/credentials",
                    Some(&app.lab),
                    "application/json",
                    test_result(&format!("S-{i}"), name).to_string(),
                ),
            )
            .await;
            assert_eq!(issued.status, StatusCode::CREATED);
            let code = issued.json()["retrieval_code"]
                .as_str()
                .unwrap()
                .to_string();
            let id = issued.json()["id"].as_str().unwrap().to_string();
            codes.push((code, id));
        }
        // The first code was fetched once.
        let got = call(&app.router, get(&format!("/v1/retrieve/{}", codes[0].0))).await;
        assert_eq!(got.status, StatusCode::OK);
        // First fetches are written in batches: wait for this one.
        let key0 = app
            .issuer
            .code_lookup_key(&issuer::codes::normalize(&codes[0].0).unwrap());
        for _ in 0..100 {
            let found = app.issuer.store.by_codes(&[key0]).await.unwrap();
            if found[&key0].retrieved_at.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        app.issuer.store.close().await;
        // Put the database back as an issuer before migration 7 left it.
        let url = database_url(&app);
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        for (code, id) in &codes {
            let canonical = issuer::codes::normalize(code).unwrap();
            let new = app.issuer.code_lookup_key(&canonical);
            let old = issuer::codes::legacy_sha256_key(&canonical);
            assert_ne!(new, old);
            sqlx::query("UPDATE credentials SET code_key = $1 WHERE id = $2")
                .bind(old)
                .bind(id)
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query("UPDATE retrievals SET code_key = $1 WHERE code_key = $2")
                .bind(old)
                .bind(new)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        sqlx::query("UPDATE settings SET value = 'sha256-v1' WHERE name = 'code_key_scheme'")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let reopened = Issuer::open(&app.data, app.url.as_deref(), t(NOW))
            .await
            .unwrap();
        assert_eq!(
            reopened.store.code_key_scheme().await.unwrap().as_deref(),
            Some(issuer::store::CODE_KEY_SCHEME)
        );
        let keys: Vec<i64> = codes
            .iter()
            .map(|(c, _)| reopened.code_lookup_key(&issuer::codes::normalize(c).unwrap()))
            .collect();
        let found = reopened.store.by_codes(&keys).await.unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[&keys[0]].id, codes[0].1);
        assert!(
            found[&keys[0]].retrieved_at.is_some(),
            "the first fetch is kept"
        );
        assert!(found[&keys[1]].retrieved_at.is_none());
        // Opening it again changes nothing.
        reopened.store.close().await;
        let again = Issuer::open(&app.data, app.url.as_deref(), t(NOW))
            .await
            .unwrap();
        assert_eq!(again.store.by_codes(&keys).await.unwrap().len(), 2);
        again.store.close().await;
    }
}
