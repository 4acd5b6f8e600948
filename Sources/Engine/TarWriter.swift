import Foundation

/// A minimal ustar writer for build contexts. Names longer than ustar's 100-byte
/// field (or link targets longer than 100 bytes) get a PAX extended header
/// (`typeflag 'x'`) carrying `path=` / `linkpath=`, which GNU tar, bsdtar and the
/// engine all read.
public enum TarWriter {
    public enum EntryKind: Sendable {
        case file(size: Int64)
        case directory
        case symlink(target: String)
    }

    /// The header block(s) of one entry: a PAX header when needed, then the ustar header.
    public static func header(path: String, kind: EntryKind, mode: Int, modificationTime: Int64 = 0) -> [UInt8] {
        var name = path
        if case .directory = kind, !name.hasSuffix("/") { name += "/" }
        var pax: [(String, String)] = []
        var linkTarget = ""
        if case .symlink(let target) = kind { linkTarget = target }
        if name.utf8.count > 100 { pax.append(("path", name)) }
        if linkTarget.utf8.count > 100 { pax.append(("linkpath", linkTarget)) }

        var out: [UInt8] = []
        if !pax.isEmpty {
            var records: [UInt8] = []
            for (key, value) in pax { records += paxRecord(key: key, value: value) }
            out += ustarHeader(
                name: "PaxHeaders/" + String(shortened(name).suffix(80)), size: Int64(records.count), mode: 0o644,
                mtime: modificationTime, typeflag: UInt8(ascii: "x"), linkname: "")
            out += records
            out += padding(for: Int64(records.count))
        }
        let size: Int64
        let typeflag: UInt8
        switch kind {
        case .file(let s):
            size = s
            typeflag = UInt8(ascii: "0")
        case .directory:
            size = 0
            typeflag = UInt8(ascii: "5")
        case .symlink:
            size = 0
            typeflag = UInt8(ascii: "2")
        }
        out += ustarHeader(
            name: shortened(name), size: size, mode: mode, mtime: modificationTime, typeflag: typeflag,
            linkname: String(decoding: linkTarget.utf8.prefix(100), as: UTF8.self))
        return out
    }

    /// Zero bytes that round a `size`-byte payload up to the 512-byte block.
    public static func padding(for size: Int64) -> [UInt8] {
        let remainder = Int(size % 512)
        return remainder == 0 ? [] : [UInt8](repeating: 0, count: 512 - remainder)
    }

    /// The two zero blocks that end an archive.
    public static let trailer = [UInt8](repeating: 0, count: 1024)

    /// A PAX record: `"<length> <key>=<value>\n"`, where length counts itself.
    static func paxRecord(key: String, value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).utf8.count + body.utf8.count != length {
            length = String(length).utf8.count + body.utf8.count
        }
        return Array((String(length) + body).utf8)
    }

    /// A name that fits the 100-byte field (the PAX header carries the full one).
    static func shortened(_ name: String) -> String {
        guard name.utf8.count > 100 else { return name }
        return String(decoding: name.utf8.suffix(100), as: UTF8.self)
    }

    static func ustarHeader(name: String, size: Int64, mode: Int, mtime: Int64, typeflag: UInt8, linkname: String) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: some Collection<UInt8>, at offset: Int, max: Int) {
            for (i, b) in bytes.prefix(max).enumerated() { block[offset + i] = b }
        }
        func octal(_ value: Int64, width: Int) -> [UInt8] {
            // width-1 digits then NUL.
            var digits = String(value, radix: 8)
            while digits.count < width - 1 { digits = "0" + digits }
            return Array(digits.utf8.suffix(width - 1)) + [0]
        }
        put(name.utf8, at: 0, max: 100)
        put(octal(Int64(mode & 0o7777), width: 8), at: 100, max: 8)
        put(octal(0, width: 8), at: 108, max: 8)  // uid
        put(octal(0, width: 8), at: 116, max: 8)  // gid
        if size > 0o77777777777 {
            // base-256 for sizes ≥ 8 GiB
            var v = size
            var field = [UInt8](repeating: 0, count: 12)
            for i in stride(from: 11, through: 1, by: -1) {
                field[i] = UInt8(v & 0xFF)
                v >>= 8
            }
            field[0] = 0x80
            put(field, at: 124, max: 12)
        } else {
            put(octal(size, width: 12), at: 124, max: 12)
        }
        put(octal(mtime, width: 12), at: 136, max: 12)
        put([UInt8](repeating: UInt8(ascii: " "), count: 8), at: 148, max: 8)
        block[156] = typeflag
        put(linkname.utf8, at: 157, max: 100)
        put(Array("ustar".utf8) + [0], at: 257, max: 6)
        put(Array("00".utf8), at: 263, max: 2)
        put(Array("root".utf8), at: 265, max: 32)
        put(Array("root".utf8), at: 297, max: 32)
        let sum = block.reduce(0) { $0 + Int($1) }
        var checksum = String(sum, radix: 8)
        while checksum.count < 6 { checksum = "0" + checksum }
        put(Array(checksum.utf8) + [0, UInt8(ascii: " ")], at: 148, max: 8)
        return block
    }

    /// One thing found in a context folder.
    struct Entry {
        var relativePath: String
        var url: URL
        var kind: EntryKind
        var mode: Int
        var mtime: Int64
    }

    /// Walks `directory` (sorted, so archives are reproducible), without following symlinks.
    static func entries(of directory: URL) throws -> [Entry] {
        let fm = FileManager.default
        var result: [Entry] = []
        func walk(_ url: URL, _ prefix: String) throws {
            let names = try fm.contentsOfDirectory(atPath: url.path).sorted()
            for name in names {
                let child = url.appendingPathComponent(name)
                let relative = prefix.isEmpty ? name : prefix + "/" + name
                let attributes = try fm.attributesOfItem(atPath: child.path)
                let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o644
                let mtime = Int64((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
                let type = attributes[.type] as? FileAttributeType
                if type == .typeSymbolicLink {
                    let target = try fm.destinationOfSymbolicLink(atPath: child.path)
                    result.append(Entry(relativePath: relative, url: child, kind: .symlink(target: target), mode: mode, mtime: mtime))
                } else if type == .typeDirectory {
                    result.append(Entry(relativePath: relative, url: child, kind: .directory, mode: mode, mtime: mtime))
                    try walk(child, relative)
                } else if type == .typeRegular {
                    let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
                    result.append(Entry(relativePath: relative, url: child, kind: .file(size: size), mode: mode, mtime: mtime))
                }
                // sockets, fifos, devices: skipped.
            }
        }
        try walk(directory, "")
        return result
    }

    /// Streams a tar of `directory` through `write`, reading files in 256 KiB pieces,
    /// so the archive is never held in memory whole.
    public static func archive(
        directory: URL, write: (_ bytes: [UInt8]) async throws -> Void
    ) async throws {
        for entry in try entries(of: directory) {
            try await write(header(path: entry.relativePath, kind: entry.kind, mode: entry.mode, modificationTime: entry.mtime))
            guard case .file(let size) = entry.kind else { continue }
            let handle = try FileHandle(forReadingFrom: entry.url)
            defer { try? handle.close() }
            var remaining = size
            while remaining > 0 {
                let piece = try handle.read(upToCount: Int(min(remaining, 256 << 10))) ?? Data()
                if piece.isEmpty {
                    // The file shrank while we read it: pad with zeros to the size announced.
                    try await write([UInt8](repeating: 0, count: Int(remaining)))
                    break
                }
                remaining -= Int64(piece.count)
                try await write(Array(piece))
            }
            try await write(padding(for: size))
        }
        try await write(trailer)
    }

    /// The whole archive in memory (tests, small contexts).
    public static func archive(directory: URL) async throws -> [UInt8] {
        var out: [UInt8] = []
        try await archive(directory: directory) { out += $0 }
        return out
    }
}
