import CGanSystem

/// A file written in pieces that appears whole or not at all: bytes go to `path.tmp-PID`; `commit`
/// fsyncs it, renames it over `path` and fsyncs the directory. Dropped without `commit` (an error
/// on the way), the temporary file is removed and `path` keeps its old contents. Streaming writers
/// (gan-gen's `--save-raw`) and whole-file writers (`writeFileAtomically`) share it.
public final class AtomicFile {
  public let path: String
  private let temporaryPath: String
  private var fd: Int32
  /// Bytes written so far.
  public private(set) var size = 0

  public init(path: String) throws(GanError) {
    self.path = path
    temporaryPath = path + ".tmp-\(getpid())"
    fd = gs_open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw GanError.system(path: path, "cannot create \(temporaryPath): ") }
  }

  deinit {
    if fd >= 0 { close(fd); unlink(temporaryPath) }
  }

  public func write(_ bytes: UnsafeRawBufferPointer) throws(GanError) {
    precondition(fd >= 0, "AtomicFile \(path): write after commit")
    var done = 0
    while done < bytes.count {
      let n = CGanSystem.write(fd, bytes.baseAddress! + done, bytes.count - done)
      if n < 0 && gs_errno() == EINTR { continue }
      guard n > 0 else { throw fail("write failed: ") }
      done += n
    }
    size += bytes.count
  }

  public func write(_ bytes: [UInt8]) throws(GanError) {
    // Array's withUnsafeBytes rethrows untyped: carry the typed error out by hand.
    var failure: GanError?
    bytes.withUnsafeBytes { raw in
      do throws(GanError) { try write(raw) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  /// Overwrites bytes already written, from `offset` (a header whose counts are known at the end).
  public func write(_ bytes: [UInt8], at offset: Int) throws(GanError) {
    precondition(fd >= 0, "AtomicFile \(path): write after commit")
    precondition(offset >= 0 && offset + bytes.count <= size, "AtomicFile \(path): overwrite past the end")
    var failed = false
    bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
        if n < 0 && gs_errno() == EINTR { continue }
        guard n > 0 else { failed = true; return }
        done += n
      }
    }
    if failed { throw fail("write failed: ") }
  }

  /// Makes the file appear at `path` (durably, before returning).
  public func commit() throws(GanError) {
    precondition(fd >= 0, "AtomicFile \(path): committed twice")
    guard fsync(fd) == 0 else { throw fail("write failed: ") }
    close(fd)
    fd = -1
    guard rename(temporaryPath, path) == 0 else {
      let e = GanError.system(path: path, "rename failed: ")
      unlink(temporaryPath)
      throw e
    }
    var dir = path
    if let slash = dir.lastIndex(of: "/") { dir = String(dir[..<slash]); if dir.isEmpty { dir = "/" } } else { dir = "." }
    let dfd = gs_open(dir, O_RDONLY, 0)
    if dfd >= 0 { fsync(dfd); close(dfd) }
  }

  private func fail(_ what: String) -> GanError {
    let e = GanError.system(path: path, what)
    close(fd); unlink(temporaryPath)
    fd = -1
    return e
  }
}

/// Writes `bytes` to `path` atomically (see AtomicFile): a crash leaves either the old file or the
/// new one, never half of one.
public func writeFileAtomically(path: String, bytes: [UInt8]) throws(GanError) {
  let file = try AtomicFile(path: path)
  try file.write(bytes)
  try file.commit()
}
