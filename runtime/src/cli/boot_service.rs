//! The image's service settings, read from the measured kernel command line,
//! and the network set-up `tessera boot` does before it starts the service.
//!
//! - `tessera.net=IFACE,ADDRESS/PREFIX[,GATEWAY]` (IPv4): bring `IFACE` up with
//!   that address and, with a gateway, a default route. The loopback
//!   interface is always brought up. Debian's kernel has no `ip=`
//!   autoconfiguration, so PID 1 does this itself over netlink.
//! - `tessera.serve=PORT`: after the baked-in workloads, run `tessera serve`
//!   on `0.0.0.0:PORT` as the VM's service (secrets intake, OIDC discovery,
//!   trust bundle) until it stops; without it the VM powers off after its
//!   workloads. `tessera.issuer=URL` is the OIDC issuer it publishes (the URL
//!   relying parties reach it by; default `http://0.0.0.0:PORT`).
//!
//! Both are on the command line, so both are part of the launch measurement
//! (SEV-SNP kernel hashes; TDX RTMR2): a relying party knows which network
//! and which service a measured image has.

use std::net::Ipv4Addr;

/// Longest interface name the kernel accepts (IFNAMSIZ - 1).
const MAX_IFACE_LEN: usize = 15;

/// A static IPv4 configuration for one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct NetConfig {
    pub iface: String,
    pub address: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
}

/// The service settings found on a command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct ServiceConfig {
    pub net: Option<NetConfig>,
    pub serve_port: Option<u16>,
    /// The OIDC issuer URL the service publishes (how relying parties reach it).
    pub issuer: Option<String>,
}

impl ServiceConfig {
    /// Reads `tessera.net=` and `tessera.serve=` (the last of each wins, as the
    /// kernel's own parameters do); words after `--` belong to init.
    pub fn from_cmdline(cmdline: &str) -> Result<Self, String> {
        let mut config = ServiceConfig::default();
        for word in cmdline.split_ascii_whitespace() {
            if word == "--" {
                break;
            }
            if let Some(value) = word.strip_prefix("tessera.net=") {
                config.net = Some(parse_net(value)?);
            } else if let Some(value) = word.strip_prefix("tessera.issuer=") {
                config.issuer = Some(
                    super::serve::parse_issuer(value)
                        .map_err(|e| format!("tessera.issuer={value:?}: {e}"))?,
                );
            } else if let Some(value) = word.strip_prefix("tessera.serve=") {
                config.serve_port = Some(
                    value
                        .parse::<u16>()
                        .ok()
                        .filter(|&p| p != 0)
                        .ok_or_else(|| {
                            format!("tessera.serve={value:?} is not a TCP port (1-65535)")
                        })?,
                );
            }
        }
        Ok(config)
    }
}

fn parse_net(value: &str) -> Result<NetConfig, String> {
    let bad = |why: &str| {
        format!("tessera.net={value:?}: {why} (expected IFACE,ADDRESS/PREFIX[,GATEWAY])")
    };
    let mut parts = value.split(',');
    let iface = parts.next().unwrap_or_default();
    if iface.is_empty()
        || iface.len() > MAX_IFACE_LEN
        || iface == "lo"
        || !iface
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad("the interface name is not a kernel interface name"));
    }
    let cidr = parts.next().ok_or_else(|| bad("no address"))?;
    let (address, prefix) = cidr
        .split_once('/')
        .ok_or_else(|| bad("the address has no /PREFIX"))?;
    let address: Ipv4Addr = address
        .parse()
        .map_err(|_| bad("the address is not IPv4"))?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|&p| p <= 32)
        .ok_or_else(|| bad("the prefix is not 0-32"))?;
    let gateway = match parts.next() {
        None => None,
        Some(g) => Some(
            g.parse::<Ipv4Addr>()
                .map_err(|_| bad("the gateway is not IPv4"))?,
        ),
    };
    if parts.next().is_some() {
        return Err(bad("too many fields"));
    }
    Ok(NetConfig {
        iface: iface.to_owned(),
        address,
        prefix,
        gateway,
    })
}

/// Brings `lo` up, then configures `net` if given. Errors name the step.
pub(super) fn configure_network(net: Option<&NetConfig>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("network set-up: {e}"))?;
    runtime.block_on(async {
        let (connection, handle, _) =
            rtnetlink::new_connection().map_err(|e| format!("netlink socket: {e}"))?;
        tokio::spawn(connection);
        link_up(&handle, "lo").await?;
        let Some(net) = net else {
            return Ok(());
        };
        let index = ifindex(&net.iface)?;
        link_up(&handle, &net.iface).await?;
        handle
            .address()
            .add(index, net.address.into(), net.prefix)
            .execute()
            .await
            .map_err(|e| {
                format!(
                    "address {}/{} on {}: {e}",
                    net.address, net.prefix, net.iface
                )
            })?;
        if let Some(gateway) = net.gateway {
            let route = rtnetlink::RouteMessageBuilder::<Ipv4Addr>::new()
                .gateway(gateway)
                .output_interface(index)
                .build();
            handle
                .route()
                .add(route)
                .execute()
                .await
                .map_err(|e| format!("default route via {gateway}: {e}"))?;
        }
        Ok(())
    })
}

async fn link_up(handle: &rtnetlink::Handle, name: &str) -> Result<(), String> {
    handle
        .link()
        .set(rtnetlink::LinkUnspec::new_with_name(name).up().build())
        .execute()
        .await
        .map_err(|e| format!("interface {name} up: {e}"))
}

/// The interface's index, from sysfs (mounted by `tessera boot` before this runs).
fn ifindex(name: &str) -> Result<u32, String> {
    let path = format!("/sys/class/net/{name}/ifindex");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!("interface {name}: {e} (is its driver, e.g. virtio_net, in the image?)")
    })?;
    text.trim()
        .parse()
        .map_err(|_| format!("interface {name}: {path} holds {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_network_and_service_from_the_command_line() {
        let c = ServiceConfig::from_cmdline(
            "console=ttyS0 tessera.net=eth0,10.0.2.15/24,10.0.2.2 tessera.serve=8470 -- boot tessera.serve=1",
        )
        .unwrap();
        assert_eq!(
            c.net,
            Some(NetConfig {
                iface: "eth0".into(),
                address: Ipv4Addr::new(10, 0, 2, 15),
                prefix: 24,
                gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
            })
        );
        assert_eq!(c.serve_port, Some(8470));
        let issuer =
            ServiceConfig::from_cmdline("tessera.issuer=https://vm.example/ -- boot").unwrap();
        assert_eq!(issuer.issuer.as_deref(), Some("https://vm.example"));
        let none = ServiceConfig::from_cmdline("console=ttyS0 -- boot").unwrap();
        assert_eq!(none, ServiceConfig::default());
        let no_gw = ServiceConfig::from_cmdline("tessera.net=enp0s3,192.168.1.9/32").unwrap();
        assert_eq!(no_gw.net.unwrap().gateway, None);
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        for (cmdline, reason) in [
            ("tessera.serve=0", "not a TCP port"),
            ("tessera.serve=70000", "not a TCP port"),
            ("tessera.serve=http", "not a TCP port"),
            ("tessera.net=eth0", "no address"),
            ("tessera.net=eth0,10.0.2.15", "no /PREFIX"),
            ("tessera.net=eth0,10.0.2.15/33", "prefix is not 0-32"),
            ("tessera.net=eth0,::1/64", "not IPv4"),
            ("tessera.net=eth0,10.0.2.15/24,gw", "gateway is not IPv4"),
            (
                "tessera.net=eth0,10.0.2.15/24,10.0.2.2,x",
                "too many fields",
            ),
            ("tessera.net=lo,127.0.0.2/8", "interface name"),
            ("tessera.net=../../etc,10.0.2.15/24", "interface name"),
            (
                "tessera.net=averyveryverylongname,10.0.2.15/24",
                "interface name",
            ),
            ("tessera.net=,10.0.2.15/24", "interface name"),
            ("tessera.issuer=ftp://x", "https:// URL"),
        ] {
            let err = ServiceConfig::from_cmdline(cmdline).unwrap_err();
            assert!(err.contains(reason), "{cmdline}: {err}");
        }
    }
}
