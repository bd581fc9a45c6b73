//! CIDR blocks as the API server reads them in a Service's
//! `loadBalancerSourceRanges` and a NetworkPolicy's `ipBlock`: an IPv4 or IPv6
//! address, `/`, a prefix length. IPv4 octets may have leading zeros, which the API
//! server's legacy parser (`netutils.ParseCIDRSloppy`) reads as decimal, so kgen
//! accepts them too.

use std::net::{IpAddr, Ipv4Addr};

/// A parsed CIDR block: its address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n` or `x:y::z/n`, IPv4 octets with leading zeros too (the API
    /// server's reading); `None` when it is not a CIDR block.
    pub fn parse(s: &str) -> Option<Cidr> {
        Cidr::parse_with(s, true)
    }

    /// [`Cidr::parse`] without leading zeros: the form kgen's own inputs take.
    pub fn parse_strict(s: &str) -> Option<Cidr> {
        Cidr::parse_with(s, false)
    }

    fn parse_with(s: &str, sloppy: bool) -> Option<Cidr> {
        let (ip, prefix) = s.split_once('/')?;
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let addr = match ip.parse::<IpAddr>() {
            Ok(a) => a,
            Err(_) if sloppy => IpAddr::V4(sloppy_v4(ip)?),
            Err(_) => return None,
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// The block's network address: `addr` with its host bits zero.
    pub fn network(&self) -> IpAddr {
        masked(self.addr, self.prefix)
    }

    /// Whether `ip` is inside the block (the same family, the same first `prefix`
    /// bits). An IPv4-mapped IPv6 address (`::ffff:10.0.1.0`) is the IPv4 address to
    /// an IPv4 block, as Go's `net.IPNet.Contains` takes it (`To4`).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(a)) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        ip.is_ipv4() == self.addr.is_ipv4() && masked(ip, self.prefix) == self.network()
    }

    /// Whether `other` is a strict subset of this block (inside it, with a longer
    /// prefix), as a NetworkPolicy's `ipBlock.except` must be.
    pub fn strictly_contains(&self, other: &Cidr) -> bool {
        other.prefix > self.prefix && self.contains(other.addr)
    }
}

/// `ip` with all but its first `prefix` bits zero.
fn masked(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

/// Four decimal octets, each 0-255 with leading zeros allowed.
fn sloppy_v4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_contains() {
        let n = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.0.0.0".parse().unwrap()));
        assert!(n.strictly_contains(&Cidr::parse("10.1.0.0/16").unwrap()));
        assert!(!n.strictly_contains(&Cidr::parse("10.0.0.0/8").unwrap()));
        assert!(!n.strictly_contains(&Cidr::parse("192.168.0.0/16").unwrap()));
        assert!(!n.strictly_contains(&Cidr::parse("fd00::/16").unwrap()));
        // An IPv4-mapped IPv6 block inside an IPv4 one, as Go's Contains sees it
        // (review 24).
        assert!(n.strictly_contains(&Cidr::parse("::ffff:10.0.1.0/120").unwrap()));
        assert_eq!(
            Cidr::parse("010.000.0.1/32").map(|c| c.addr),
            Some("10.0.0.1".parse().unwrap())
        );
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("1.2.3.4".parse().unwrap()));
        assert!(Cidr::parse("fd00::/8").is_some());
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "fd00::/129",
            "x/8",
            "10.0.0.0/+8",
            " 10.0.0.0/8",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}
