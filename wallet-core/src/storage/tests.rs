use super::*;

/// The same checks on both kinds of storage.
fn behaves_as_files(s: &dyn Storage) {
    assert_eq!(s.read("anchors.pem", 100).unwrap(), None);
    assert!(s.list("").unwrap().is_empty());
    assert!(s.list("dsc").unwrap().is_empty());

    s.write("anchors.pem", b"one").unwrap();
    s.write("dsc/b.pem", b"bb").unwrap();
    s.write("dsc/a.pem", b"aa").unwrap();
    assert_eq!(s.read("anchors.pem", 100).unwrap().unwrap(), b"one");
    s.write("anchors.pem", b"two").unwrap();
    assert_eq!(s.read("anchors.pem", 3).unwrap().unwrap(), b"two");
    assert_eq!(s.list("").unwrap(), ["anchors.pem"]);
    assert_eq!(s.list("dsc").unwrap(), ["a.pem", "b.pem"]);

    let e = s.read("anchors.pem", 2).unwrap_err();
    assert!(
        e.to_string().ends_with("anchors.pem: larger than 2 bytes"),
        "{e}"
    );
    for bad in ["../x", "/etc/passwd", "a//b", "./a", "dsc/..", ""] {
        assert!(s.read(bad, 10).is_err(), "{bad:?} was read");
        assert!(s.write(bad, b"x").is_err(), "{bad:?} was written");
    }
    assert!(s.list("..").is_err());
}

#[test]
fn a_folder_and_memory_keep_files_alike() {
    let dir = tempfile::tempdir().unwrap();
    let folder = Folder::new(dir.path().join("store"));
    behaves_as_files(&folder);
    assert_eq!(
        std::fs::read(dir.path().join("store/dsc/a.pem")).unwrap(),
        b"aa"
    );
    let memory = Memory::new();
    behaves_as_files(&memory);
    assert_eq!(memory.files().len(), 3);
    assert_eq!(
        memory.locate("rules.cose"),
        PathBuf::from("memory:rules.cose")
    );
}

#[test]
fn what_a_browser_saved_comes_back() {
    let first = Memory::new();
    first.write("members/me.json", b"{}").unwrap();
    let second = Memory::new();
    for (name, bytes) in first.files() {
        second.insert(&name, bytes).unwrap();
    }
    assert_eq!(second.list("members").unwrap(), ["me.json"]);
    assert!(second.insert("../me.json", Vec::new()).is_err());
}

#[test]
fn a_write_in_progress_is_not_listed_and_a_failed_one_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let folder = Folder::new(dir.path());
    folder.write("rules.cose", b"old").unwrap();
    std::fs::write(dir.path().join(".rules.cose.99.tmp"), b"half").unwrap();
    assert_eq!(folder.list("").unwrap(), ["rules.cose"]);
    // A folder where the file should be: the rename fails, the old stays.
    std::fs::create_dir_all(dir.path().join("trust-list.cose/x")).unwrap();
    assert!(folder.write("trust-list.cose", b"new").is_err());
    assert_eq!(folder.read("rules.cose", 10).unwrap().unwrap(), b"old");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(".trust-list.cose")
        })
        .collect();
    assert!(leftovers.is_empty(), "a temporary file was left behind");
}
