//! dcap-qvl's report types to ours, for the cross-check in [`crate::verify`].

use dcap_qvl::quote::{Report, TDReport10};

use crate::body::{Td15ExFields, Td15Fields, TdAttributes, TdReportBody};

fn td10(r: &TDReport10) -> TdReportBody {
    TdReportBody {
        tee_tcb_svn: r.tee_tcb_svn,
        mr_seam: r.mr_seam,
        mr_signer_seam: r.mr_signer_seam,
        seam_attributes: r.seam_attributes,
        td_attributes: TdAttributes::from_bytes(r.td_attributes),
        xfam: r.xfam,
        mr_td: r.mr_td,
        mr_config_id: r.mr_config_id,
        mr_owner: r.mr_owner,
        mr_owner_config: r.mr_owner_config,
        rtmr0: r.rt_mr0,
        rtmr1: r.rt_mr1,
        rtmr2: r.rt_mr2,
        rtmr3: r.rt_mr3,
        report_data: r.report_data,
        td15: None,
        td15_ex: None,
    }
}

/// `None` for an SGX report.
pub(crate) fn body_from_dcap(report: &Report) -> Option<TdReportBody> {
    let mut body = td10(report.as_td10()?);
    if let Some(r) = report.as_td15() {
        body.td15 = Some(Td15Fields {
            tee_tcb_svn2: r.tee_tcb_svn2,
            mr_servicetd: r.mr_service_td,
        });
    }
    if let Some(r) = report.as_td15_ex() {
        body.td15_ex = Some(Td15ExFields {
            vm_index: r.vmid,
            td_id: r.td_id,
            dev_info: r.dev_info,
            init_service_td_hash: r.init_service_td_hash,
            init_service_td_attributes: r.init_service_td_attributes,
            init_cpu_svn: r.init_cpu_svn,
            init_tee_tcb_svn: r.init_tee_tcb_svn,
            init_tee_fmspc: r.init_tee_fmspc,
            cur_service_td_hash: r.cur_service_td_hash,
            cur_service_td_attributes: r.cur_service_td_attributes,
        });
    }
    Some(body)
}
