//! Black-box tests of the sender adapters: realistic payloads written from
//! `shared/reference/formats.md` (under `tests/fixtures/`) go in through `parse`, and the tests read
//! like the facts they protect: every status group lands on the right milestone, every package
//! of a multi-package shipment is read, offsets are the ones the sender meant, and hostile input is
//! an error, never a panic.

use chrono::{DateTime, FixedOffset};
use milepost_domain::{EventSource, Milestone};
use milepost_ingest::adapters::{AdapterError, NormalizedEvent, SenderKind, parse};
use milepost_ingest::mapping::{CodeLookup, CodeMap};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn read(kind: SenderKind, name: &str) -> Vec<NormalizedEvent> {
    parse(kind, &fixture(name), &CodeMap::seeded()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn milestones(events: &[NormalizedEvent]) -> Vec<Option<Milestone>> {
    events.iter().map(|e| e.milestone).collect()
}

fn for_number<'e>(events: &'e [NormalizedEvent], number: &str) -> Vec<&'e NormalizedEvent> {
    events.iter().filter(|e| e.tracking_number == number).collect()
}

mod ups {
    use super::*;
    use Milestone::*;

    fn utc(e: &NormalizedEvent) -> String {
        e.occurred_at.with_timezone(&chrono::Utc).to_rfc3339()
    }

    #[test]
    fn local_times_alone_are_read_in_the_zone_of_the_scans_state_and_zip() {
        let events = read(SenderKind::Ups, "ups_local_times_only.json");
        let parcel = for_number(&events, "1Z999AA10123456784");
        // Knoxville is East Tennessee (ZIP 379): Eastern, standard time again since 2 November.
        assert_eq!(parcel[0].occurred_at.to_rfc3339(), "2025-11-04T14:33:16-05:00");
        assert_eq!(utc(parcel[0]), "2025-11-04T19:33:16+00:00");
        // Adrian, Michigan, with an empty postal code: America/Detroit.
        assert_eq!(utc(parcel[1]), "2025-11-04T14:22:15+00:00");
        // Nashville is Central, after and before the end of summer time.
        assert_eq!(utc(parcel[2]), "2025-11-04T04:24:00+00:00");
        assert_eq!(parcel[3].occurred_at.to_rfc3339(), "2025-11-01T20:09:52-05:00");
        assert_eq!(utc(parcel[3]), "2025-11-02T01:09:52+00:00");
        // El Paso (ZIP 799) is Mountain though Texas is Central.
        assert_eq!(utc(parcel[4]), "2025-11-01T18:18:00+00:00");
    }

    #[test]
    fn local_times_abroad_take_the_countrys_zone_and_a_multi_zone_country_its_states() {
        let events = read(SenderKind::Ups, "ups_local_times_only.json");
        let parcel = for_number(&events, "1Z999AA10123456795");
        assert_eq!(parcel[0].occurred_at.to_rfc3339(), "2025-03-18T15:44:03+01:00", "Belgium");
        assert_eq!(utc(parcel[0]), "2025-03-18T14:44:03+00:00");
        assert_eq!(utc(parcel[1]), "2025-03-17T01:00:00+00:00", "Perth, Western Australia");
    }

    #[test]
    fn a_local_time_whose_zone_cannot_be_known_keeps_its_wall_time() {
        let events = read(SenderKind::Ups, "ups_local_times_only.json");
        // The US without a state, and Australia without a state, have more than one zone.
        assert_eq!(for_number(&events, "1Z999AA10123456784")[5].occurred_at.to_rfc3339(), "2025-10-31T14:02:29+00:00");
        assert_eq!(for_number(&events, "1Z999AA10123456795")[2].occurred_at.to_rfc3339(), "2025-03-17T08:00:00+00:00");
    }

    #[test]
    fn the_local_time_in_gmt_offset_wins_over_a_gmt_date_that_slipped_a_day() {
        let events = read(SenderKind::Ups, "ups_local_times_only.json");
        let parcel = for_number(&events, "1Z999AA10123456806");
        // gmtDate says the 14th at 04:15, but 22:15 at -06:00 on the 14th is the 15th at 04:15 UTC.
        assert_eq!(parcel[0].occurred_at, at("2025-03-15T04:15:00Z"));
        assert_eq!(parcel[0].occurred_at.to_rfc3339(), "2025-03-14T22:15:00-06:00");
    }

    #[test]
    fn gmt_offsets_are_read_in_every_spelling() {
        let events = read(SenderKind::Ups, "ups_local_times_only.json");
        let parcel = for_number(&events, "1Z999AA10123456806");
        assert_eq!(parcel[1].occurred_at.to_rfc3339(), "2025-03-14T07:42:10-04:00", "-0400");
        assert_eq!(utc(parcel[1]), "2025-03-14T11:42:10+00:00");
        assert_eq!(parcel[2].occurred_at.to_rfc3339(), "2025-03-14T10:15:00+05:30", "+5:30");
        assert_eq!(utc(parcel[2]), "2025-03-14T04:45:00+00:00");
        assert_eq!(parcel[3].occurred_at.to_rfc3339(), "2025-03-13T12:00:00-07:00", "-07");
        assert_eq!(utc(parcel[3]), "2025-03-13T19:00:00+00:00");
    }

    #[test]
    fn a_local_time_centuries_away_from_gmt_falls_back_to_gmt_instead_of_overflowing() {
        // The shape `cargo fuzz` found: no offset, and local and GMT dates far apart.
        let body = serde_json::json!({"trackResponse": {"shipment": [{"package": [{
            "trackingNumber": "1ZA4R7090398765432",
            "activity": [{"date": "99991231", "time": "235959", "gmtDate": "00010101", "gmtTime": "00:00:00",
                          "status": {"type": "I", "code": "AR", "description": "ARRIVED"}}]
        }]}]}});
        let events = parse(SenderKind::Ups, body.to_string().as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].occurred_at, at("0001-01-01T00:00:00Z"));
    }

    #[test]
    fn every_package_of_a_multi_package_shipment_yields_its_own_events() {
        let events = read(SenderKind::Ups, "ups_multi_package.json");
        assert_eq!(for_number(&events, "1ZA4R7090398765432").len(), 5);
        assert_eq!(for_number(&events, "1ZA4R7090398765443").len(), 4);
        assert_eq!(for_number(&events, "1ZR3TURN0398765999").len(), 6, "tracking numbers are trimmed");
        assert!(events.iter().all(|e| e.carrier == "ups" && e.source == EventSource::Carrier));
    }

    #[test]
    fn the_fine_scan_code_decides_before_the_status_code_and_the_type() {
        let events = read(SenderKind::Ups, "ups_multi_package.json");
        let first: Vec<_> = for_number(&events, "1ZA4R7090398765432").iter().map(|e| e.milestone).collect();
        assert_eq!(
            first,
            vec![Some(Delivered), Some(OutForDelivery), Some(InTransit), Some(HandedToCarrier), Some(LabelCreated)]
        );
        let second = for_number(&events, "1ZA4R7090398765443");
        assert_eq!(second[0].milestone, Some(AvailableForPickup), "D/2Q is an Access Point, not a doorstep");
        assert_eq!(second[0].code.as_deref(), Some("2Q"));
        assert_eq!(second[1].milestone, Some(DeliveryAttempted), "an unknown X code falls to statusCode 022");
        assert_eq!(second[1].code.as_deref(), Some("022"));
        assert_eq!(second[2].milestone, Some(HandedToCarrier));
    }

    #[test]
    fn a_manifest_dp_means_manifest_processed_not_a_departure_scan() {
        let events = read(SenderKind::Ups, "ups_multi_package.json");
        let manifest = for_number(&events, "1ZA4R7090398765443")[3];
        assert_eq!(manifest.milestone, Some(LabelCreated));
        assert_eq!(manifest.code.as_deref(), Some("M"));
    }

    #[test]
    fn returns_exceptions_voids_and_unknown_codes_map_per_the_table() {
        let events = read(SenderKind::Ups, "ups_multi_package.json");
        let back = for_number(&events, "1ZR3TURN0398765999");
        assert_eq!(back[0].milestone, Some(ReturnedToSender));
        assert_eq!(back[1].milestone, Some(ReturningToSender));
        assert_eq!(back[2].milestone, Some(Exception));
        assert_eq!(back[3].mapping, CodeLookup::Informational);
        assert_eq!(back[3].milestone, None);
        assert_eq!(back[4].mapping, CodeLookup::Unmapped);
        assert_eq!(back[4].code.as_deref(), Some("Q9"), "an unmapped event keeps its finest code for a person");
        assert_eq!(back[5].milestone, Some(Cancelled));
    }

    #[test]
    fn local_time_keeps_the_gmt_offset_and_a_utc_day_rollover_does_not_move_the_day() {
        let events = read(SenderKind::Ups, "ups_multi_package.json");
        let arrival = &events[2];
        assert_eq!(arrival.occurred_at.to_rfc3339(), "2025-03-13T22:15:00-06:00");
        assert_eq!(arrival.occurred_at, at("2025-03-14T04:15:00Z"));
        let reno = &events[3];
        assert_eq!(reno.occurred_at.offset().local_minus_utc(), -8 * 3600);
    }

    #[test]
    fn without_gmt_offset_the_offset_is_derived_from_local_and_gmt_time() {
        let events = read(SenderKind::Ups, "ups_multi_package.json");
        let attempt = for_number(&events, "1ZA4R7090398765443")[1];
        assert_eq!(attempt.occurred_at.to_rfc3339(), "2025-03-14T16:40:00-06:00");
        let gmt_only = for_number(&events, "1ZA4R7090398765443")[3];
        assert_eq!(gmt_only.occurred_at.to_rfc3339(), "2025-03-11T17:40:02+00:00");
    }

    #[test]
    fn proof_of_delivery_sits_on_the_delivery_only_and_the_rescheduled_date_is_the_estimate() {
        let events = read(SenderKind::Ups, "ups_multi_package.json");
        let pod = events[0].proof_of_delivery.as_ref().expect("delivered event has POD");
        assert_eq!(pod.signed_by.as_deref(), Some("RUIZ"));
        assert_eq!(pod.left_at.as_deref(), Some("Front Door"));
        assert!(events[1].proof_of_delivery.is_none());
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-15T19:00:00-06:00")));
        assert_eq!(events[0].description.as_deref(), Some("DELIVERED"), "padding is trimmed");
        assert_eq!(events[0].raw["status"]["description"], "DELIVERED ", "raw keeps it as sent");
        assert_eq!(events[0].location.as_ref().unwrap().postal_code.as_deref(), Some("83702"));
        assert_eq!(events[0].raw["status"]["code"], "FS");
    }

    #[test]
    fn a_date_that_is_not_yyyymmdd_names_its_path() {
        let body = br#"{"trackResponse":{"shipment":[{"package":[{"trackingNumber":"1Z1","activity":[]},
            {"trackingNumber":"1Z2","activity":[{"date":"2025-03-14","time":"101500","status":{"type":"I"}}]}]}]}}"#;
        let err = parse(SenderKind::Ups, body, &CodeMap::seeded()).unwrap_err();
        assert_eq!(err.to_string(), "trackResponse.shipment[0].package[1].activity[0].date: expected YYYYMMDD");
    }

    #[test]
    fn an_error_response_is_a_sender_error_and_a_not_found_warning_is_no_events() {
        let body = br#"{"response":{"errors":[{"code":"TV1002","message":"Invalid inquiry number"}]}}"#;
        let err = parse(SenderKind::Ups, body, &CodeMap::seeded()).unwrap_err();
        assert!(matches!(err, AdapterError::SenderError { .. }), "{err}");
        let body = br#"{"trackResponse":{"shipment":[{"inquiryNumber":"1Z0","warnings":[{"code":"TW0001","message":"Tracking Information Not Found"}]}]}}"#;
        assert!(parse(SenderKind::Ups, body, &CodeMap::seeded()).unwrap().is_empty());
    }
}

mod fedex {
    use super::*;
    use Milestone::*;

    #[test]
    fn every_scan_of_every_result_under_a_reused_number_is_read_and_not_found_numbers_are_skipped() {
        let events = read(SenderKind::Fedex, "fedex_duplicate_number.json");
        assert_eq!(events.len(), 13);
        assert!(events.iter().all(|e| e.tracking_number == "794613372819" && e.carrier == "fedex"));
    }

    #[test]
    fn the_event_type_finds_out_for_delivery_and_pickup_that_the_derived_code_hides() {
        let events = read(SenderKind::Fedex, "fedex_duplicate_number.json");
        assert_eq!(
            milestones(&events[..5]),
            vec![Some(Delivered), Some(OutForDelivery), Some(InTransit), Some(HandedToCarrier), Some(LabelCreated)]
        );
        assert_eq!(events[6].milestone, Some(AvailableForPickup));
        assert_eq!(events[6].code.as_deref(), Some("HP"));
    }

    #[test]
    fn exception_codes_refine_exception_scans() {
        let events = read(SenderKind::Fedex, "fedex_duplicate_number.json");
        assert_eq!(events[5].milestone, Some(ReturningToSender));
        assert_eq!(events[7].milestone, Some(Exception));
        assert_eq!(events[7].code.as_deref(), Some("A47"));
        assert_eq!(events[8].milestone, Some(DeliveryAttempted), "exception 08 is a failed attempt");
        assert_eq!(events[8].code.as_deref(), Some("08"));
        assert_eq!(events[9].milestone, Some(Exception), "an unknown exception code falls back to DY");
        assert_eq!(events[9].code.as_deref(), Some("DY"));
        assert_eq!(events[10].milestone, Some(Cancelled));
        assert_eq!(events[11].mapping, CodeLookup::Informational);
        assert_eq!(events[12].mapping, CodeLookup::Unmapped);
        assert_eq!(
            events[8].description.as_deref(),
            Some("Delivery exception: Customer not available or business closed")
        );
    }

    #[test]
    fn a_scan_without_offset_is_read_in_its_locations_zone_before_borrowing_a_neighbours_offset() {
        let body = br#"{"output":{"completeTrackResults":[{"trackingNumber":"794613372819","trackResults":[{
            "trackingNumberInfo":{"trackingNumber":"794613372819"},
            "scanEvents":[
             {"date":"2025-07-02T06:10:00-0500","eventType":"AR","derivedStatusCode":"IT",
              "scanLocation":{"city":"MEMPHIS","stateOrProvinceCode":"TN","countryCode":"US"}},
             {"date":"2025-07-01T16:48:00","eventType":"PU","derivedStatusCode":"PU",
              "scanLocation":{"city":"LOS ANGELES","stateOrProvinceCode":"CA","postalCode":"90001","countryCode":"US"}},
             {"date":"2025-07-01T09:00:00","eventType":"OC","derivedStatusCode":"IN","scanLocation":{}}]}]}]}}"#;
        let events = parse(SenderKind::Fedex, body, &CodeMap::seeded()).unwrap();
        assert_eq!(events[0].occurred_at, at("2025-07-02T11:10:00Z"), "an offset spelt -0500");
        // Los Angeles in July is -07:00, whatever Memphis's neighbouring scan says.
        assert_eq!(events[1].occurred_at.to_rfc3339(), "2025-07-01T16:48:00-07:00");
        assert_eq!(events[1].occurred_at, at("2025-07-01T23:48:00Z"));
        // No place: the nearest scan with an offset lends it (Los Angeles has none of its own).
        assert_eq!(events[2].occurred_at.to_rfc3339(), "2025-07-01T09:00:00-05:00");
    }

    #[test]
    fn a_scan_without_offset_borrows_its_neighbours_and_others_keep_their_own() {
        let events = read(SenderKind::Fedex, "fedex_duplicate_number.json");
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-03-14T10:31:00-07:00");
        assert_eq!(events[2].occurred_at.to_rfc3339(), "2025-03-13T23:40:00-06:00");
        assert_eq!(events[3].occurred_at.to_rfc3339(), "2025-03-13T16:48:00-06:00");
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-14T20:00:00-07:00")));
        assert_eq!(events[0].proof_of_delivery.as_ref().unwrap().signed_by.as_deref(), Some("D.RUIZ"));
        assert_eq!(events[5].location.as_ref().unwrap().postal_code.as_deref(), Some("07114"));
    }

    #[test]
    fn a_scan_date_that_is_not_a_date_names_its_path() {
        let body =
            br#"{"output":{"completeTrackResults":[{"trackResults":[{"trackingNumberInfo":{"trackingNumber":"1"},
            "scanEvents":[{"date":"14/03/2025","eventType":"DL"}]}]}]}}"#;
        let err = parse(SenderKind::Fedex, body, &CodeMap::seeded()).unwrap_err();
        assert!(
            err.to_string().starts_with("output.completeTrackResults[0].trackResults[0].scanEvents[0].date: expected"),
            "{err}"
        );
    }
}

mod usps {
    use super::*;
    use Milestone::*;

    fn utc(e: &NormalizedEvent) -> String {
        e.occurred_at.with_timezone(&chrono::Utc).to_rfc3339()
    }

    #[test]
    fn the_local_stamp_in_its_offset_wins_when_the_gmt_stamp_slipped_a_day_at_midnight_gmt() {
        let events = read(SenderKind::Usps, "usps_v3_local_and_gmt.json");
        // 18:31 at -06:00 is 00:31 UTC on the 26th; USPS wrote the GMT stamp with the local date.
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-11-25T18:31:00-06:00");
        assert_eq!(utc(&events[0]), "2025-11-26T00:31:00+00:00");
    }

    #[test]
    fn a_gmt_stamp_that_agrees_with_the_local_minute_gives_its_seconds() {
        let events = read(SenderKind::Usps, "usps_v3_local_and_gmt.json");
        assert_eq!(events[1].occurred_at.to_rfc3339(), "2025-11-25T07:10:22-06:00", "offset spelt -0600");
        assert_eq!(utc(&events[1]), "2025-11-25T13:10:22+00:00");
    }

    #[test]
    fn gmt_offsets_are_read_in_every_spelling_usps_writes() {
        let events = read(SenderKind::Usps, "usps_v3_local_and_gmt.json");
        assert_eq!(events[2].occurred_at.to_rfc3339(), "2025-11-24T09:00:00-06:00", "-6:00");
        assert_eq!(utc(&events[2]), "2025-11-24T15:00:00+00:00");
        assert_eq!(events[3].occurred_at.to_rfc3339(), "2025-11-24T08:00:00-06:00", "-06");
        assert_eq!(utc(&events[3]), "2025-11-24T14:00:00+00:00");
    }

    #[test]
    fn a_local_stamp_without_offset_is_read_in_the_zone_of_the_events_state_and_zip() {
        let events = read(SenderKind::Usps, "usps_v3_local_and_gmt.json");
        assert_eq!(events[4].occurred_at.to_rfc3339(), "2025-11-23T17:01:00-06:00", "Milwaukee, Central");
        assert_eq!(utc(&events[4]), "2025-11-23T23:01:00+00:00");
        assert_eq!(utc(&events[5]), "2025-11-22T15:00:00+00:00", "Knoxville, East Tennessee");
        assert_eq!(utc(&events[6]), "2025-11-21T17:00:00+00:00", "Toronto, when eventCountry names Canada");
        // Without any place the zone cannot be known: the wall time is kept.
        assert_eq!(events[7].occurred_at.to_rfc3339(), "2025-11-20T00:00:00+00:00");
    }

    #[test]
    fn event_codes_keep_their_leading_zeros_and_map_every_group() {
        let events = read(SenderKind::Usps, "usps_v3.json");
        assert_eq!(events.len(), 10, "the empty event object is skipped");
        assert_eq!(
            milestones(&events),
            vec![
                Some(Delivered),
                Some(AvailableForPickup),
                Some(DeliveryAttempted),
                Some(OutForDelivery),
                Some(InTransit),
                Some(InTransit),
                None,
                None,
                Some(HandedToCarrier),
                Some(LabelCreated)
            ]
        );
        assert_eq!(events[0].code.as_deref(), Some("01"));
        assert_eq!(events[6].mapping, CodeLookup::Informational);
        assert_eq!(events[7].mapping, CodeLookup::Unmapped);
        assert_eq!(events[7].location.as_ref().unwrap().postal_code.as_deref(), Some("07470"));
    }

    #[test]
    fn the_gmt_stamp_is_shown_in_the_local_offset_and_local_time_alone_uses_the_offset() {
        let events = read(SenderKind::Usps, "usps_v3.json");
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-03-15T13:58:40-05:00");
        assert_eq!(events[2].occurred_at.to_rfc3339(), "2025-03-14T11:05:00-05:00");
        assert_eq!(events[5].occurred_at.to_rfc3339(), "2025-03-13T08:00:00+00:00");
        assert_eq!(events[9].occurred_at.to_rfc3339(), "2025-03-12T09:01:13-07:00");
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-14T20:00:00-05:00")));
        assert_eq!(events[0].proof_of_delivery.as_ref().unwrap().signed_by.as_deref(), Some("D RUIZ"));
    }

    #[test]
    fn an_array_of_tracking_objects_reads_every_number_including_returns() {
        let events = read(SenderKind::Usps, "usps_return.json");
        assert_eq!(milestones(&events), vec![Some(ReturningToSender), Some(Exception), Some(InTransit)]);
        assert_eq!(events[2].tracking_number, "9405511899223197428490");
    }

    #[test]
    fn a_zip_sent_as_a_number_is_refused_because_it_has_lost_its_leading_zero() {
        let body = br#"{"trackingNumber":"9400","trackingEvents":[{"eventTimestamp":"2025-03-14T07:10:00","GMTOffset":"-05:00","eventZIP":7470}]}"#;
        let err = parse(SenderKind::Usps, body, &CodeMap::seeded()).unwrap_err();
        assert_eq!(err.to_string(), "trackingEvents[0].eventZIP: expected a string");
    }
}

mod dhl {
    use super::*;
    use Milestone::*;

    #[test]
    fn parcel_de_events_with_only_german_text_are_read_from_their_wording() {
        let body = r#"{"shipments":[{"id":"00340434161094042557","service":"parcel-de","events":[
          {"timestamp":"2026-11-02T08:10:00","statusCode":"pre-transit","status":"Die Auftragsdaten zu dieser Sendung wurden vom Absender elektronisch an DHL übermittelt."},
          {"timestamp":"2026-11-02T17:45:00","statusCode":"transit","description":"Die Sendung wurde vom Absender in der Filiale eingeliefert."},
          {"timestamp":"2026-11-03T04:20:00","statusCode":"transit","status":"Die Sendung wurde im Start-Paketzentrum bearbeitet."},
          {"timestamp":"2026-11-04T07:55:00","statusCode":"transit","status":"Die Sendung wurde in das Zustellfahrzeug geladen."},
          {"timestamp":"2026-11-04T13:02:00","statusCode":"failure","status":"Die Sendung konnte nicht zugestellt werden, der Empfänger wurde nicht angetroffen."},
          {"timestamp":"2026-11-04T18:30:00","statusCode":"transit","status":"Die Sendung liegt in der Filiale zur Abholung bereit."},
          {"timestamp":"2026-11-06T10:12:00","statusCode":"delivered","status":"Die Sendung wurde erfolgreich zugestellt."},
          {"timestamp":"2026-11-06T11:00:00","statusCode":"transit","status":"Eine Nachricht ohne bekannte Worte."}]}]}"#;
        let events = parse(SenderKind::Dhl, body.as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(
            milestones(&events),
            vec![
                Some(LabelCreated),
                Some(HandedToCarrier),
                Some(InTransit),
                Some(OutForDelivery),
                Some(DeliveryAttempted),
                Some(AvailableForPickup),
                Some(Delivered),
                Some(InTransit)
            ],
            "the last sentence says nothing known: its coarse code decides"
        );
        assert_eq!(
            events[4].code.as_deref(),
            Some("Die Sendung konnte nicht zugestellt werden, der Empfänger wurde nicht angetroffen.")
        );
        assert_eq!(events[7].code.as_deref(), Some("transit"));
    }

    #[test]
    fn parcel_de_events_read_the_ice_event_and_let_ttpro_say_out_for_delivery() {
        let events = read(SenderKind::Dhl, "dhl_unified.json");
        let first = for_number(&events, "00340434512398765432");
        let got: Vec<_> = first.iter().map(|e| e.milestone).collect();
        assert_eq!(
            got,
            vec![Some(Delivered), Some(OutForDelivery), Some(InTransit), Some(HandedToCarrier), Some(LabelCreated)]
        );
        assert_eq!(first[0].code.as_deref(), Some("DLVRD_NGHBR_ZU"));
        assert_eq!(first[1].code.as_deref(), Some("PO"));
        let second = for_number(&events, "00340434512398700001");
        let got: Vec<_> = second.iter().map(|e| e.milestone).collect();
        assert_eq!(got, vec![Some(ReturningToSender), Some(AvailableForPickup), Some(DeliveryAttempted), None]);
        assert_eq!(second[3].mapping, CodeLookup::Informational);
    }

    #[test]
    fn german_times_without_offset_are_read_as_cet_in_winter_and_cest_in_summer() {
        let events = read(SenderKind::Dhl, "dhl_unified.json");
        assert_eq!(events[1].occurred_at.to_rfc3339(), "2025-03-14T08:12:00+01:00");
        let summer = for_number(&events, "00340434512398700001")[0];
        assert_eq!(summer.occurred_at.to_rfc3339(), "2025-07-10T16:00:00+02:00");
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-14T13:00:00+01:00")));
    }

    #[test]
    fn express_reads_checkpoint_codes_and_a_numeric_id_becomes_the_tracking_number() {
        let events = read(SenderKind::Dhl, "dhl_unified.json");
        let express = for_number(&events, "7777123456");
        let got: Vec<_> = express.iter().map(|e| e.milestone).collect();
        assert_eq!(
            got,
            vec![Some(Delivered), Some(OutForDelivery), Some(InTransit), Some(HandedToCarrier), Some(Exception)]
        );
        assert_eq!(express[2].occurred_at.to_rfc3339(), "2025-03-13T02:10:00-05:00");
        assert_eq!(express[4].occurred_at.to_rfc3339(), "2025-03-12T18:00:00+01:00");
        let ecommerce = for_number(&events, "GM605112270084510370");
        assert_eq!(ecommerce[0].milestone, Some(LabelCreated));
        assert_eq!(ecommerce[0].code.as_deref(), Some("pre-transit"));
    }

    #[test]
    fn the_signer_and_signature_link_sit_on_the_delivery() {
        let events = read(SenderKind::Dhl, "dhl_unified.json");
        let pod = events[0].proof_of_delivery.as_ref().unwrap();
        assert_eq!(pod.signed_by.as_deref(), Some("K. Becker"));
        assert!(pod.signature_url.as_deref().unwrap().starts_with("https://"));
        assert_eq!(events[0].location.as_ref().unwrap().city.as_deref(), Some("Köln"));
    }

    #[test]
    fn a_not_found_problem_body_is_no_events() {
        let body = br#"{"title":"No result found","detail":"No shipment with given tracking number found.","status":404,"instance":"/shipments"}"#;
        assert!(parse(SenderKind::Dhl, body, &CodeMap::seeded()).unwrap().is_empty());
    }
}

mod easypost {
    use super::*;
    use Milestone::*;

    #[test]
    fn every_easypost_status_lands_on_its_milestone() {
        let events = read(SenderKind::Easypost, "easypost_tracker_updated.json");
        assert_eq!(
            milestones(&events),
            vec![
                Some(LabelCreated),
                Some(InTransit),
                Some(OutForDelivery),
                Some(Exception),
                Some(AvailableForPickup),
                Some(Delivered),
                Some(ReturningToSender),
                Some(Cancelled),
                None,
                None
            ]
        );
        assert_eq!(events[8].mapping, CodeLookup::Informational);
        assert_eq!(events[9].mapping, CodeLookup::Unmapped);
        assert!(events.iter().all(|e| e.carrier == "usps" && e.tracking_number == "9400150106151234567890"));
    }

    #[test]
    fn offsets_are_kept_empty_locations_are_none_and_the_signer_is_on_the_delivery() {
        let events = read(SenderKind::Easypost, "easypost_tracker_updated.json");
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-03-12T09:01:00-07:00");
        assert!(events[1].location.is_none());
        assert_eq!(events[5].proof_of_delivery.as_ref().unwrap().signed_by.as_deref(), Some("D RUIZ"));
        assert!(events[4].proof_of_delivery.is_none());
        assert_eq!(events[7].occurred_at.to_rfc3339(), "2025-03-16T09:00:00+00:00");
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-14T00:00:00Z")));
        assert!(events[0].source_event_id.as_deref().unwrap().starts_with("derived:"));
    }

    #[test]
    fn a_webhook_about_something_other_than_a_tracker_is_refused() {
        let body = br#"{"object":"Event","id":"evt_1","description":"batch.updated","result":{}}"#;
        let err = parse(SenderKind::Easypost, body, &CodeMap::seeded()).unwrap_err();
        assert_eq!(err.to_string(), "description: expected tracker.created or tracker.updated");
    }
}

mod aftership {
    use super::*;
    use Milestone::*;

    #[test]
    fn subtags_decide_before_tags_and_every_tag_group_maps() {
        let events = read(SenderKind::Aftership, "aftership_tracking_update.json");
        assert_eq!(
            milestones(&events),
            vec![
                None,
                Some(LabelCreated),
                Some(InTransit),
                Some(OutForDelivery),
                Some(DeliveryAttempted),
                Some(ReturnedToSender),
                Some(AvailableForPickup),
                Some(Delivered),
                None
            ]
        );
        assert_eq!(events[2].code.as_deref(), Some("InTransit_007"));
        // `Exception_011` is AfterShip's "returned to sender", which its tag `Exception` hides.
        assert_eq!(events[5].code.as_deref(), Some("Exception_011"));
        // A subtag the table does not know falls back to its tag.
        let body = String::from_utf8(fixture("aftership_tracking_update.json"))
            .unwrap()
            .replace("Exception_011", "Exception_099");
        let fallback = parse(SenderKind::Aftership, body.as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(fallback[5].milestone, Some(Exception));
        assert_eq!(fallback[5].code.as_deref(), Some("Exception"), "an unmapped subtag falls back to its tag");
        assert_eq!(events[7].code.as_deref(), Some("Delivered_003"));
        assert_eq!(events[0].mapping, CodeLookup::Informational);
    }

    #[test]
    fn checkpoint_times_keep_offsets_and_local_times_without_one_read_as_utc() {
        let events = read(SenderKind::Aftership, "aftership_tracking_update.json");
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-03-10T18:00:00+00:00");
        assert_eq!(events[3].occurred_at.to_rfc3339(), "2025-03-14T07:42:10-06:00");
        assert_eq!(events[4].carrier, "ups", "a checkpoint without slug takes the tracking's");
        assert_eq!(events[2].location.as_ref().unwrap().country.as_deref(), Some("USA"));
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-14T23:59:59Z")));
    }
}

mod shippo {
    use super::*;
    use Milestone::*;

    #[test]
    fn a_summary_that_contradicts_the_history_is_not_read_and_alone_it_is() {
        // The summary says delivered; the history the carrier reported ends on the van.
        let body = r#"{"event":"track_updated","data":{"carrier":"usps","tracking_number":"9205590164917399999999",
          "tracking_status":{"status":"DELIVERED","status_date":"2025-03-14T21:41:00Z","object_id":"sum-1",
            "substatus":{"code":"delivered"}},
          "tracking_history":[
            {"status":"TRANSIT","status_date":"2025-03-11T23:55:00Z","object_id":"h-1","substatus":{"code":"package_accepted"}},
            {"status":"TRANSIT","status_date":"2025-03-14T13:05:00Z","object_id":"h-2","substatus":{"code":"out_for_delivery"}}]}}"#;
        let events = parse(SenderKind::Shippo, body.as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(milestones(&events), vec![Some(HandedToCarrier), Some(OutForDelivery)]);
        // Without a history, the summary is all there is, and it is read.
        let alone = r#"{"event":"track_updated","data":{"carrier":"usps","tracking_number":"9205590164917399999999",
          "tracking_status":{"status":"DELIVERED","status_date":"2025-03-14T21:41:00Z","substatus":{"code":"delivered"}},
          "tracking_history":[]}}"#;
        let events = parse(SenderKind::Shippo, alone.as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(milestones(&events), vec![Some(Delivered)]);
    }

    #[test]
    fn substatus_codes_decide_and_the_current_status_is_not_read_twice() {
        let events = read(SenderKind::Shippo, "shippo_track_updated.json");
        assert_eq!(
            milestones(&events),
            vec![
                Some(LabelCreated),
                Some(HandedToCarrier),
                Some(InTransit),
                Some(OutForDelivery),
                Some(DeliveryAttempted),
                Some(AvailableForPickup),
                Some(Exception),
                None,
                Some(InTransit),
                Some(Delivered)
            ]
        );
        assert_eq!(events[8].code.as_deref(), Some("TRANSIT"), "an unknown substatus falls back to the status");
        assert_eq!(events[7].mapping, CodeLookup::Informational);
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-14T20:00:00Z")));
    }

    #[test]
    fn a_return_is_returning_to_sender_and_the_carrier_token_is_lower_cased() {
        let events = read(SenderKind::Shippo, "shippo_return.json");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].milestone, Some(ReturningToSender));
        assert_eq!(events[0].carrier, "dhl_express");
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-03-20T10:00:00+01:00");
    }

    #[test]
    fn a_resent_webhook_derives_the_same_ids() {
        let once = read(SenderKind::Shippo, "shippo_track_updated.json");
        let again = read(SenderKind::Shippo, "shippo_track_updated.json");
        let ids = |evs: &[NormalizedEvent]| evs.iter().map(|e| e.source_event_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&once), ids(&again));
        let mut unique = ids(&once);
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), once.len(), "different events get different ids");
    }
}

mod generic {
    use super::*;
    use Milestone::*;

    const BODY: &str = r#"{"events":[
        {"tracking_number":"LF-20250314-0042","carrier":"Lakeside-Couriers","source":"driver","source_event_id":"stop-8812-delivered",
         "code":"POD","milestone":"delivered","description":"Left with reception","occurred_at":"2025-03-14T11:02:00-07:00",
         "location":{"city":"Spokane","region":"WA","postal_code":"99201","country":"US"},
         "signed_by":"J. Ortiz","photo_url":"https://pod.example.com/8812.jpg","left_at":"reception"},
        {"tracking_number":"1ZA4R7090398765432","carrier":"ups","code":"OT","occurred_at":"2025-03-14T07:42:10-06:00"},
        {"tracking_number":"LF-20250314-0043","carrier":"lakeside-couriers","code":"STOP-SKIPPED","occurred_at":"2025-03-14T12:00:00+00:00",
         "estimated_delivery":"2025-03-15"}]}"#;

    #[test]
    fn a_given_milestone_decides_and_codes_map_through_the_senders_carrier() {
        let events = parse(SenderKind::Generic, BODY.as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(milestones(&events), vec![Some(Delivered), Some(OutForDelivery), None]);
        assert_eq!(events[0].source, EventSource::Driver);
        assert_eq!(events[0].carrier, "lakeside-couriers");
        assert_eq!(events[0].source_event_id.as_deref(), Some("stop-8812-delivered"));
        assert_eq!(
            events[0].proof_of_delivery.as_ref().unwrap().photo_url.as_deref(),
            Some("https://pod.example.com/8812.jpg")
        );
        assert_eq!(events[1].source, EventSource::Carrier);
        assert_eq!(events[2].mapping, CodeLookup::Unmapped);
        assert_eq!(events[2].carrier_estimated_delivery, Some(at("2025-03-15T23:59:59+00:00")));
    }

    #[test]
    fn a_driver_app_day_reads_with_its_sources_proofs_and_estimates() {
        let events = read(SenderKind::Generic, "generic_events.json");
        assert_eq!(
            milestones(&events),
            vec![
                Some(OutForDelivery),
                Some(DeliveryAttempted),
                Some(Delivered),
                Some(Packed),
                Some(AvailableForPickup)
            ]
        );
        assert_eq!(events[3].source, EventSource::Warehouse);
        assert_eq!(events[4].carrier, "ups", "carrier names are lower-cased");
        assert_eq!(events[4].code.as_deref(), Some("2Q"));
        let pod = events[2].proof_of_delivery.as_ref().unwrap();
        assert_eq!(pod.signed_by.as_deref(), Some("J. Ortiz"));
        assert_eq!(pod.signature_url.as_deref(), Some("https://pod.example.com/8812-sig.png"));
        assert_eq!(pod.left_at.as_deref(), Some("reception"));
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-14T12:00:00-07:00")));
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-03-14T07:30:00-07:00");
        assert!(events[3].source_event_id.as_deref().unwrap().starts_with("derived:"));
    }

    #[test]
    fn unknown_fields_times_without_offset_and_events_without_milestone_or_code_are_refused() {
        let codes = CodeMap::seeded();
        let typo = br#"{"events":[{"tracking_number":"A","carrier":"x","milestone":"delivered","occurred_at":"2025-03-14T11:02:00Z","signed_bye":"J"}]}"#;
        assert_eq!(
            parse(SenderKind::Generic, typo, &codes).unwrap_err().to_string(),
            "events[0].signed_bye: unknown field"
        );
        let naive = br#"{"events":[{"tracking_number":"A","carrier":"x","milestone":"delivered","occurred_at":"2025-03-14T11:02:00"}]}"#;
        assert!(
            parse(SenderKind::Generic, naive, &codes)
                .unwrap_err()
                .to_string()
                .starts_with("events[0].occurred_at: expected")
        );
        let bare = br#"{"events":[{"tracking_number":"A","carrier":"x","occurred_at":"2025-03-14T11:02:00Z"}]}"#;
        assert_eq!(parse(SenderKind::Generic, bare, &codes).unwrap_err().to_string(), "events[0].milestone: missing");
        let shipped = br#"{"events":[{"tracking_number":"A","carrier":"x","milestone":"shipped","occurred_at":"2025-03-14T11:02:00Z"}]}"#;
        assert_eq!(
            parse(SenderKind::Generic, shipped, &codes).unwrap_err().to_string(),
            "events[0].milestone: expected a Milepost milestone"
        );
        let location = br#"{"events":[{"tracking_number":"A","carrier":"x","milestone":"delivered","occurred_at":"2025-03-14T11:02:00Z","location":{"zip":"1"}}]}"#;
        assert_eq!(
            parse(SenderKind::Generic, location, &codes).unwrap_err().to_string(),
            "events[0].location.zip: unknown field"
        );
    }
}

mod mapping {
    use super::*;

    #[test]
    fn an_accounts_own_mapping_is_used_by_the_adapters() {
        let mut codes = CodeMap::seeded();
        codes.set("ups", "Q9", Some(Milestone::InTransit));
        let events = parse(SenderKind::Ups, &fixture("ups_multi_package.json"), &codes).unwrap();
        let unknown = events.iter().find(|e| e.code.as_deref() == Some("Q9")).unwrap();
        assert_eq!(unknown.mapping, CodeLookup::Mapped(Milestone::InTransit));
    }

    #[test]
    fn a_mapping_added_later_does_not_change_the_derived_id_of_a_resent_event() {
        let before = read(SenderKind::Ups, "ups_multi_package.json");
        let mut codes = CodeMap::seeded();
        // Z1 used to fall through to statusCode 022; now the account maps Z1 itself.
        codes.set("ups", "Z1", Some(Milestone::Exception));
        let after = parse(SenderKind::Ups, &fixture("ups_multi_package.json"), &codes).unwrap();
        let attempt = |evs: &[NormalizedEvent]| evs.iter().find(|e| e.raw["status"]["code"] == "Z1").cloned().unwrap();
        assert_ne!(attempt(&before).code, attempt(&after).code);
        assert_eq!(attempt(&before).source_event_id, attempt(&after).source_event_id);
    }

    #[test]
    fn a_derived_id_depends_on_the_instant_not_on_how_its_offset_is_spelled() {
        let codes = CodeMap::seeded();
        let body = |time: &str| {
            format!(
                r#"{{"event":"track_updated","data":{{"carrier":"usps","tracking_number":"9205",
                "tracking_history":[{{"status":"TRANSIT","status_date":"{time}"}}]}}}}"#
            )
        };
        let utc = parse(SenderKind::Shippo, body("2025-03-12T03:14:00Z").as_bytes(), &codes).unwrap();
        let local = parse(SenderKind::Shippo, body("2025-03-11T20:14:00-07:00").as_bytes(), &codes).unwrap();
        let later = parse(SenderKind::Shippo, body("2025-03-12T03:15:00Z").as_bytes(), &codes).unwrap();
        assert_eq!(utc[0].source_event_id, local[0].source_event_id);
        assert_ne!(utc[0].source_event_id, later[0].source_event_id);
    }

    #[test]
    fn every_sender_kind_parses_from_its_integration_name() {
        for name in ["ups", "fedex", "usps", "dhl", "easypost", "aftership", "shippo", "generic"] {
            let kind: SenderKind = name.parse().unwrap();
            assert_eq!(kind.to_string(), name);
        }
        assert_eq!(
            "shopify".parse::<SenderKind>().unwrap_err().to_string(),
            "unknown sender kind `shopify`; expected one of ups, fedex, usps, dhl, easypost, aftership, shippo, generic"
        );
    }
}

mod hostile {
    use super::*;

    const FIXTURES: [(SenderKind, &str); 12] = [
        (SenderKind::Generic, "generic_events.json"),
        (SenderKind::Ups, "ups_multi_package.json"),
        (SenderKind::Ups, "ups_local_times_only.json"),
        (SenderKind::Fedex, "fedex_duplicate_number.json"),
        (SenderKind::Usps, "usps_v3.json"),
        (SenderKind::Usps, "usps_v3_local_and_gmt.json"),
        (SenderKind::Usps, "usps_return.json"),
        (SenderKind::Dhl, "dhl_unified.json"),
        (SenderKind::Easypost, "easypost_tracker_updated.json"),
        (SenderKind::Aftership, "aftership_tracking_update.json"),
        (SenderKind::Shippo, "shippo_track_updated.json"),
        (SenderKind::Shippo, "shippo_return.json"),
    ];

    #[test]
    fn truncated_json_is_an_error_for_every_sender() {
        let codes = CodeMap::seeded();
        for (kind, name) in FIXTURES {
            let body = fixture(name);
            for cut in (0..body.len()).step_by(7) {
                let result = parse(kind, &body[..cut], &codes);
                assert!(result.is_err(), "{name} cut at {cut} parsed");
            }
        }
    }

    #[test]
    fn invalid_utf8_is_an_error_that_says_so() {
        let codes = CodeMap::seeded();
        for kind in SenderKind::ALL {
            let err = parse(kind, b"{\"events\":[\"\xff\xfe\"]}", &codes).unwrap_err();
            assert!(matches!(err, AdapterError::InvalidUtf8 { valid_up_to: 12 }), "{kind}: {err}");
        }
    }

    #[test]
    fn deep_nesting_huge_numbers_and_wrong_roots_are_errors_not_panics() {
        let codes = CodeMap::seeded();
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
        let bodies: Vec<Vec<u8>> = vec![
            deep.into_bytes(),
            deep_object.into_bytes(),
            b"1e999999".to_vec(),
            b"null".to_vec(),
            b"[]".to_vec(),
            b"{}".to_vec(),
            b"\"trackResponse\"".to_vec(),
            b"".to_vec(),
            br#"{"trackResponse":{"shipment":[{"package":[{"trackingNumber":"1Z","activity":[{"date":99999999999999999999999999,"time":"1"}]}]}]}}"#.to_vec(),
        ];
        for kind in SenderKind::ALL {
            for body in &bodies {
                assert!(
                    parse(kind, body, &codes).is_err(),
                    "{kind} accepted {:?}",
                    String::from_utf8_lossy(&body[..body.len().min(40)])
                );
            }
        }
    }

    /// Every value in every fixture replaced, one at a time, by values of the wrong type or of
    /// absurd size: the adapters may accept or refuse, but must never panic.
    #[test]
    fn replacing_any_value_with_a_hostile_one_never_panics() {
        let codes = CodeMap::seeded();
        let hostile: Vec<Value> = vec![
            Value::Null,
            serde_json::json!(1e300),
            serde_json::json!(-1),
            serde_json::json!(u64::MAX),
            serde_json::json!(""),
            serde_json::json!("99999999999999999999"),
            serde_json::json!("-99:99"),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!(true),
        ];
        for (kind, name) in FIXTURES {
            let original: Value = serde_json::from_slice(&fixture(name)).unwrap();
            let mut paths = Vec::new();
            collect_paths(&original, &mut Vec::new(), &mut paths);
            for path in &paths {
                for replacement in &hostile {
                    let mut mutated = original.clone();
                    *pointer_mut(&mut mutated, path) = replacement.clone();
                    let body = serde_json::to_vec(&mutated).unwrap();
                    let _ = parse(kind, &body, &codes);
                }
            }
        }
    }

    #[test]
    fn replacing_any_value_in_an_epcis_document_or_shopify_order_never_panics() {
        use milepost_ingest::epcis::parse_epcis;
        use milepost_ingest::shopify::{ShopifyTopic, parse_shopify};
        let codes = CodeMap::seeded();
        let order =
            br##"{"id":1,"name":"#1042","order_number":1042,"email":"a@b.co","created_at":"2025-03-10T09:14:22-05:00",
            "currency":"USD","total_price":"1.00","line_items":[{"id":2,"sku":"S","quantity":1,"price":"1.00"}],
            "shipping_address":{"name":"N","zip":"07470","country_code":"US"},
            "fulfillments":[{"id":3,"tracking_company":"UPS","tracking_numbers":["1Z"],"shipment_status":"delivered",
            "line_items":[{"sku":"S","quantity":1}]}],"tags":"a,b"}"##;
        let documents: [(&str, Vec<u8>); 3] = [
            ("epcis", fixture("epcis_capture.json")),
            ("epcis", fixture("epcis_all_event_types.json")),
            ("shopify", order.to_vec()),
        ];
        for (which, body) in documents {
            let original: Value = serde_json::from_slice(&body).unwrap();
            let mut paths = Vec::new();
            collect_paths(&original, &mut Vec::new(), &mut paths);
            for path in &paths {
                for replacement in [
                    Value::Null,
                    serde_json::json!(1e300),
                    serde_json::json!(-1),
                    serde_json::json!(""),
                    serde_json::json!([]),
                    serde_json::json!({}),
                ] {
                    let mut mutated = original.clone();
                    *pointer_mut(&mut mutated, path) = replacement;
                    let bytes = serde_json::to_vec(&mutated).unwrap();
                    if which == "epcis" {
                        let _ = parse_epcis(&bytes, &codes);
                    } else {
                        let _ = parse_shopify(ShopifyTopic::OrdersUpdated, &bytes, &codes);
                        let _ = parse_shopify(ShopifyTopic::FulfillmentsCreate, &bytes, &codes);
                    }
                }
            }
        }
    }

    fn collect_paths(v: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(here.clone());
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    here.push(k.clone());
                    collect_paths(child, here, out);
                    here.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    here.push(i.to_string());
                    collect_paths(child, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }

    fn pointer_mut<'v>(v: &'v mut Value, path: &[String]) -> &'v mut Value {
        path.iter().fold(v, |v, key| match v {
            Value::Object(map) => map.get_mut(key).unwrap(),
            Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            _ => unreachable!(),
        })
    }
}

mod code_tables {
    //! Every code a sender documents has a row: the aggregators' finer fields and the carriers'
    //! exception codes land on the milestone their authors describe.
    use super::*;
    use Milestone::*;

    #[test]
    fn easypost_details_refine_a_coarse_status_and_never_override_a_definite_one() {
        let events = read(SenderKind::Easypost, "easypost_status_details.json");
        assert_eq!(
            milestones(&events),
            vec![
                Some(HandedToCarrier),
                Some(InTransit),
                Some(Exception),
                Some(AvailableForPickup),
                Some(Exception),
                Some(ReturningToSender),
                Some(Delivered)
            ]
        );
        assert_eq!(events[0].code.as_deref(), Some("received_at_origin_facility"));
        assert_eq!(events[6].code.as_deref(), Some("delivered"), "`delivered` is not overridden by its detail");
    }

    #[test]
    fn aftership_subtags_of_every_group_have_their_row() {
        let map = CodeMap::seeded();
        let subtag = |code: &str| map.lookup_field("aftership", "subtag", code);
        assert_eq!(subtag("AttemptFail_002"), Some(CodeLookup::Mapped(DeliveryAttempted)));
        assert_eq!(subtag("AttemptFail_003"), Some(CodeLookup::Mapped(DeliveryAttempted)));
        assert_eq!(subtag("InTransit_002"), Some(CodeLookup::Mapped(HandedToCarrier)));
        // Customs clearance under way or done is movement, not a problem.
        assert_eq!(subtag("InTransit_005"), Some(CodeLookup::Mapped(InTransit)));
        assert_eq!(subtag("InTransit_006"), Some(CodeLookup::Mapped(InTransit)));
        assert_eq!(subtag("Exception_010"), Some(CodeLookup::Mapped(ReturningToSender)));
        assert_eq!(subtag("Exception_011"), Some(CodeLookup::Mapped(ReturnedToSender)));
        assert_eq!(subtag("Exception_020"), Some(CodeLookup::Mapped(Cancelled)));
        assert_eq!(subtag("Pending_003"), Some(CodeLookup::Informational));
        assert_eq!(subtag("Expired_001"), Some(CodeLookup::Informational));
        for group in ["Delivered_001", "AvailableForPickup_001", "OutForDelivery_001", "InfoReceived_001"] {
            assert!(matches!(subtag(group), Some(CodeLookup::Mapped(_))), "{group}");
        }
    }

    #[test]
    fn fedex_exception_codes_tell_an_attempt_from_a_problem() {
        let map = CodeMap::seeded();
        let exception = |code: &str| map.lookup_field("fedex", "exceptionCode", code);
        assert_eq!(exception("007"), Some(CodeLookup::Mapped(DeliveryAttempted)));
        assert_eq!(exception("08"), Some(CodeLookup::Mapped(DeliveryAttempted)));
        assert_eq!(exception("15"), Some(CodeLookup::Mapped(DeliveryAttempted)));
        assert_eq!(exception("07"), Some(CodeLookup::Mapped(Exception)));
        assert_eq!(exception("03"), Some(CodeLookup::Mapped(Exception)));
        assert_eq!(exception("17"), Some(CodeLookup::Mapped(InTransit)));
    }

    #[test]
    fn shippo_reads_a_returned_parcel_and_ups_clearance_in_progress_is_not_an_exception() {
        let map = CodeMap::seeded();
        assert_eq!(
            map.lookup_field("shippo", "substatus", "package_returned"),
            Some(CodeLookup::Mapped(ReturnedToSender))
        );
        assert_eq!(map.lookup_field("ups", "statusCode", "012"), Some(CodeLookup::Mapped(InTransit)));
        // "At the clearing agency awaiting final release" arrives under type X, and is movement.
        assert_eq!(map.lookup_field("ups", "statusCode", "092"), Some(CodeLookup::Mapped(InTransit)));
    }
}

/// The other shapes real deployments send to the same integrations: UPS Track Alert pushes,
/// MyDHL Express answers, the aggregators' API objects a poller reads, and the aggregators'
/// dashboard test webhooks with null fields.
mod other_shapes {
    use super::*;
    use Milestone::*;

    fn utc(e: &NormalizedEvent) -> String {
        e.occurred_at.with_timezone(&chrono::Utc).to_rfc3339()
    }

    fn parse_err(kind: SenderKind, body: &str) -> AdapterError {
        parse(kind, body.as_bytes(), &CodeMap::seeded()).expect_err(body)
    }

    #[test]
    fn a_ups_track_alert_push_is_one_event_read_with_the_track_api_codes_and_offset_rules() {
        let events = read(SenderKind::Ups, "ups_track_alert_out_for_delivery.json");
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.tracking_number, "1ZA4R7090398765432");
        assert_eq!(e.carrier, "ups");
        assert_eq!(e.milestone, Some(OutForDelivery));
        assert_eq!(e.code.as_deref(), Some("OT"));
        assert_eq!(e.description.as_deref(), Some("Out For Delivery Today"));
        // Local 07:42:10 against GMT 13:42:10: Boise in summer time.
        assert_eq!(e.occurred_at.to_rfc3339(), "2025-03-14T07:42:10-06:00");
        assert_eq!(utc(e), "2025-03-14T13:42:10+00:00");
        let place = e.location.as_ref().unwrap();
        assert_eq!((place.city.as_deref(), place.country.as_deref()), (Some("BOISE"), Some("US")));
        assert_eq!(e.carrier_estimated_delivery, Some(at("2025-03-14T23:59:59-06:00")));
        assert!(e.source_event_id.as_deref().unwrap().starts_with("derived:"));
    }

    #[test]
    fn a_ups_track_alert_with_local_time_only_is_read_in_the_zone_of_its_address() {
        let events = read(SenderKind::Ups, "ups_track_alert_delivered_local_only.json");
        let e = &events[0];
        assert_eq!(e.milestone, Some(Delivered));
        assert_eq!(e.code.as_deref(), Some("FS"));
        assert_eq!(e.description.as_deref(), Some("DELIVERED"));
        // Knoxville is Eastern, standard time again since 2 November.
        assert_eq!(e.occurred_at.to_rfc3339(), "2025-11-04T14:33:16-05:00");
        assert_eq!(utc(e), "2025-11-04T19:33:16+00:00");
        assert_eq!(e.proof_of_delivery.as_ref().and_then(|p| p.signed_by.as_deref()), Some("DOCK 4"));
        // Delivered: the stale scheduled date is no estimate any more.
        assert_eq!(e.carrier_estimated_delivery, None);
    }

    #[test]
    fn a_ups_track_alert_and_the_same_scan_from_the_track_api_get_the_same_instant_and_milestone() {
        let alert = &read(SenderKind::Ups, "ups_track_alert_out_for_delivery.json")[0];
        let api = br#"{"trackResponse":{"shipment":[{"package":[{"trackingNumber":"1ZA4R7090398765432","activity":[
            {"date":"20250314","time":"074210","gmtDate":"20250314","gmtTime":"13:42:10",
             "location":{"address":{"city":"BOISE","stateProvince":"ID","postalCode":"83702","countryCode":"US"}},
             "status":{"type":"I","code":"OT","description":"Out For Delivery Today","statusCode":"021"}}]}]}]}}"#;
        let api = &parse(SenderKind::Ups, api, &CodeMap::seeded()).unwrap()[0];
        assert_eq!((alert.milestone, alert.occurred_at), (api.milestone, api.occurred_at));
        assert_eq!(alert.source_event_id, api.source_event_id, "one scan, one derived id, whichever way it came");
    }

    #[test]
    fn a_bad_ups_track_alert_is_an_error_naming_the_field() {
        let e =
            parse_err(SenderKind::Ups, r#"{"trackingNumber":"1ZA4R7090398765432","localActivityDate":"2025-03-14"}"#);
        assert_eq!(e, AdapterError::Invalid { path: "localActivityDate".into(), expected: "YYYYMMDD".into() });
        let e = parse_err(SenderKind::Ups, r#"{"trackingNumber":"1ZA4R7090398765432","activityStatus":{"code":"OT"}}"#);
        assert_eq!(e, AdapterError::Missing { path: "localActivityDate".into() });
        let e = parse_err(SenderKind::Ups, r#"{"trackingNumber":" ","localActivityDate":"20250314"}"#);
        assert_eq!(e, AdapterError::Invalid { path: "trackingNumber".into(), expected: "a non-empty string".into() });
    }

    #[test]
    fn a_mydhl_express_answer_reads_each_shipment_event_once_with_its_gmt_offset() {
        let events = read(SenderKind::Dhl, "dhl_mydhl_express.json");
        assert_eq!(events.len(), 5, "piece events repeat the shipment's and are not read again");
        assert!(events.iter().all(|e| e.tracking_number == "5786694550" && e.carrier == "dhl"));
        assert_eq!(
            milestones(&events),
            vec![Some(HandedToCarrier), Some(InTransit), None, Some(OutForDelivery), Some(Delivered)]
        );
        assert_eq!(events[0].occurred_at.to_rfc3339(), "2025-03-11T17:20:00+01:00");
        assert_eq!(utc(&events[0]), "2025-03-11T16:20:00+00:00");
        assert_eq!(utc(&events[4]), "2025-03-13T12:41:00+00:00");
        let leipzig = events[0].location.as_ref().unwrap();
        assert_eq!((leipzig.city.as_deref(), leipzig.country.as_deref()), (Some("Leipzig"), Some("DE")));
        let midlands = events[1].location.as_ref().unwrap();
        assert_eq!((midlands.city.as_deref(), midlands.country.as_deref()), (Some("East Midlands"), Some("GB")));
        // An Express code the table does not know is kept for a person to map.
        assert_eq!((events[2].mapping, events[2].code.as_deref()), (CodeLookup::Unmapped, Some("CR")));
        assert_eq!(events[4].proof_of_delivery.as_ref().and_then(|p| p.signed_by.as_deref()), Some("R HALL"));
        assert_eq!(events[0].proof_of_delivery, None);
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-13T23:59:59+00:00")));
    }

    #[test]
    fn mydhl_express_codes_come_from_their_own_rows_of_the_table() {
        let codes = CodeMap::seeded();
        assert_eq!(codes.lookup_field("dhl", "MyDHL Express", "WC"), Some(CodeLookup::Mapped(OutForDelivery)));
        assert_eq!(codes.lookup_field("dhl", "MyDHL Express", "OK"), Some(CodeLookup::Mapped(Delivered)));
    }

    #[test]
    fn a_bad_mydhl_express_event_is_an_error_naming_the_field() {
        let body = r#"{"shipments":[{"shipmentTrackingNumber":"5786694550","events":[{"date":"11/03/2025","time":"17:20:00","typeCode":"PU"}]}]}"#;
        let e = parse_err(SenderKind::Dhl, body);
        assert_eq!(
            e,
            AdapterError::Invalid {
                path: "shipments[0].events[0].date".into(),
                expected: "a date like 2025-03-14".into()
            }
        );
        let body = r#"{"shipments":[{"shipmentTrackingNumber":"5786694550","events":[{"date":"2025-03-11","time":"17:20","GMTOffset":"+01:00"}]}]}"#;
        assert!(
            matches!(parse_err(SenderKind::Dhl, body), AdapterError::Invalid { path, .. } if path == "shipments[0].events[0].time")
        );
        // MyDHL writes a problem's status as a string; a 404 is "not found", no events.
        let events = parse(
            SenderKind::Dhl,
            br#"{"title":"Not found","status":"404","detail":"no shipment"}"#,
            &CodeMap::seeded(),
        );
        assert_eq!(events, Ok(Vec::new()));
    }

    #[test]
    fn an_aftership_get_tracking_answer_reads_like_its_webhook() {
        let events = read(SenderKind::Aftership, "aftership_get_tracking.json");
        assert_eq!(events.len(), 4);
        assert!(events.iter().all(|e| e.tracking_number == "794612345678" && e.carrier == "fedex"));
        assert_eq!(
            milestones(&events),
            // `InTransit_002` is AfterShip's acceptance scan ("Picked up"): the carrier took it.
            vec![Some(LabelCreated), Some(HandedToCarrier), Some(OutForDelivery), Some(Delivered)]
        );
        assert_eq!(utc(&events[0]), "2025-03-11T14:21:39+00:00");
        assert_eq!(utc(&events[1]), "2025-03-11T08:58:00+00:00");
        assert_eq!(utc(&events[3]), "2025-03-14T01:10:00+00:00");
        assert_eq!(events[3].carrier_estimated_delivery, Some(at("2025-03-14T23:59:59+00:00")));

        // The same tracking as a webhook's `msg` gives the same events, ids included.
        let answer: Value = serde_json::from_slice(&fixture("aftership_get_tracking.json")).unwrap();
        let webhook = serde_json::json!({"event": "tracking_update", "msg": answer["data"]["tracking"]});
        let pushed = parse(SenderKind::Aftership, webhook.to_string().as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(pushed, events);
    }

    #[test]
    fn an_aftership_list_answer_reads_every_tracking_and_skips_those_without_checkpoints() {
        let events = read(SenderKind::Aftership, "aftership_list_trackings.json");
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].tracking_number.as_str(), events[0].carrier.as_str()), ("1ZA4R7090398765432", "ups"));
        assert_eq!(events[0].milestone, Some(Exception));
        assert_eq!(events[0].code.as_deref(), Some("Exception_004"));
        assert_eq!(utc(&events[0]), "2025-03-13T00:30:00+00:00");
    }

    #[test]
    fn an_aftership_error_answer_is_the_senders_error_and_not_found_is_no_events() {
        let e = parse_err(SenderKind::Aftership, r#"{"meta":{"code":4010,"message":"Invalid API key."},"data":{}}"#);
        assert_eq!(e, AdapterError::SenderError { path: "meta".into(), message: "4010 Invalid API key.".into() });
        let none = parse(
            SenderKind::Aftership,
            br#"{"meta":{"code":4004,"message":"Tracking does not exist."},"data":{}}"#,
            &CodeMap::seeded(),
        );
        assert_eq!(none, Ok(Vec::new()));
        let e = parse_err(SenderKind::Aftership, r#"{"meta":{"code":200},"data":{"tracking":{"slug":"ups"}}}"#);
        assert_eq!(e, AdapterError::Missing { path: "data.tracking.tracking_number".into() });
    }

    #[test]
    fn a_shippo_track_object_reads_like_its_webhook_and_its_latest_status_is_not_read_twice() {
        let events = read(SenderKind::Shippo, "shippo_track_object.json");
        // The latest status repeats the last history entry under another object id.
        assert_eq!(events.len(), 3);
        assert!(events.iter().all(|e| e.tracking_number == "9205590164917312345678" && e.carrier == "usps"));
        assert_eq!(milestones(&events), vec![Some(LabelCreated), Some(InTransit), Some(Delivered)]);
        assert_eq!(utc(&events[2]), "2025-03-13T22:41:00+00:00");
        assert_eq!(events[2].source_event_id.as_deref(), Some("0c1d2e3f4a5b4c6d8e9f0a1b2c3d4e53"));
        assert_eq!(events[0].carrier_estimated_delivery, Some(at("2025-03-14T00:00:00Z")));

        let object: Value = serde_json::from_slice(&fixture("shippo_track_object.json")).unwrap();
        let webhook = serde_json::json!({"event": "track_updated", "data": object});
        let pushed = parse(SenderKind::Shippo, webhook.to_string().as_bytes(), &CodeMap::seeded()).unwrap();
        assert_eq!(pushed, events);
    }

    #[test]
    fn an_aggregators_dashboard_test_webhook_with_null_fields_reads_as_no_events() {
        assert_eq!(read(SenderKind::Aftership, "aftership_test_webhook.json"), Vec::new());
        assert_eq!(read(SenderKind::Shippo, "shippo_test_webhook.json"), Vec::new());
        assert_eq!(read(SenderKind::Easypost, "easypost_test_webhook.json"), Vec::new());
    }

    #[test]
    fn a_null_tracking_number_with_scans_is_still_an_error_naming_the_field() {
        let e = parse_err(
            SenderKind::Aftership,
            r#"{"msg":{"tracking_number":null,"slug":"ups","checkpoints":[{"checkpoint_time":"2025-03-14T07:42:10-06:00","tag":"InTransit"}]}}"#,
        );
        assert_eq!(e, AdapterError::Missing { path: "msg.tracking_number".into() });
        let e = parse_err(
            SenderKind::Shippo,
            r#"{"event":"track_updated","data":{"tracking_number":null,"carrier":"usps","tracking_history":[{"status":"TRANSIT","status_date":"2025-03-12T03:14:00Z"}]}}"#,
        );
        assert_eq!(e, AdapterError::Missing { path: "data.tracking_number".into() });
        let e = parse_err(
            SenderKind::Easypost,
            r#"{"object":"Event","description":"tracker.updated","result":{"tracking_code":null,"tracking_details":[{"status":"in_transit","datetime":"2025-03-14T07:10:00Z"}]}}"#,
        );
        assert_eq!(e, AdapterError::Missing { path: "result.tracking_code".into() });
    }
}
