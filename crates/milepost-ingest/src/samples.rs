//! One realistic payload per sender format, compiled in from the adapter tests' fixtures, and a
//! throughput measurement over them. `milepost bench` and `cargo bench -p milepost-ingest` report
//! parse speed per carrier format from these, so both measure the same bytes.

use crate::adapters::{AdapterError, SenderKind, parse};
use crate::epcis::parse_epcis;
use crate::mapping::CodeMap;
use std::time::{Duration, Instant};

/// Which parser a sample goes through.
#[derive(Debug, Clone, Copy)]
pub enum SampleFormat {
    Sender(SenderKind),
    Epcis,
}

/// A payload as a sender would post it.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub name: &'static str,
    pub format: SampleFormat,
    pub body: &'static [u8],
}

macro_rules! fixture {
    ($file:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $file))
    };
}

/// Every format the adapters read, one payload each.
pub const SAMPLES: [Sample; 9] = [
    Sample { name: "ups", format: SampleFormat::Sender(SenderKind::Ups), body: fixture!("ups_multi_package.json") },
    Sample {
        name: "fedex",
        format: SampleFormat::Sender(SenderKind::Fedex),
        body: fixture!("fedex_duplicate_number.json"),
    },
    Sample { name: "usps", format: SampleFormat::Sender(SenderKind::Usps), body: fixture!("usps_v3.json") },
    Sample { name: "dhl", format: SampleFormat::Sender(SenderKind::Dhl), body: fixture!("dhl_unified.json") },
    Sample {
        name: "easypost",
        format: SampleFormat::Sender(SenderKind::Easypost),
        body: fixture!("easypost_tracker_updated.json"),
    },
    Sample {
        name: "aftership",
        format: SampleFormat::Sender(SenderKind::Aftership),
        body: fixture!("aftership_tracking_update.json"),
    },
    Sample {
        name: "shippo",
        format: SampleFormat::Sender(SenderKind::Shippo),
        body: fixture!("shippo_track_updated.json"),
    },
    Sample {
        name: "generic",
        format: SampleFormat::Sender(SenderKind::Generic),
        body: fixture!("generic_events.json"),
    },
    Sample { name: "epcis", format: SampleFormat::Epcis, body: fixture!("epcis_capture.json") },
];

impl Sample {
    /// Parses the payload once and answers how many events it held.
    pub fn parse(&self, codes: &CodeMap) -> Result<usize, AdapterError> {
        match self.format {
            SampleFormat::Sender(kind) => parse(kind, self.body, codes).map(|events| events.len()),
            SampleFormat::Epcis => parse_epcis(self.body, codes).map(|events| events.len()),
        }
    }
}

/// How fast one format parses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Throughput {
    pub format: &'static str,
    pub payload_bytes: usize,
    pub megabytes_per_s: f64,
    pub events_per_s: f64,
}

/// Parses `sample` repeatedly for at least `at_least` and reports bytes and events per second.
pub fn measure(sample: &Sample, codes: &CodeMap, at_least: Duration) -> Result<Throughput, AdapterError> {
    let started = Instant::now();
    let (mut rounds, mut events) = (0u64, 0u64);
    while rounds < 10 || started.elapsed() < at_least {
        events += sample.parse(codes)? as u64;
        rounds += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Throughput {
        format: sample.name,
        payload_bytes: sample.body.len(),
        megabytes_per_s: (rounds as f64 * sample.body.len() as f64) / seconds / 1e6,
        events_per_s: events as f64 / seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_parses_into_events() {
        let codes = CodeMap::seeded();
        for sample in &SAMPLES {
            let events = sample.parse(&codes).unwrap_or_else(|e| panic!("{}: {e}", sample.name));
            assert!(events > 0, "{} holds no events", sample.name);
        }
    }
}
