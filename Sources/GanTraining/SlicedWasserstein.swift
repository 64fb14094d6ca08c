import GanKernels
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
  static func mirror(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    var j = i
    while j < 0 || j >= n { j = j < 0 ? -j : 2 * (n - 1) - j }
    return j
  }

  /// Offsets of the levels in one channel's flat pyramid: level l, (S >> l)^2 floats, starts at
  /// offsets[l]; offsets[levels] is the total.
  static func levelOffsets(size: Int) -> [Int] {
    var offsets = [0]
    for l in 0..<levelCount(size: size) { offsets.append(offsets[l] + (size >> l) * (size >> l)) }
    return offsets
  }

  /// Scratch floats `pyramid(_:size:into:scratch:)` needs for an S x S plane.
  static func pyramidScratch(size: Int) -> Int { 4 * size * size + 5 * size }

  /// Separable 5-tap filter [1, 4, 6, 4, 1] * gain / 16 per axis over an (s x s) plane, x to out,
  /// through rows (s x s); taps[j * 5 + t] is the mirrored index of j + t - 2.
  static func blur(_ x: UnsafePointer<Float>, size s: Int, gain: Float, taps: UnsafePointer<Int32>,
                   rows: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
    let k0 = gain / 16, k1 = 4 * gain / 16, k2 = 6 * gain / 16
    let k = (k0, k1, k2, k1, k0)
    for y in 0..<s {
      let row = x + y * s
      for xx in 0..<s {
        let t = taps + xx * 5
        var a: Float = 0
        a += k.0 * row[Int(t[0])]; a += k.1 * row[Int(t[1])]; a += k.2 * row[Int(t[2])]
        a += k.3 * row[Int(t[3])]; a += k.4 * row[Int(t[4])]
        rows[y * s + xx] = a
      }
    }
    for y in 0..<s {
      let t = taps + y * 5
      let r0 = rows + Int(t[0]) * s, r1 = rows + Int(t[1]) * s, r2 = rows + Int(t[2]) * s
      let r3 = rows + Int(t[3]) * s, r4 = rows + Int(t[4]) * s
      for xx in 0..<s {
        var a: Float = 0
        a += k.0 * r0[xx]; a += k.1 * r1[xx]; a += k.2 * r2[xx]; a += k.3 * r3[xx]; a += k.4 * r4[xx]
        out[y * s + xx] = a
      }
    }
  }

  /// Laplacian pyramid of one channel plane (S x S, 0...255 units) into `out` (levelOffsets
  /// layout): level i = G_i - up(G_{i+1}), the last level the low-pass G_{L-1}. scratch holds
  /// pyramidScratch(size:) floats.
  static func pyramid(_ plane: UnsafePointer<Float>, size: Int, into out: UnsafeMutablePointer<Float>,
                      scratch: UnsafeMutablePointer<Float>) {
    let levels = levelCount(size: size), offsets = levelOffsets(size: size)
    let area = size * size
    let gauss = scratch, next = scratch + area, work = scratch + 2 * area, rows = scratch + 3 * area
    let taps = UnsafeMutableRawPointer(scratch + 4 * area).assumingMemoryBound(to: Int32.self)
    gauss.update(from: plane, count: area)
    var s = size
    for i in 0..<levels {
      if i == levels - 1 { (out + offsets[i]).update(from: gauss, count: s * s); break }
      for j in 0..<s { for t in 0..<5 { taps[j * 5 + t] = Int32(mirror(j + t - 2, s)) } }
      let h = s / 2
      blur(gauss, size: s, gain: 1, taps: taps, rows: rows, out: work)
      for y in 0..<h { for x in 0..<h { next[y * h + x] = work[(2 * y) * s + 2 * x] } }
      work.update(repeating: 0, count: s * s)
      for y in 0..<h { for x in 0..<h { work[(2 * y) * s + 2 * x] = next[y * h + x] } }
      // Zero insertion keeps a quarter of the samples: the filter's gain is 4 (2 per axis).
      let level = out + offsets[i]
      blur(work, size: s, gain: 2, taps: taps, rows: rows, out: level)
      for e in 0..<(s * s) { level[e] = gauss[e] - level[e] }
      gauss.update(from: next, count: h * h)
      s = h
    }
  }

  /// The Laplacian pyramid of one plane as one array per level (tests and tools).
  public static func pyramid(_ plane: [Float], size: Int) -> [[Float]] {
    let offsets = levelOffsets(size: size)
    var flat = [Float](repeating: 0, count: offsets.last!)
    var scratch = [Float](repeating: 0, count: pyramidScratch(size: size))
    plane.withUnsafeBufferPointer { p in flat.withUnsafeMutableBufferPointer { f in
      scratch.withUnsafeMutableBufferPointer { pyramid(p.baseAddress!, size: size, into: f.baseAddress!,
                                                       scratch: $0.baseAddress!) }
    }}
    return (0..<(offsets.count - 1)).map { Array(flat[offsets[$0]..<offsets[$0 + 1]]) }
  }

  /// Descriptors of `count` images (uint8 NHWC, 1 channel tiled to 3, or 3) at the given centres:
  /// centres[(image * perImage + p) * 2 + {0, 1}] = (y, x) per level, in [3, S_level - 3).
  /// Returns per level (count * perImage) x 147 floats, each (channel, dy, dx) major to minor.
  public static func descriptors(images: UnsafePointer<UInt8>, count: Int, size: Int, channels: Int,
                                 perImage: Int, centres: [[Int32]]) -> [[Float]] {
    let levels = levelCount(size: size), offsets = levelOffsets(size: size), area = size * size
    var out = (0..<levels).map { _ in [Float](repeating: 0, count: count * perImage * descriptorSize) }
    // Per image: the three planes, then their pyramids (channel-major), then the pyramid scratch.
    let perChannel = offsets[levels]
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 3 * area + 3 * perChannel + pyramidScratch(size: size))
    defer { buffer.deallocate() }
    let planes = buffer, pyramids = buffer + 3 * area, scratch = pyramids + 3 * perChannel
    for n in 0..<count {
      let image = images + n * area * channels
      for c in 0..<3 {
        let src = channels == 1 ? 0 : c, plane = planes + c * area
        for e in 0..<area { plane[e] = Float(image[e * channels + src]) }
        pyramid(plane, size: size, into: pyramids + c * perChannel, scratch: scratch)
      }
      for l in 0..<levels {
        let s = size >> l
        centres[l].withUnsafeBufferPointer { centre in out[l].withUnsafeMutableBufferPointer { o in
          for q in 0..<perImage {
            let cy = Int(centre[(n * perImage + q) * 2]), cx = Int(centre[(n * perImage + q) * 2 + 1])
            let row = o.baseAddress! + (n * perImage + q) * descriptorSize
            for c in 0..<3 {
              let level = pyramids + c * perChannel + offsets[l]
              for dy in 0..<patch {
                (row + (c * patch + dy) * patch).update(from: level + (cy - 3 + dy) * s + (cx - 3), count: patch)
              }
            }
          }
        }}
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
  /// Through gk_f32_swd (threads split directions; the result does not depend on their count);
  /// `workspace`, when given, holds SlicedWassersteinKernel.workspaceBytes for these rows.
  public static func distance(_ a: [Float], _ b: [Float], directions: [Float], threads: Int = 1,
                              workspace: UnsafeMutableRawPointer? = nil) -> Double {
    precondition(a.count == b.count && a.count % descriptorSize == 0)
    let rows = a.count / descriptorSize, ndir = directions.count / descriptorSize
    let bytes = SlicedWassersteinKernel.workspaceBytes(rows: rows, dimension: descriptorSize, threads: threads)
    let own = workspace == nil ? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) : nil
    defer { own?.deallocate() }
    var terms = [Double](repeating: 0, count: ndir)
    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in directions.withUnsafeBufferPointer { dir in
      terms.withUnsafeMutableBufferPointer { t in
        SlicedWassersteinKernel.terms(ap.baseAddress!, bp.baseAddress!, rows: rows, dimension: descriptorSize,
                                      directions: dir.baseAddress!, count: ndir, into: t.baseAddress!,
                                      workspace: workspace ?? own!, threads: threads)
      }
    }}}
    return terms.reduce(0, +) / Double(ndir) * 1e3
  }

  /// Per-level SWD between two image sets of equal count, and their mean: centres and unit
  /// directions drawn from Philox (`seed`), the same for both sets.
  public static func evaluate(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int, size: Int,
                              channels: Int,
                              perImage: Int = 128, directions ndir: Int = 512, seed: UInt64 = 0) -> (levels: [Double],
                                  mean: Double) {
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
    /// The kernel's workspace, allocated at the first distance for the thread count then set.
    private var workspace: UnsafeMutableRawPointer?
    private var workspaceThreads = 0

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
      var r = descriptors(images: images, count: count, size: size, channels: channels, perImage: perImage,
                          centres: centres)
      for l in r.indices { normalize(&r[l]) }
      real = r
    }

    deinit { workspace?.deallocate() }

    /// Per-level SWD x 1e3 of `images` (same count, size and channels) against the reference,
    /// and the mean over levels.
    public func distance(to images: UnsafePointer<UInt8>) -> (levels: [Double], mean: Double) {
      var fake = descriptors(images: images, count: count, size: size, channels: channels, perImage: perImage,
                             centres: centres)
      if workspace == nil || workspaceThreads != threads {
        workspace?.deallocate()
        let rows = count * perImage
        workspace = UnsafeMutableRawPointer.allocate(
          byteCount: SlicedWassersteinKernel.workspaceBytes(rows: rows, dimension: descriptorSize, threads: threads),
          alignment: 64)
        workspaceThreads = threads
      }
      var out: [Double] = []
      for l in fake.indices {
        normalize(&fake[l])
        out.append(SlicedWasserstein.distance(real[l], fake[l], directions: directions, threads: threads,
                                              workspace: workspace))
      }
      return (out, out.reduce(0, +) / Double(max(out.count, 1)))
    }
  }
}
