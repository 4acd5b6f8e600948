import Engine

/// Where containers on a bridge network reach the host: the network's gateway.
public enum BridgeAddress {
    /// The gateway of `network` (`IPAM.Config[0].Gateway`); Docker 20.10 leaves
    /// it out for the default bridge, whose gateway is then the first address of
    /// its subnet (docker0 is 172.17.0.1 on 172.17.0.0/16).
    public static func gateway(of network: NetworkInspect) -> String? {
        for config in network.ipam?.config ?? [] {
            if let gateway = config.gateway, !gateway.isEmpty { return gateway }
            if let subnet = config.subnet, let first = firstHost(ofIPv4Subnet: subnet) { return first }
        }
        return nil
    }

    /// The first host address of an IPv4 CIDR (`172.17.0.0/16` → `172.17.0.1`).
    public static func firstHost(ofIPv4Subnet cidr: String) -> String? {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let prefix = Int(parts[1]), (0...30).contains(prefix) else { return nil }
        let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 <= 255 }) else { return nil }
        let address = octets.reduce(0) { $0 << 8 | $1 }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - UInt32(prefix))
        let first = (address & mask) + 1
        return [24, 16, 8, 0].map { String((first >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }
}
