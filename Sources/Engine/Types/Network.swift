/// `GET /networks/{id}` (the fields tandem uses).
public struct NetworkInspect: Codable, Sendable, Equatable {
    public var name: String
    public var id: String
    public var driver: String?
    public var scope: String?
    public var ipam: IPAM?
    public var containers: [String: Member]?

    public struct IPAM: Codable, Sendable, Equatable {
        public var driver: String?
        public var config: [Config]?
        public struct Config: Codable, Sendable, Equatable {
            public var subnet: String?
            public var gateway: String?
            enum CodingKeys: String, CodingKey {
                case subnet = "Subnet"
                case gateway = "Gateway"
            }
        }
        enum CodingKeys: String, CodingKey {
            case driver = "Driver"
            case config = "Config"
        }
    }

    public struct Member: Codable, Sendable, Equatable {
        public var name: String?
        public var ipv4Address: String?
        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case ipv4Address = "IPv4Address"
        }
    }

    /// Where containers on this network reach the host: `IPAM.Config[].Gateway`, or,
    /// when the engine leaves it out (Docker 20.10's default bridge reports only the
    /// subnet), the first host address of the IPv4 subnet, which is the bridge's own
    /// address by the engine's allocation rule.
    public var gateway: String? {
        if let explicit = ipam?.config?.lazy.compactMap(\.gateway).first(where: { !$0.isEmpty }) { return explicit }
        guard let subnet = ipam?.config?.lazy.compactMap(\.subnet).first(where: { $0.contains(".") }) else { return nil }
        return Self.firstHost(ofSubnet: subnet)
    }

    /// `172.17.0.0/16` → `172.17.0.1`.
    static func firstHost(ofSubnet subnet: String) -> String? {
        let parts = subnet.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), bits >= 0, bits <= 30 else { return nil }
        let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        let address = octets.reduce(0) { $0 << 8 | $1 }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
        let host = (address & mask) + 1
        return [24, 16, 8, 0].map { String((host >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case id = "Id"
        case driver = "Driver"
        case scope = "Scope"
        case ipam = "IPAM"
        case containers = "Containers"
    }
}
