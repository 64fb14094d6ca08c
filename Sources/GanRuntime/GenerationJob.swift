import CGanSystem
import GanImage
import GanKernels
import GanModel

/// Where a generation job's latents come from. Image i of the job gets latent i.
public enum LatentSource {
  /// latent(seed, firstIndex + i) for i in 0..<count.
  case seed(UInt64, firstIndex: Int, count: Int)
  /// Rows of a (count, nz) matrix, e.g. from a .npy file.
  case rows([Float], count: Int)
  /// `steps` latents from `from` to `to` (nz each), both included: linear or spherical.
  case interpolation(from: [Float], to: [Float], steps: Int, slerp: Bool)

  public var count: Int {
    switch self {
    case .seed(_, _, let n), .rows(_, let n): return n
    case .interpolation(_, _, let steps, _): return steps
    }
  }

  /// Latents first ..< first + count (default: to the end) as an array (count x nz).
  public func latents(nz: Int, first: Int = 0, count: Int? = nil) -> [Float] {
    let n = count ?? self.count - first
    var out = [Float](repeating: 0, count: n * nz)
    out.withUnsafeMutableBufferPointer { fill(first: first, count: n, nz: nz, into: $0.baseAddress!) }
    return out
  }

  /// Latents first ..< first + n into `out` (n x nz).
  func fill(first: Int, count n: Int, nz: Int, into out: UnsafeMutablePointer<Float>) {
    switch self {
    case .seed(let seed, let firstIndex, _):
      for i in 0..<n { latent(seed: seed, index: firstIndex + first + i, into: out + i * nz, nz: nz) }
    case .rows(let values, _):
      values.withUnsafeBufferPointer { v in (out).update(from: v.baseAddress! + first * nz, count: n * nz) }
    case .interpolation(let a, let b, let steps, let slerp):
      Interpolation.fill(out, from: a, to: b, nz: nz, steps: steps, first: first, count: n, slerp: slerp)
    }
  }
}

/// Latent interpolation: linear, or spherical (slerp) as in White 2016 "Sampling Generative Networks".
public enum Interpolation {
  /// Steps first ..< first + count of a `steps`-step walk from a to b (both ends included).
  public static func fill(_ out: UnsafeMutablePointer<Float>, from a: [Float], to b: [Float], nz: Int, steps: Int,
                          first: Int = 0, count: Int? = nil, slerp: Bool) {
    var dot = 0.0, n0 = 0.0, n1 = 0.0
    for i in 0..<nz {
      dot += Double(a[i]) * Double(b[i])
      n0 += Double(a[i] * a[i]); n1 += Double(b[i] * b[i])
    }
    let omega = acos(max(-1, min(1, dot / max((n0 * n1).squareRoot(), 1e-30))))
    for k in 0..<(count ?? steps) {
      let s = first + k
      let t = Double(s) / Double(steps - 1)
      var w0 = 1 - t, w1 = t
      if slerp && sin(omega) > 1e-6 {
        w0 = sin((1 - t) * omega) / sin(omega)
        w1 = sin(t * omega) / sin(omega)
      }
      for i in 0..<nz { out[k * nz + i] = Float(w0 * Double(a[i]) + w1 * Double(b[i])) }
    }
  }
}

/// The class of each image of a job (conditional models).
public enum ClassAssignment: Equatable {
  /// Unconditional models (conditional ones: class 0).
  case none
  /// Every image of class k.
  case fixed(Int)
  /// Image i of the job has class (first + i) mod classes: a function of the image's index, so
  /// image i of seed s is the same whatever --batch or --first-index.
  case cycle(classes: Int, first: Int)
  /// A grid with one row per class: image i has class i / columns.
  case rows(columns: Int)

  /// The class of job image i.
  public func label(_ i: Int) -> Int32 {
    switch self {
    case .none: return 0
    case .fixed(let k): return Int32(k)
    case .cycle(let n, let first): return Int32((first % n + i % n) % n)
    case .rows(let columns): return Int32(i / columns)
    }
  }
}

/// What a generation job writes. Any combination; at least one is expected.
public struct GenerationOutputs {
  /// A folder of PNGs, image_NNNNNN.png, numbered from `firstFileIndex`.
  public var pngFolder: String?
  public var firstFileIndex = 0
  /// One grid PNG with `gridColumns` images per row (torchvision make_grid layout, 2 px padding).
  public var gridPath: String?
  public var gridColumns = 8
  /// The raw outputs as float32 .npy (N, C, H, W) in [-1, 1], PyTorch's layout.
  public var rawPath: String?

  public init(pngFolder: String? = nil, firstFileIndex: Int = 0, gridPath: String? = nil, gridColumns: Int = 8,
              rawPath: String? = nil) {
    self.pngFolder = pngFolder; self.firstFileIndex = firstFileIndex
    self.gridPath = gridPath; self.gridColumns = gridColumns; self.rawPath = rawPath
  }
}

/// Images generated and written a batch at a time: memory is one batch of latents, floats and
/// pixels (plus the grid image, when one is asked for), whatever the count. gan-gen runs one;
/// a server can run one per request.
public final class GenerationJob {
  public let generator: ImageGenerator
  public let latents: LatentSource
  public let classes: ClassAssignment
  public let batch: Int
  /// The largest grid written (bytes of pixels), so an absurd --count fails before it allocates.
  public static let maxGridBytes = 1 << 30

  /// batch: images per generate call (at most generator.maxBatch).
  /// batch: images per generate call (at most generator.maxBatch); classes: conditional models'.
  public init(generator: ImageGenerator, latents: LatentSource, classes: ClassAssignment = .none, batch: Int) {
    precondition(batch > 0 && batch <= generator.maxBatch,
                 "GenerationJob: batch \(batch) outside 1...\(generator.maxBatch)")
    self.generator = generator; self.latents = latents; self.classes = classes; self.batch = batch
  }

  /// Size of the grid image for `count` images of side `size` in `columns` columns.
  public static func gridSize(count: Int, size: Int, columns: Int) -> (width: Int, height: Int) {
    let cols = min(columns, count), rows = (count + cols - 1) / cols
    return (cols * (size + 2) + 2, rows * (size + 2) + 2)
  }

  /// Generates every image and writes `outputs`; `progress(done, total)` after each batch.
  public func run(writing outputs: GenerationOutputs, progress: ((Int, Int) -> Void)? = nil) throws(GanError) {
    let a = generator.architecture, total = latents.count, per = generator.imageElements
    let s = a.imageSize, c = a.nc
    var grid: Image?
    if let path = outputs.gridPath {
      // Each image is at least size^2 pixels of the grid: bound the count before any arithmetic.
      guard total <= GenerationJob.maxGridBytes / (s * s * c),
            case let (w, h) = GenerationJob.gridSize(count: total, size: s, columns: outputs.gridColumns),
            w * h <= GenerationJob.maxGridBytes / c else {
        throw GanError.io(path: path,
                          reason: "a grid of \(total) images of \(s)x\(s) would exceed " +
                                  "\(GenerationJob.maxGridBytes >> 20) MB")
      }
      grid = Image(width: w, height: h, channels: c, fill: 0)
    }
    if let dir = outputs.pngFolder {
      if mkdir(dir, 0o755) != 0 && gs_errno() != EEXIST { throw GanError.system(path: dir,
          "cannot create the folder: ") }
    }
    var raw: AtomicFile?
    if let path = outputs.rawPath {
      let file = try AtomicFile(path: path)
      try file.write(NPY.float32Header(shape: [total, c, s, s]))
      raw = file
    }
    let z = UnsafeMutablePointer<Float>.allocate(capacity: batch * a.nz)
    let floats = UnsafeMutablePointer<Float>.allocate(capacity: batch * per)
    let pixels = UnsafeMutablePointer<UInt8>.allocate(capacity: batch * per)
    let nchw = UnsafeMutablePointer<Float>.allocate(capacity: raw == nil ? 1 : batch * per)
    let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
    defer { z.deallocate(); floats.deallocate(); pixels.deallocate(); nchw.deallocate(); labels.deallocate() }
    var done = 0
    while done < total {
      let n = min(batch, total - done)
      latents.fill(first: done, count: n, nz: a.nz, into: z)
      for i in 0..<n { labels[i] = classes.label(done + i) }
      generator.generate(latents: z, labels: a.isConditional ? UnsafePointer(labels) : nil, count: n,
                         output: raw == nil ? nil : floats, pixels: pixels)
      if let file = raw {
        // NHWC -> NCHW, then little-endian bytes.
        for b in 0..<n { for y in 0..<s { for x in 0..<s { for ch in 0..<c {
          nchw[((b * c + ch) * s + y) * s + x] = floats[((b * s + y) * s + x) * c + ch]
        }}}}
        #if !_endian(little)
        for i in 0..<(n * per) { nchw[i] = Float(bitPattern: nchw[i].bitPattern.littleEndian) }
        #endif
        try file.write(UnsafeRawBufferPointer(start: nchw, count: 4 * n * per))
      }
      if let dir = outputs.pngFolder {
        for b in 0..<n {
          try Image.writePNG(path: dir + "/" + GenerationJob.fileName(outputs.firstFileIndex + done + b),
                             pixels: pixels + b * per, width: s, height: s, channels: c)
        }
      }
      if grid != nil {
        for b in 0..<n { grid!.place(tile: pixels + b * per, size: s, at: done + b, columns: outputs.gridColumns) }
      }
      done += n
      progress?(done, total)
    }
    if let g = grid, let path = outputs.gridPath { try g.writePNG(path: path) }
    try raw?.commit()
  }

  /// image_000042.png (at least six digits).
  public static func fileName(_ i: Int) -> String {
    let s = String(i)
    return "image_" + String(repeating: "0", count: max(0, 6 - s.count)) + s + ".png"
  }
}
