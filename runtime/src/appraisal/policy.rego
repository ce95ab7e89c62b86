# Tessera's default appraisal policy (production).
#
# Input: the verified claims of one piece of evidence (see ARCHITECTURE.md,
# "Appraisal input"). Data: `data.settings` (allow_sim) and
# `data.reference_values` (launch measurements, TDX RTMRs and minimum TCBs,
# from the image build).
#
# Output: `findings`, a set of {claim, tier, reason}. `claim` is an EAR
# trustworthiness-vector claim (hardware, configuration, executables,
# instance-identity); `tier` is affirming | warning | contraindicated | none.
# The runtime takes the worst tier per claim and overall; evidence is
# accepted only if `hardware` is affirming or warning and nothing is
# contraindicated.
package tessera.appraisal

import rego.v1

hardware_platforms := {"sev-snp", "tdx"}

allow_sim if data.settings.allow_sim == true

# ---- hardware: genuine platform, acceptable TCB -------------------------

findings contains f if {
	input.platform == "sim"
	not allow_sim
	f := {"claim": "hardware", "tier": "contraindicated", "reason": "sim evidence is not hardware evidence; the production policy refuses it"}
}

findings contains f if {
	input.platform == "sim"
	allow_sim
	f := {"claim": "hardware", "tier": "warning", "reason": "sim evidence accepted under the dev policy: it proves no hardware protection"}
}

findings contains f if {
	input.platform == "sev-snp"
	f := {"claim": "hardware", "tier": "affirming", "reason": sprintf("genuine AMD SEV-SNP report (%s, signed by %s)", [input.snp.product, input.snp.signer])}
}

findings contains f if {
	input.platform == "sev-snp"
	some field, minimum in data.reference_values.snp_minimum_tcb
	input.snp.reported_tcb[field] < minimum
	f := {"claim": "hardware", "tier": "contraindicated", "reason": sprintf("SNP reported TCB %s = %v is below the minimum %v", [field, input.snp.reported_tcb[field], minimum])}
}

tdx_warning_status := {"SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded"}

findings contains f if {
	input.platform == "tdx"
	input.tdx.tcb_status == "UpToDate"
	f := {"claim": "hardware", "tier": "affirming", "reason": "genuine Intel TDX quote, TCB up to date"}
}

findings contains f if {
	input.platform == "tdx"
	input.tdx.tcb_status in tdx_warning_status
	f := {"claim": "hardware", "tier": "warning", "reason": sprintf("genuine Intel TDX quote, TCB status %s (advisories: %v)", [input.tdx.tcb_status, input.tdx.advisory_ids])}
}

findings contains f if {
	input.platform == "tdx"
	not input.tdx.tcb_status in tdx_warning_status
	input.tdx.tcb_status != "UpToDate"
	f := {"claim": "hardware", "tier": "contraindicated", "reason": sprintf("TDX TCB status %s is not acceptable", [input.tdx.tcb_status])}
}

# ---- configuration: debug off, VMPL 0 --------------------------------------

findings contains f if {
	input.debug
	f := {"claim": "configuration", "tier": "contraindicated", "reason": "the guest policy allows debugging: its memory is open to the host"}
}

findings contains f if {
	input.platform == "sev-snp"
	input.snp.vmpl != 0
	f := {"claim": "configuration", "tier": "contraindicated", "reason": sprintf("report requested from VMPL %v; VMPL 0 is required", [input.snp.vmpl])}
}

findings contains f if {
	not input.debug
	not snp_vmpl_nonzero
	f := {"claim": "configuration", "tier": "affirming", "reason": "debugging disabled"}
}

snp_vmpl_nonzero if {
	input.platform == "sev-snp"
	input.snp.vmpl != 0
}

# ---- executables: launch measurement against reference values ---------

reference_measurements := object.get(data.reference_values, ["launch_measurements", input.platform], [])

findings contains f if {
	count(reference_measurements) == 0
	f := {"claim": "executables", "tier": "none", "reason": "no reference values loaded for this platform: launch measurement not appraised"}
}

findings contains f if {
	count(reference_measurements) > 0
	input.launch_measurement in reference_measurements
	f := {"claim": "executables", "tier": "affirming", "reason": "launch measurement is in the reference values"}
}

findings contains f if {
	count(reference_measurements) > 0
	not input.launch_measurement in reference_measurements
	f := {"claim": "executables", "tier": "contraindicated", "reason": sprintf("launch measurement %s is not in the reference values", [input.launch_measurement])}
}

# ---- executables (TDX): runtime measurement registers against reference values
# MRTD covers the firmware only; with direct boot the firmware measures the
# kernel into RTMR1 and the command line and initrd into RTMR2.

reference_rtmrs := object.get(data.reference_values, "tdx_rtmrs", {})

findings contains f if {
	input.platform == "tdx"
	some index, allowed in reference_rtmrs
	count(allowed) > 0
	input.tdx.body[sprintf("rtmr%s", [index])] in allowed
	f := {"claim": "executables", "tier": "affirming", "reason": sprintf("RTMR%s is in the reference values", [index])}
}

findings contains f if {
	input.platform == "tdx"
	some index, allowed in reference_rtmrs
	count(allowed) > 0
	value := object.get(input.tdx.body, sprintf("rtmr%s", [index]), "absent")
	not value in allowed
	f := {"claim": "executables", "tier": "contraindicated", "reason": sprintf("RTMR%s %s is not in the reference values", [index, value])}
}

# ---- instance identity: REPORT_DATA binds what the relying party expects --

findings contains f if {
	input.expected_report_data != null
	input.report_data == input.expected_report_data
	f := {"claim": "instance-identity", "tier": "affirming", "reason": "report data matches the expected value"}
}

findings contains f if {
	input.expected_report_data != null
	input.report_data != input.expected_report_data
	f := {"claim": "instance-identity", "tier": "contraindicated", "reason": "report data does not match the expected value"}
}
