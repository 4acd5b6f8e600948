import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The exclusive lock of a state folder (`flock` on `.tandem/controller.lock`):
/// one controller per folder. It is taken before the controller touches
/// anything (containers, images, the database), and the kernel releases it
/// when the process ends, however it ends.
public final class StateLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Takes the lock, or throws ``StateLockError/held`` at once when another
    /// process holds it.
    public static func acquire(_ directory: StateDirectory) throws(StateLockError) -> StateLock {
        let path = directory.lockFile
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .failed(path: path, errno: errno) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK { throw .held(path: path) }
            throw .failed(path: path, errno: code)
        }
        _ = fchmod(descriptor, 0o600)
        return StateLock(descriptor: descriptor)
    }

    /// Releases the lock (also done when the process ends).
    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

public enum StateLockError: Error, CustomStringConvertible {
    /// Another controller holds the folder.
    case held(path: String)
    case failed(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .held(let path): "another controller holds \(path)"
        case .failed(let path, let errno): "cannot lock \(path): \(String(cString: strerror(errno)))"
        }
    }
}
