/// One allocation carved into 64-byte aligned views. Built twice: first `Arena.measuring()` runs
/// the same carving code to learn the size, then `Arena(bytes:)` holds the real memory.
public final class Arena {
  public let capacity: Int
  private let base: UnsafeMutableRawPointer?
  private var used = 0
  private let measuring: Bool

  /// zeroed: fill with zeros now (every page becomes resident); otherwise pages stay unbacked
  /// until first written, which keeps a loader's peak memory to what it has filled so far.
  public init(bytes: Int, zeroed: Bool = true) {
    capacity = max(bytes, 64)
    base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    if zeroed { base!.initializeMemory(as: UInt8.self, repeating: 0, count: capacity) }
    measuring = false
  }

  private init(measuringOnly: Void) {
    capacity = Int.max
    base = nil
    measuring = true
  }

  /// An arena that only counts: its pointers must not be used.
  public static func measuring() -> Arena { Arena(measuringOnly: ()) }

  /// Bytes carved so far.
  public var bytesUsed: Int { used }

  public func raw(_ bytes: Int) -> UnsafeMutableRawPointer {
    let start = (used + 63) & ~63
    used = start + max(bytes, 0)
    if measuring { return UnsafeMutableRawPointer(bitPattern: 64)! }
    precondition(used <= capacity, "arena overflow: \(used) > \(capacity) bytes")
    return base! + start
  }

  public func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
    raw(count * 4).assumingMemoryBound(to: Float.self)
  }

  public func doubles(_ count: Int) -> UnsafeMutablePointer<Double> {
    raw(count * 8).assumingMemoryBound(to: Double.self)
  }

  deinit { base?.deallocate() }

  /// Measures `build`, allocates once, then builds for real.
  public static func build<T>(zeroed: Bool = true, _ build: (Arena) -> T) -> (arena: Arena, value: T) {
    let m = Arena.measuring()
    _ = build(m)
    let a = Arena(bytes: m.bytesUsed + 64, zeroed: zeroed)
    return (a, build(a))
  }
}
