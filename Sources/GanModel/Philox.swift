import CGanSystem

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
/// counter-based generator, so stream position i of key k is a pure function of (k, i) and any
/// element can be produced independently (same latent for image i whatever the batch or threads).
public struct Philox4x32: Sendable, Equatable {
  public var key: (UInt32, UInt32)
  /// 128-bit counter (low word first).
  public var counter: (UInt32, UInt32, UInt32, UInt32)

  public init(seed: UInt64, stream: UInt64 = 0) {
    key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
    counter = (0, 0, UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32))
  }

  public static func == (a: Philox4x32, b: Philox4x32) -> Bool {
    a.key == b.key && a.counter == b.counter
  }

  /// The block at `counter` under `key` (ten rounds).
  public static func block(_ c: (UInt32, UInt32, UInt32, UInt32), key k: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32,
      UInt32) {
    var (c0, c1, c2, c3) = c
    var (k0, k1) = k
    for _ in 0..<10 {
      let p0 = UInt64(0xD251_1F53) * UInt64(c0)
      let p1 = UInt64(0xCD9E_8D57) * UInt64(c2)
      let n0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0
      let n1 = UInt32(truncatingIfNeeded: p1)
      let n2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1
      let n3 = UInt32(truncatingIfNeeded: p0)
      (c0, c1, c2, c3) = (n0, n1, n2, n3)
      k0 = k0 &+ 0x9E37_79B9
      k1 = k1 &+ 0xBB67_AE85
    }
    return (c0, c1, c2, c3)
  }

  /// Next 4 words; advances the 64-bit low half of the counter.
  public mutating func nextBlock() -> (UInt32, UInt32, UInt32, UInt32) {
    let r = Philox4x32.block(counter, key: key)
    counter.0 &+= 1
    if counter.0 == 0 { counter.1 &+= 1 }
    return r
  }

  /// Uniform in (0, 1]: 24 random bits, never 0 (safe for log).
  @inline(__always)
  static func unit(_ u: UInt32) -> Float { (Float(u >> 8) + 1) * (1.0 / 16_777_216.0) }

  /// Four N(0, 1) values from one block (Box-Muller on two pairs).
  public mutating func nextNormals() -> (Float, Float, Float, Float) {
    let (a, b, c, d) = nextBlock()
    let (n0, n1) = Philox4x32.boxMuller(Philox4x32.unit(a), Philox4x32.unit(b))
    let (n2, n3) = Philox4x32.boxMuller(Philox4x32.unit(c), Philox4x32.unit(d))
    return (n0, n1, n2, n3)
  }

  @inline(__always)
  static func boxMuller(_ u1: Float, _ u2: Float) -> (Float, Float) {
    let r = (-2 * logf(u1)).squareRoot()
    let t = 2 * Float.pi * u2
    return (r * cosf(t), r * sinf(t))
  }

  /// Fills `out` with N(mean, std) values.
  public mutating func fillNormal(_ out: UnsafeMutableBufferPointer<Float>, mean: Float = 0, std: Float = 1) {
    var i = 0
    while i < out.count {
      let (a, b, c, d) = nextNormals()
      for v in [a, b, c, d] where i < out.count {
        out[i] = mean + std * v
        i += 1
      }
    }
  }

  /// Fills `out` with uniform values in (0, 1] (24 random bits each), four per block.
  public mutating func fillUniform(_ out: UnsafeMutableBufferPointer<Float>) {
    var i = 0
    while i < out.count {
      let (a, b, c, d) = nextBlock()
      for u in [a, b, c, d] where i < out.count {
        out[i] = Philox4x32.unit(u)
        i += 1
      }
    }
  }

  /// Uniform integer in [0, bound).
  public mutating func nextInt(below bound: Int) -> Int {
    precondition(bound > 0)
    let (a, b, _, _) = nextBlock()
    let x = (UInt64(a) << 32) | UInt64(b)
    return Int(x.multipliedFullWidth(by: UInt64(bound)).high)
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
