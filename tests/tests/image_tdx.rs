//! TDX reference values for the image: `tessera image measure --platform tdx
//! --tdvf` computes MRTD from a TDVF (Debian's `OVMF.fd` is one), records it in
//! the reference values the TDX appraisal reads, and compares it with a quote.

use std::path::{Path, PathBuf};

use tessera_tests::{show, state, tessera, workspace, write};

/// Debian 12's `ovmf` package (2022.11-6+deb12u2): a unified OvmfPkgX64 build
/// that carries TDX metadata (a TDVF) beside its SEV metadata.
const DEBIAN_OVMF: &str = "/usr/share/ovmf/OVMF.fd";
/// SHA-256 of that file; the known answers below are for exactly these bytes.
const DEBIAN_OVMF_SHA256: &str = "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773";
/// Its MRTD, computed outside this project with other people's code (run
/// beside the repository, not committed): the per-page value by a public
/// Python TDX measurement predictor, the two-pass value with dstack-mr's
/// two-pass order. Tessera's own code was written from the TDX module's
/// TDH.MEM.PAGE.ADD / TDH.MR.EXTEND definitions.
const DEBIAN_OVMF_MRTD_PER_PAGE: &str = "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47";
const DEBIAN_OVMF_MRTD_TWO_PASS: &str = "acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1";

/// OVMF's footer-table entry for the TDVF descriptor offset,
/// e47a6535-984a-4798-865e-4685a7bf8ec2 in its stored (mixed-endian) form.
const TDX_METADATA_OFFSET_GUID: [u8; 16] = [
    0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47, 0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2,
];

fn debian_ovmf() -> &'static str {
    let bytes = std::fs::read(DEBIAN_OVMF)
        .unwrap_or_else(|e| panic!("{DEBIAN_OVMF}: {e} (apt-get install ovmf; scripts/setup.sh)"));
    let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes));
    assert_eq!(
        digest, DEBIAN_OVMF_SHA256,
        "Debian's ovmf package changed ({DEBIAN_OVMF} is not 2022.11-6+deb12u2): \
         recompute the known answers with an independent implementation"
    );
    DEBIAN_OVMF
}

fn vector(rel: &str) -> String {
    workspace()
        .join("../shared/vectors")
        .join(rel)
        .to_str()
        .unwrap()
        .to_owned()
}

fn measure(state: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["image", "measure", "--platform", "tdx"];
    all.extend_from_slice(args);
    tessera(state, &all)
}

#[test]
fn mrtd_of_debians_ovmf_equals_the_independently_computed_known_answers() {
    let st = state();
    let ovmf = debian_ovmf();
    for (order, expected) in [
        ("per-page", DEBIAN_OVMF_MRTD_PER_PAGE),
        ("two-pass", DEBIAN_OVMF_MRTD_TWO_PASS),
    ] {
        let out = measure(
            st.path(),
            &["--tdvf", ovmf, "--page-order", order, "--json"],
        );
        assert!(out.status.success(), "{}", show(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["mrtd"], expected, "{order}");
        assert_eq!(v["page_order"], order);
    }
    // The default is the upstream KVM order.
    let out = measure(st.path(), &["--tdvf", ovmf]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("mrtd: {DEBIAN_OVMF_MRTD_PER_PAGE} (page order per-page)")
    );
}

#[test]
fn mrtd_goes_into_reference_values_that_the_tdx_appraisal_enforces() {
    let st = state();
    let rv = st.path().join("reference-values.json");
    let out = measure(
        st.path(),
        &[
            "--tdvf",
            debian_ovmf(),
            "--reference-values",
            rv.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    let parsed = tessera_runtime::appraisal::ReferenceValues::parse(&std::fs::read(&rv).unwrap())
        .expect("the runtime reads the file");
    assert_eq!(
        parsed.launch_measurements["tdx"],
        vec![DEBIAN_OVMF_MRTD_PER_PAGE.to_owned()]
    );

    // A genuine quote from a TD on other firmware: accepted without reference
    // values, refused with them, and the refusal names its MRTD.
    let quote = vector("tdx/v4/quote.bin");
    let plain = verify_v4_quote(st.path(), None);
    assert_eq!(plain.status.code(), Some(0), "{}", show(&plain));
    let pinned = verify_v4_quote(st.path(), Some(&rv));
    assert_eq!(pinned.status.code(), Some(1), "{}", show(&pinned));
    let text = String::from_utf8_lossy(&pinned.stdout);
    assert!(
        text.contains("not in the reference values"),
        "{}",
        show(&pinned)
    );
    let quote_mrtd = {
        let bytes = std::fs::read(&quote).unwrap();
        hex::encode(&bytes[48 + 136..48 + 184]) // v4 TD report body: MRTD at 136
    };
    assert!(text.contains(&quote_mrtd), "{}", show(&pinned));

    // The same comparison offline, straight from the firmware: exit 1, both values named.
    let out = measure(
        st.path(),
        &["--tdvf", debian_ovmf(), "--quote", &quote, "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mrtd"], DEBIAN_OVMF_MRTD_PER_PAGE);
    assert_eq!(v["quote_mrtd"], quote_mrtd.as_str());
    assert_eq!(v["mrtd_matches_quote"], false);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not match the quote's"),
        "{}",
        show(&out)
    );
}

#[test]
fn firmware_that_is_not_a_tdvf_is_named_and_changes_no_reference_values() {
    let st = state();
    let dir = tempfile::tempdir().unwrap();
    let rv = dir.path().join("rv.json");
    std::fs::write(&rv, b"{\"launch_measurements\": {}}\n").unwrap();
    let ovmf = std::fs::read(debian_ovmf()).unwrap();
    let truncated = write(dir.path(), "truncated.fd", &ovmf[4096..]);
    let mut bad_desc = ovmf.clone();
    // The descriptor's offset comes from the footer table; corrupt its signature.
    let from_end = {
        let guid_at = ovmf
            .windows(16)
            .rposition(|w| w == TDX_METADATA_OFFSET_GUID)
            .expect("Debian's OVMF.fd is a TDVF");
        u32::from_le_bytes(ovmf[guid_at - 6..guid_at - 2].try_into().unwrap()) as usize
    };
    let at = ovmf.len() - from_end;
    bad_desc[at..at + 4].copy_from_slice(b"XXXX");
    let bad_desc = write(dir.path(), "bad-descriptor.fd", &bad_desc);
    let random = write(dir.path(), "random.fd", vec![0x5a; 8192]);
    let odd = write(dir.path(), "odd.fd", vec![0; 1000]);
    let rv_arg = rv.to_str().unwrap();
    for (args, expected) in [
        (
            vec!["--tdvf", random.to_str().unwrap()],
            "no OVMF footer table",
        ),
        (
            vec!["--tdvf", odd.to_str().unwrap()],
            "whole number of 4 KiB pages",
        ),
        (vec!["--tdvf", bad_desc.to_str().unwrap()], "not \"TDVF\""),
        (
            vec!["--tdvf", truncated.to_str().unwrap()],
            "runs past the end",
        ),
        (
            vec!["--tdvf", "/nonexistent/OVMF.fd"],
            "cannot read firmware",
        ),
        (
            vec!["--tdvf", "/usr/share/OVMF/OVMF_VARS.fd"],
            "not an OVMF/TDVF image",
        ),
        (
            vec!["--tdvf", DEBIAN_OVMF, "--kernel", "/etc/hostname"],
            "takes the firmware as --tdvf",
        ),
        (vec![], "needs --tdvf"),
        (vec!["--ccel-log", "/etc/hostname"], "CCEL event log"),
    ] {
        let mut all = args.clone();
        all.extend_from_slice(&["--reference-values", rv_arg]);
        let out = measure(st.path(), &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(
            std::fs::read(&rv).unwrap(),
            b"{\"launch_measurements\": {}}\n",
            "{args:?} changed the reference values"
        );
    }
    let out = measure(
        st.path(),
        &[
            "--ccel-log",
            &vector("tdx/ccel-cos/ccel_data.bin"),
            "--pin-rtmr",
            "1,4",
            "--reference-values",
            rv_arg,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RTMR indexes 0-3"));
    assert_eq!(
        std::fs::read(&rv).unwrap(),
        b"{\"launch_measurements\": {}}\n"
    );
}

/// The COS vector's event log, cut before its last measured event: it still
/// parses, but no longer replays to its quote's RTMRs.
fn cut_cos_log(dir: &Path) -> PathBuf {
    let mut bytes = std::fs::read(vector("tdx/ccel-cos/ccel_data.bin")).unwrap();
    let parsed = tessera_tdx::ccel::EventLog::parse(&bytes).unwrap();
    let last = parsed
        .events()
        .iter()
        .rev()
        .find(|e| e.rtmr().is_some() && e.sha384().is_some())
        .unwrap()
        .offset();
    bytes[last..].fill(0xff);
    write(dir, "ccel-cut.bin", &bytes)
}

#[test]
fn tdx_replay_of_the_cos_event_log_matches_its_quote() {
    let st = state();
    let log = vector("tdx/ccel-cos/ccel_data.bin");
    let quote = vector("tdx/ccel-cos/quote.bin");
    let out = measure(
        st.path(),
        &["--json", "--ccel-log", &log, "--quote", &quote],
    );
    assert!(out.status.success(), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["matches_quote"], true);
    assert_eq!(v["events"], 43);
    let quote_bytes = std::fs::read(&quote).unwrap();
    for i in 0..3 {
        assert_eq!(
            v["rtmrs"][i].as_str().unwrap(),
            quote_rtmr(&quote_bytes, i),
            "rtmr{i}"
        );
    }
    // A log that no longer replays to the quote: exit 1.
    let cut = cut_cos_log(st.path());
    let out = measure(
        st.path(),
        &["--ccel-log", cut.to_str().unwrap(), "--quote", &quote],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not match the quote"),
        "{}",
        show(&out)
    );
}

/// `tessera evidence verify --json` of the genuine v4 quote vector at its
/// pinned time, with `reference_values` if given.
fn verify_v4_quote(state: &Path, reference_values: Option<&Path>) -> std::process::Output {
    let (quote, collateral) = (vector("tdx/v4/quote.bin"), vector("tdx/v4/collateral.json"));
    let mut args = vec!["evidence", "verify", "--collateral", &collateral];
    args.extend_from_slice(&["--at", "2025-07-01T00:00:00Z", "--json"]);
    if let Some(rv) = reference_values {
        args.extend_from_slice(&["--reference-values", rv.to_str().unwrap()]);
    }
    args.push(&quote);
    tessera(state, &args)
}

/// RTMR `i` of a v4 quote, read from its bytes: the TD report body follows the
/// 48-byte header, with RTMR0 at body offset 328.
fn quote_rtmr(quote: &[u8], i: usize) -> String {
    let start = 48 + 328 + 48 * i;
    hex::encode(&quote[start..start + 48])
}

#[test]
fn replayed_rtmrs_pin_kernel_and_command_line_in_reference_values() {
    let st = state();
    let rv = st.path().join("rv.json");
    let log = vector("tdx/ccel-cos/ccel_data.bin");
    let quote = vector("tdx/ccel-cos/quote.bin");
    let quote_bytes = std::fs::read(&quote).unwrap();
    let out = measure(
        st.path(),
        &[
            "--ccel-log",
            &log,
            "--quote",
            &quote,
            "--reference-values",
            rv.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    let parsed =
        tessera_runtime::appraisal::ReferenceValues::parse(&std::fs::read(&rv).unwrap()).unwrap();
    assert_eq!(
        parsed.tdx_rtmrs.len(),
        2,
        "RTMR1 and RTMR2 by default: {parsed:?}"
    );
    for i in [1, 2] {
        assert_eq!(
            parsed.tdx_rtmrs[&i.to_string()],
            vec![quote_rtmr(&quote_bytes, i)],
            "rtmr{i}"
        );
    }
    assert!(parsed.launch_measurements.is_empty());

    // A log that does not replay to the quote writes nothing.
    let tampered = cut_cos_log(st.path());
    let fresh = st.path().join("fresh.json");
    let out = measure(
        st.path(),
        &[
            "--ccel-log",
            tampered.to_str().unwrap(),
            "--quote",
            &quote,
            "--reference-values",
            fresh.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        !fresh.exists(),
        "a mismatching replay wrote reference values"
    );
}

#[test]
fn pinned_rtmrs_decide_the_appraisal_of_a_genuine_quote() {
    let st = state();
    let bytes = std::fs::read(vector("tdx/v4/quote.bin")).unwrap();
    let verify = |rtmr2: &str| {
        let rv = write(
            st.path(),
            "rv.json",
            serde_json::json!({"tdx_rtmrs": {"1": [quote_rtmr(&bytes, 1)], "2": [rtmr2]}})
                .to_string(),
        );
        verify_v4_quote(st.path(), Some(&rv))
    };
    let accepted = verify(&quote_rtmr(&bytes, 2));
    assert_eq!(accepted.status.code(), Some(0), "{}", show(&accepted));
    let text = String::from_utf8_lossy(&accepted.stdout);
    assert!(
        text.contains("RTMR1 is in the reference values")
            && text.contains("RTMR2 is in the reference values"),
        "{text}"
    );
    // Another initrd or command line: a different RTMR2.
    let other = hex::encode([0x5a; 48]);
    let refused = verify(&other);
    assert_eq!(refused.status.code(), Some(1), "{}", show(&refused));
    let text = String::from_utf8_lossy(&refused.stdout);
    assert!(
        text.contains(&format!(
            "RTMR2 {} is not in the reference values",
            quote_rtmr(&bytes, 2)
        )),
        "{text}"
    );
}
