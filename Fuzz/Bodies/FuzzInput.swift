import Foundation

/// What every fuzz target shares: the input written to a file (the loaders take paths, as the
/// tools do), and the input split into command-line arguments.
public enum FuzzInput {
  /// One scratch file per process, in /dev/shm where there is one (no disk I/O per execution).
  public static let path: String = {
    let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return dir + "/swift-gan-fuzz-\(getpid())"
  }()

  /// Writes the input to `path` (the same name every time) and returns the path.
  public static func file(_ data: UnsafePointer<UInt8>, _ count: Int, suffix: String = "") -> String {
    let p = path + suffix
    let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(p)")
    var done = 0
    while done < count {
      let n = write(fd, data + done, count - done)
      precondition(n > 0, "cannot write \(p)")
      done += n
    }
    close(fd)
    return p
  }

  /// Arguments: the input split at NUL bytes, each part decoded as UTF-8 (invalid bytes repaired).
  public static func arguments(_ data: UnsafePointer<UInt8>, _ count: Int) -> [String] {
    UnsafeBufferPointer(start: data, count: count).split(separator: 0, omittingEmptySubsequences: false)
      .map { String(decoding: $0, as: UTF8.self) }
  }
}
