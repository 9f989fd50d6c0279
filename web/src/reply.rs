//! What every call answers: `{"ok": value}` or `{"error": text}`.

use serde::Serialize;
use serde_json::json;

pub fn answer<T: Serialize>(result: Result<T, String>) -> String {
    match result {
        Ok(v) => json!({ "ok": v }).to_string(),
        Err(e) => json!({ "error": e }).to_string(),
    }
}
