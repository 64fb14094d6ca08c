import Dispatch
import GanModel

/// Sliced Wasserstein Distance between two image sets, as ProGAN measures it (Karras et al. 2018;
/// DESIGN.md section 8): per level of a Laplacian pyramid (5x5 binomial, reflect-101 borders) down
/// to 16 px, 7x7x3 patches at given centres, each set normalized by its own per-channel mean and
/// std, projected on unit directions, sorted, mean absolute difference x 1e3.
public enum SlicedWasserstein {
  public static let patch = 7
  public static let descriptorSize = 3 * 7 * 7

  /// Pyramid levels of a size-S image: S, S/2, ... while >= 16.
  public static func levelCount(size: Int) -> Int {
    var n = 0, s = size
    while s >= 16 { n += 1; s /= 2 }
    return n
  }

  // Reflect-101 index (scipy mode="mirror").
  @inline(__always) static func mirror(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    var j = i
    while j < 0 || j >= n { j = j < 0 ? -j : 2 * (n - 1) - j }
    return j
  }

  /// Separable 5-tap filter [1, 4, 6, 4, 1] * gain / 16 per axis over an (s x s) plane.
  static func blur(_ x: [Float], size s: Int, gain: Float) -> [Float] {
    let k: [Float] = [1, 4, 6, 4, 1].map { $0 * gain / 16 }
    var rows = [Float](repeating: 0, count: s * s), out = rows
    for y in 0..<s { for xx in 0..<s {
      var a: Float = 0
      for t in 0..<5 { a += k[t] * x[y * s + mirror(xx + t - 2, s)] }
      rows[y * s + xx] = a
    }}
    for y in 0..<s { for xx in 0..<s {
      var a: Float = 0
      for t in 0..<5 { a += k[t] * rows[mirror(y + t - 2, s) * s + xx] }
      out[y * s + xx] = a
    }}
    return out
  }

  /// Laplacian pyramid of one channel plane (s x s, 0...255 units): level i = G_i - up(G_{i+1}),
  /// the last level the low-pass G_{L-1}.
  public static func pyramid(_ plane: [Float], size: Int) -> [[Float]] {
    let levels = levelCount(size: size)
    var gauss = [plane], s = size
    for _ in 1..<max(levels, 1) {
      let b = blur(gauss.last!, size: s, gain: 1)
      let h = s / 2
      var d = [Float](repeating: 0, count: h * h)
      for y in 0..<h { for x in 0..<h { d[y * h + x] = b[(2 * y) * s + 2 * x] } }
      gauss.append(d); s = h
    }
    var out: [[Float]] = []
    s = size
    for i in 0..<levels {
      if i == levels - 1 { out.append(gauss[i]); break }
      let h = s / 2
      var z = [Float](repeating: 0, count: s * s)
      for y in 0..<h { for x in 0..<h { z[(2 * y) * s + 2 * x] = gauss[i + 1][y * h + x] } }
      // Zero insertion keeps a quarter of the samples: the filter's gain is 4 (2 per axis).
      let up = blur(z, size: s, gain: 2)
      out.append(zip(gauss[i], up).map { $0 - $1 })
      s = h
    }
    return out
  }

  /// Descriptors of `count` images (uint8 NHWC, 1 channel tiled to 3, or 3) at the given centres:
  /// centres[(image * perImage + p) * 2 + {0, 1}] = (y, x) per level, in [3, S_level - 3).
  /// Returns per level (count * perImage) x 147 floats, each (channel, dy, dx) major to minor.
  public static func descriptors(images: UnsafePointer<UInt8>, count: Int, size: Int, channels: Int,
                                 perImage: Int, centres: [[Int32]]) -> [[Float]] {
    let levels = levelCount(size: size)
    var out = (0..<levels).map { _ in [Float](repeating: 0, count: count * perImage * descriptorSize) }
    for n in 0..<count {
      var planes: [[[Float]]] = []  // [channel][level][pixels]
      for c in 0..<3 {
        let src = channels == 1 ? 0 : c
        var p = [Float](repeating: 0, count: size * size)
        for e in 0..<(size * size) { p[e] = Float(images[(n * size * size + e) * channels + src]) }
        planes.append(pyramid(p, size: size))
      }
      for l in 0..<levels {
        let s = size >> l
        for q in 0..<perImage {
          let cy = Int(centres[l][(n * perImage + q) * 2]), cx = Int(centres[l][(n * perImage + q) * 2 + 1])
          let base = (n * perImage + q) * descriptorSize
          for c in 0..<3 { for dy in 0..<patch { for dx in 0..<patch {
            out[l][base + (c * patch + dy) * patch + dx] = planes[c][l][(cy - 3 + dy) * s + (cx - 3 + dx)]
          }}}
        }
      }
    }
    return out
  }

  /// Normalizes descriptors (rows x 147) by their own per-channel mean and std (ddof 0).
  public static func normalize(_ d: inout [Float]) {
    let rows = d.count / descriptorSize, per = patch * patch
    for c in 0..<3 {
      var sum = 0.0, sq = 0.0
      for r in 0..<rows { for k in 0..<per { let v = Double(d[r * descriptorSize + c * per + k]); sum += v; sq += v * v } }
      let n = Double(rows * per), mean = sum / n
      let std = max((sq / n - mean * mean).squareRoot(), 1e-12)
      for r in 0..<rows { for k in 0..<per {
        let i = r * descriptorSize + c * per + k
        d[i] = Float((Double(d[i]) - mean) / std)
      }}
    }
  }

  /// SWD x 1e3 between two normalized descriptor sets of equal size along unit `directions`
  /// (ndir x 147): per direction the sorted projections' mean absolute difference, averaged.
  /// Directions are split over `threads` workers; each direction's term is kept apart and the
  /// terms are summed in order, so the result does not depend on the thread count.
  public static func distance(_ a: [Float], _ b: [Float], directions: [Float], threads: Int = 1) -> Double {
    precondition(a.count == b.count && a.count % descriptorSize == 0)
    let rows = a.count / descriptorSize, ndir = directions.count / descriptorSize
    var terms = [Double](repeating: 0, count: ndir)
    let workers = max(1, min(threads, ndir))
    terms.withUnsafeMutableBufferPointer { out in
      let outBase = out.baseAddress!
      a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in directions.withUnsafeBufferPointer { dir in
        let (ab, bb, db) = (ap.baseAddress!, bp.baseAddress!, dir.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
          var pa = [Float](repeating: 0, count: rows), pb = pa
          for d in stride(from: w, to: ndir, by: workers) {
            let v = db + d * descriptorSize
            for r in 0..<rows {
              pa[r] = dot147(ab + r * descriptorSize, v)
              pb[r] = dot147(bb + r * descriptorSize, v)
            }
            pa.sort(); pb.sort()
            var s = 0.0
            for r in 0..<rows { s += Double(abs(pa[r] - pb[r])) }
            outBase[d] = s / Double(rows)
          }
        }
      }}}
    }
    return terms.reduce(0, +) / Double(ndir) * 1e3
  }

  /// 147-element dot product: nine SIMD16 chunks and a scalar tail of 3.
  @inline(__always) static func dot147(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    var acc = SIMD16<Float>(repeating: 0)
    for c in 0..<9 {
      acc += UnsafeRawPointer(x + 16 * c).loadUnaligned(as: SIMD16<Float>.self)
        * UnsafeRawPointer(y + 16 * c).loadUnaligned(as: SIMD16<Float>.self)
    }
    return acc.sum() + x[144] * y[144] + x[145] * y[145] + x[146] * y[146]
  }

  /// Per-level SWD between two image sets of equal count, and their mean: centres and unit
  /// directions drawn from Philox (`seed`), the same for both sets.
  public static func evaluate(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int, size: Int, channels: Int,
                              perImage: Int = 128, directions ndir: Int = 512, seed: UInt64 = 0) -> (levels: [Double], mean: Double) {
    Reference(images: a, count: count, size: size, channels: channels, perImage: perImage, directions: ndir, seed: seed)
      .distance(to: b)
  }
}

extension SlicedWasserstein {
  /// A real image set prepared once for repeated comparisons (gan-train every N iterations): its
  /// normalized descriptors per level, the patch centres (the same for the compared sets) and
  /// the unit directions, all drawn from Philox with `seed`.
  public final class Reference {
    public let count: Int, size: Int, channels: Int, perImage: Int
    /// Workers for the projections and sorts.
    public var threads = 1
    let centres: [[Int32]]
    let directions: [Float]
    let real: [[Float]]

    public init(images: UnsafePointer<UInt8>, count: Int, size: Int, channels: Int, perImage: Int = 128,
                directions ndir: Int = 512, seed: UInt64 = 0) {
      self.count = count; self.size = size; self.channels = channels; self.perImage = perImage
      var rng = Philox4x32(seed: seed, stream: 0x5D)
      centres = (0..<levelCount(size: size)).map { l in
        (0..<(2 * count * perImage)).map { _ in Int32(3 + rng.nextInt(below: (size >> l) - 6)) }
      }
      var dirs = [Float](repeating: 0, count: ndir * descriptorSize)
      dirs.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
      for d in 0..<ndir {
        var n: Float = 0
        for k in 0..<descriptorSize { n += dirs[d * descriptorSize + k] * dirs[d * descriptorSize + k] }
        for k in 0..<descriptorSize { dirs[d * descriptorSize + k] /= n.squareRoot() }
      }
      directions = dirs
      var r = descriptors(images: images, count: count, size: size, channels: channels, perImage: perImage, centres: centres)
      for l in r.indices { normalize(&r[l]) }
      real = r
    }

    /// Per-level SWD x 1e3 of `images` (same count, size and channels) against the reference,
    /// and the mean over levels.
    public func distance(to images: UnsafePointer<UInt8>) -> (levels: [Double], mean: Double) {
      var fake = descriptors(images: images, count: count, size: size, channels: channels, perImage: perImage, centres: centres)
      var out: [Double] = []
      for l in fake.indices {
        normalize(&fake[l])
        out.append(SlicedWasserstein.distance(real[l], fake[l], directions: directions, threads: threads))
      }
      return (out, out.reduce(0, +) / Double(max(out.count, 1)))
    }
  }
}
