//! Graceful shutdown of the real binary: a request already in flight when `milepost serve` gets
//! SIGTERM is finished and answered (and its write kept); the server then exits cleanly and
//! accepts no new connections.

use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_milepost");

#[test]
fn a_request_in_flight_at_sigterm_is_answered_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("drain.db").display());
    let milepost = || {
        let mut cmd = Command::new(BIN);
        cmd.env("MILEPOST_DATABASE_URL", &db).env("MILEPOST_LISTEN", "127.0.0.1:0").env("MILEPOST_LOG", "info");
        cmd
    };
    let key = milepost().args(["keys", "create", "--account", "acme", "--role", "admin"]).output().unwrap();
    let key = String::from_utf8(key.stdout).unwrap().trim().to_string();
    let mut server = milepost().arg("serve").stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let mut log = BufReader::new(server.stderr.take().unwrap()).lines();
    let address = loop {
        let line = log.next().expect("server exited before serving").unwrap();
        if let Some(at) = line.find("serving at http://") {
            break line[at + "serving at http://".len()..].trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in log {});

    // Half a request: the head and the first part of the body.
    let body = json!({"order_number": "DRAIN-1", "placed_at": "2026-11-01T10:00:00Z", "currency": "USD",
        "items": [{"sku": "MUG", "quantity": 1, "unit_price": "10.00"}]})
    .to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(&address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        stream,
        "POST /api/v1/orders HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let term = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(term.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.try_wait().unwrap().is_none(), "the server waits for the request in flight");

    stream.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let status = wait_for_exit(&mut server, Duration::from_secs(20));
    assert!(status.success(), "exited {status:?}");
    assert!(TcpStream::connect(&address).is_err(), "no new connections after shutdown");

    // The write it acknowledged is there after a restart.
    let mut again = milepost().arg("serve").stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let mut log = BufReader::new(again.stderr.take().unwrap()).lines();
    let address = loop {
        let line = log.next().expect("server exited before serving").unwrap();
        if let Some(at) = line.find("serving at http://") {
            break line[at + "serving at http://".len()..].trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in log {});
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(stream, "GET /api/v1/orders/DRAIN-1 HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    again.kill().unwrap();
    again.wait().unwrap();
}

fn wait_for_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("the server did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
