//! Order files, over HTTP (`POST /api/v1/imports`) and from the command line (`milepost
//! import`): every row is checked first; a file with a bad row writes nothing and names each bad
//! row by line; a good file is written whole, reporting each order as created or updated.

mod common;

use common::spawn_app;
use serde_json::json;
use std::process::Command;

const HEADER: &str = "order_number,channel,placed_at,promised_by,currency,customer_name,customer_email,customer_phone,ship_line1,ship_line2,ship_city,ship_region,ship_postal_code,ship_country,sku,description,quantity,unit_price";

fn good_csv() -> String {
    format!(
        "{HEADER}\n\
         SO-1042,b2b,2026-11-01T09:14:22-05:00,2026-11-05,USD,Dana Ruiz,dana@example.net,,415 Juniper St,,Boise,ID,83702,US,MUG-STN-12OZ,\"Stoneware Mug, Slate\",2,29.00\n\
         SO-1042,b2b,2026-11-01T09:14:22-05:00,2026-11-05,USD,Dana Ruiz,dana@example.net,,415 Juniper St,,Boise,ID,83702,US,TEE-ORG-M,Tee,1,19.00\n\
         SO-1043,,2026-11-01T11:00:00-05:00,,USD,Ben Okafor,ben@example.net,,1 Main St,,Austin,TX,78701,US,LAMP-DESK,Desk lamp,1,89.00\n"
    )
}

fn bad_csv() -> String {
    format!(
        "{HEADER}\n\
         SO-2001,,2026-11-01T09:14:22-05:00,,USD,,,,,,,,,,MUG,Mug,1,18.00\n\
         SO-2002,,yesterday,,USD,,,,,,,,,,MUG,Mug,1,18.00\n\
         SO-2003,,2026-11-01T09:14:22-05:00,,USD,,,,,,,,,,MUG,Mug,0,18.00\n"
    )
}

#[tokio::test]
async fn a_valid_csv_file_is_imported_whole_with_each_orders_lines() {
    let app = spawn_app().await;

    let reply = app.post_bytes("/api/v1/imports", Some(&app.ingest), "text/csv", &[], good_csv().into_bytes()).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["rows"], 3);
    assert_eq!(reply.body["created"], 2);
    assert_eq!(reply.body["rejected"], 0);
    assert_eq!(reply.body["orders"][0], json!({"order_number": "SO-1042", "result": "created", "lines": [2, 3]}));
    let order = app.order("SO-1042").await.body;
    assert_eq!(order["channel"], "b2b");
    assert_eq!(order["items"].as_array().unwrap().len(), 2);

    let again = app.post_bytes("/api/v1/imports", Some(&app.ingest), "text/csv", &[], good_csv().into_bytes()).await;
    assert_eq!(again.body["updated"], 2);
}

#[tokio::test]
async fn a_file_with_a_bad_row_writes_nothing_and_names_every_bad_line() {
    let app = spawn_app().await;

    let reply = app.post_bytes("/api/v1/imports", Some(&app.ingest), "text/csv", &[], bad_csv().into_bytes()).await;

    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    let rejected = reply.body["results"]["rejected_rows"].as_array().unwrap();
    let lines: Vec<u64> = rejected.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4]);
    assert!(rejected[0]["reason"].as_str().unwrap().contains("placed_at"));
    assert_eq!(reply.body["results"]["written"], false);
    assert_eq!(app.order("SO-2001").await.status, 404, "the valid row was not half-imported");
}

#[tokio::test]
async fn an_amazon_order_report_is_read_as_tab_separated_values() {
    let app = spawn_app().await;
    let report = "order-id\torder-item-id\tpurchase-date\tbuyer-email\tsku\tproduct-name\tquantity-purchased\tcurrency\titem-price\tship-city\tship-state\tship-postal-code\tship-country\n\
                  113-5520147-8839021\t62019384756102\t2026-11-01T14:05:11-07:00\tk3h8qz1w0p@marketplace.amazon.com\tMUG-STN-12OZ\tStoneware Mug, Slate\t2\tUSD\t58.00\tSpokane\tWA\t99201\tUS\n";

    let reply = app
        .post_bytes("/api/v1/imports", Some(&app.ingest), "text/tab-separated-values", &[], report.as_bytes().to_vec())
        .await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let order = app.order("113-5520147-8839021").await.body;
    assert_eq!(order["items"][0]["unit_price"], "29.00");
}

#[tokio::test]
async fn an_order_the_report_lists_as_cancelled_is_cancelled() {
    let app = spawn_app().await;
    let report = "amazon-order-id\tpurchase-date\torder-status\tsku\tquantity\tcurrency\titem-price\n\
                  113-0000001-0000001\t2026-11-01T14:05:11-07:00\tCancelled\tMUG\t1\tUSD\t18.00\n\
                  113-0000002-0000002\t2026-11-01T15:05:11-07:00\tShipped\tMUG\t1\tUSD\t18.00\n";
    let send = || {
        app.post_bytes(
            "/api/v1/imports",
            Some(&app.ingest),
            "text/tab-separated-values",
            &[],
            report.as_bytes().to_vec(),
        )
    };

    assert_eq!(send().await.status, 200);
    assert_eq!(send().await.status, 200, "importing the report again is harmless");

    let cancelled = app.order("113-0000001-0000001").await.body;
    assert_eq!(cancelled["status"], "cancelled");
    let cancellations =
        cancelled["timeline"].as_array().unwrap().iter().filter(|e| e["milestone"] == "cancelled").count();
    assert_eq!(cancellations, 1);
    assert_eq!(app.order("113-0000002-0000002").await.body["status"], "placed");
}

#[tokio::test]
async fn an_import_in_another_media_type_is_refused() {
    let app = spawn_app().await;
    let reply =
        app.post_bytes("/api/v1/imports", Some(&app.ingest), "application/json", &[], good_csv().into_bytes()).await;
    assert_eq!(reply.status, 415);
    assert!(reply.body["detail"].as_str().unwrap().contains("text/csv"));
}

const ALL_ORDERS: &str = "amazon-order-id\tpurchase-date\torder-status\tsku\titem-status\tquantity\tcurrency\titem-price\n\
    205-1111111-2222222\t2026-11-01T10:00:00+00:00\tShipped\tMUG-STN-12OZ\tShipped\t2\tEUR\t58.00\n\
    205-1111111-2222222\t2026-11-01T10:00:00+00:00\tShipped\tTOWEL-LIN\tCancelled\t0\t\t\n\
    205-5555555-6666666\t2026-11-01T12:00:00+00:00\tPending\tCOASTER-4\tUnshipped\t1\t\t\n";

#[tokio::test]
async fn an_amazon_report_sent_as_csv_or_plain_text_is_read_by_its_header_row() {
    let app = spawn_app().await;

    for media_type in ["text/csv", "text/plain", "application/octet-stream"] {
        let reply =
            app.post_bytes("/api/v1/imports", Some(&app.ingest), media_type, &[], ALL_ORDERS.as_bytes().to_vec()).await;
        assert_eq!(reply.status, 200, "{media_type}: {}", reply.body);
        assert_eq!(reply.body["rejected"], 0, "{media_type}");
    }
    let order = app.order("205-1111111-2222222").await.body;
    assert_eq!(order["items"].as_array().unwrap().len(), 1, "the cancelled line is not a line to ship");
    assert_eq!(order["items"][0]["unit_price"], "29.00");
    assert_ne!(order["status"], "cancelled", "one cancelled line does not cancel the order");
    assert_eq!(app.order("205-5555555-6666666").await.status, 200, "a pending line without currency is read");

    let csv_as_tsv = app
        .post_bytes("/api/v1/imports", Some(&app.ingest), "text/tab-separated-values", &[], good_csv().into_bytes())
        .await;
    assert_eq!(csv_as_tsv.status, 200, "{}", csv_as_tsv.body);
    assert_eq!(csv_as_tsv.body["created"], 2);
}

#[test]
fn the_import_command_reads_an_amazon_report_named_csv_by_its_header_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("import.db").display());
    let misnamed = dir.path().join("amazon-orders.csv");
    std::fs::write(&misnamed, ALL_ORDERS).unwrap();

    let run = Command::new(env!("CARGO_BIN_EXE_milepost"))
        .env("MILEPOST_DATABASE_URL", &db)
        .env("MILEPOST_LOG", "warn")
        .args(["import", misnamed.to_str().unwrap(), "--account", "acme"])
        .output()
        .unwrap();

    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{out}{}", String::from_utf8_lossy(&run.stderr));
    assert!(out.contains("(Amazon order report): 3 rows, 2 orders created, 0 updated"), "{out}");
}

#[test]
fn the_import_command_writes_a_good_file_and_refuses_a_bad_one_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("import.db").display());
    let good = dir.path().join("orders.csv");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&good, good_csv()).unwrap();
    std::fs::write(&bad, bad_csv()).unwrap();
    let import = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_milepost"))
            .env("MILEPOST_DATABASE_URL", &db)
            .env("MILEPOST_LOG", "warn")
            .args(["import", file.to_str().unwrap(), "--format", "csv", "--account", "acme"])
            .output()
            .unwrap()
    };

    let refused = import(&bad);
    let out = String::from_utf8_lossy(&refused.stdout);
    assert!(!refused.status.success());
    assert!(out.contains("2 of 3 rows rejected; nothing was written"), "{out}");
    assert!(out.contains("line 3:") && out.contains("line 4:"), "{out}");

    let first = import(&good);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("2 orders created, 0 updated"));
    let second = import(&good);
    assert!(String::from_utf8_lossy(&second.stdout).contains("0 orders created, 2 updated"));
    assert!(!String::from_utf8_lossy(&second.stdout).contains("SO-2001"));
}
