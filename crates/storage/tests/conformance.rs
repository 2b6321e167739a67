//! One conformance suite, run against every backend Lakeshore supports here: memory, the local
//! filesystem, and a real HDFS (when `LAKESHORE_TEST_HDFS` names one, as `scripts/test.sh` does).
//!
//! Each check asserts the exact outcome the landing sink's commit protocol relies on: atomic
//! create-if-absent, rename that never replaces, `None` for missing objects, recursive listing.

use std::collections::HashMap;

use bytes::Bytes;
use lakeshore_storage::{parse_path, Created, Path, Renamed, Store};

fn unique_prefix() -> String {
    format!(
        "conformance-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn p(prefix: &str, rel: &str) -> Path {
    parse_path(&format!("{prefix}/{rel}")).unwrap()
}

async fn suite(store: &Store) {
    let base = unique_prefix();

    // Missing objects are outcomes, not errors.
    assert_eq!(store.get(&p(&base, "nope")).await.unwrap(), None);
    assert!(store.head(&p(&base, "nope")).await.unwrap().is_none());
    store.delete(&p(&base, "nope")).await.unwrap();
    assert!(store.list(&p(&base, "")).await.unwrap().is_empty());

    // put / get round trip, overwrite allowed.
    let a = p(&base, "dir/a.json");
    store.put(&a, Bytes::from_static(b"one\n")).await.unwrap();
    store.put(&a, Bytes::from_static(b"two\n")).await.unwrap();
    assert_eq!(
        store.get(&a).await.unwrap().unwrap(),
        Bytes::from_static(b"two\n")
    );
    assert_eq!(store.head(&a).await.unwrap().unwrap().size, 4);

    // A payload of several buffers is one object, in order.
    let chunked = p(&base, "dir/chunked.json");
    let parts = [&b"1\n2\n"[..], b"", b"3\n"].map(Bytes::from_static);
    store
        .put_payload(&chunked, parts.into_iter().collect())
        .await
        .unwrap();
    assert_eq!(
        store.get(&chunked).await.unwrap().unwrap(),
        Bytes::from_static(b"1\n2\n3\n")
    );

    // create: exactly once.
    let c = p(&base, "log/0000000000.commit");
    assert_eq!(
        store
            .create(&c, Bytes::from_static(b"first"))
            .await
            .unwrap(),
        Created::Created
    );
    assert_eq!(
        store
            .create(&c, Bytes::from_static(b"second"))
            .await
            .unwrap(),
        Created::AlreadyExists
    );
    assert_eq!(
        store.get(&c).await.unwrap().unwrap(),
        Bytes::from_static(b"first")
    );

    // Concurrent creates of one name: exactly one winner.
    let race = p(&base, "log/race");
    let outcomes = futures::future::join_all((0..8).map(|i| {
        let store = store.clone();
        let race = race.clone();
        async move {
            store
                .create(&race, Bytes::from(format!("w{i}")))
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(
        outcomes.iter().filter(|o| **o == Created::Created).count(),
        1
    );

    // rename_if_absent never replaces, reports a missing source.
    let tmp = p(&base, "+tmp/t/0/x.json");
    let fin = p(&base, "t/year=2026/t+0+0000000000+0000000001.json");
    store.put(&tmp, Bytes::from_static(b"{}\n")).await.unwrap();
    assert_eq!(
        store.rename_if_absent(&tmp, &fin).await.unwrap(),
        Renamed::Renamed
    );
    assert!(store.head(&tmp).await.unwrap().is_none());
    assert_eq!(
        store.get(&fin).await.unwrap().unwrap(),
        Bytes::from_static(b"{}\n")
    );
    assert_eq!(
        store.rename_if_absent(&tmp, &fin).await.unwrap(),
        Renamed::SourceMissing
    );
    store
        .put(&tmp, Bytes::from_static(b"other\n"))
        .await
        .unwrap();
    assert_eq!(
        store.rename_if_absent(&tmp, &fin).await.unwrap(),
        Renamed::TargetExists
    );
    assert_eq!(
        store.get(&fin).await.unwrap().unwrap(),
        Bytes::from_static(b"{}\n")
    );

    // Names with Hive-escaped characters are stored literally.
    let odd = p(&base, "t/name=a%2Fb/f.json");
    store.put(&odd, Bytes::from_static(b"1\n")).await.unwrap();
    let listed = store.list(&p(&base, "t")).await.unwrap();
    let mut names: Vec<String> = listed.iter().map(|m| m.location.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            format!("{base}/t/name=a%2Fb/f.json"),
            format!("{base}/t/year=2026/t+0+0000000000+0000000001.json"),
        ]
    );

    // One level listing shows sub-directories.
    let (objects, dirs) = store.list_dir(&p(&base, "t")).await.unwrap();
    assert!(objects.is_empty());
    let mut dirs: Vec<String> = dirs.iter().map(|d| d.to_string()).collect();
    dirs.sort();
    assert_eq!(
        dirs,
        vec![
            format!("{base}/t/name=a%2Fb"),
            format!("{base}/t/year=2026")
        ]
    );

    // Delete.
    store.delete(&fin).await.unwrap();
    assert!(store.head(&fin).await.unwrap().is_none());
}

#[tokio::test]
async fn memory_backend_conforms() {
    let store = Store::from_url("memory:///root", &HashMap::new()).unwrap();
    suite(&store).await;
}

#[tokio::test]
async fn local_backend_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let store = Store::from_url(&url, &HashMap::new()).unwrap();
    suite(&store).await;
    // The local backend writes real files under the URL's directory.
    assert!(dir.path().read_dir().unwrap().next().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hdfs_backend_conforms() {
    let Some(url) = std::env::var("LAKESHORE_TEST_HDFS").ok() else {
        assert!(
            std::env::var("LAKESHORE_REQUIRE_SERVICES").is_err(),
            "LAKESHORE_REQUIRE_SERVICES is set but LAKESHORE_TEST_HDFS is not: run scripts/test.sh"
        );
        eprintln!("SKIPPED hdfs_backend_conforms: set LAKESHORE_TEST_HDFS=hdfs://127.0.0.1:19000 (scripts/test.sh does)");
        return;
    };
    let store = Store::from_url(&format!("{url}/lakeshore-tests"), &HashMap::new()).unwrap();
    suite(&store).await;
}

#[tokio::test]
async fn unreachable_hdfs_is_a_retryable_error_naming_the_path() {
    // Nothing listens on port 1 of loopback.
    let store = Store::from_url("hdfs://127.0.0.1:1/x", &HashMap::new()).unwrap();
    let err = store
        .put(&parse_path("a/b.json").unwrap(), Bytes::from_static(b"1"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("a/b.json"), "{err}");
}
