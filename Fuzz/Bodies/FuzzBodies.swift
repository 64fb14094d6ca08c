import GanCommandLine
import GanData
import GanImage
import GanModel
import GanRuntime
import GanTraining

/// The body of every fuzz target, in a library that the normal build compiles and tests: the
/// libFuzzer executables (Fuzz/fuzz-*, tools/fuzz.sh) wrap one body each, and FuzzCorpusTests
/// replays the committed seeds and deterministic mutations of them through the same bodies in
/// tools/test.sh. A body returns nil, or the broken invariant; a trap inside is a finding too.
public enum FuzzBody {
  public typealias Body = (UnsafePointer<UInt8>, Int) -> String?

  /// Target name (as in tools/fuzz.sh and Fuzz/corpus/NAME) and its body.
  public static let all: [(name: String, body: Body)] = [
    ("safetensors", safetensors), ("npy", npy), ("idx", idx), ("json", json), ("image", image),
    ("gan-gen-flags", ganGenFlags), ("gan-train-flags", ganTrainFlags),
  ]

  /// What a libFuzzer entry point returns: 0, after trapping on a broken invariant.
  public static func run(_ body: Body, _ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    if let broken = body(data, count) { preconditionFailure(broken) }
    return 0
  }

  private static func bytes(_ data: UnsafePointer<UInt8>, _ count: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: count))
  }

  /// A trainer of the seed checkpoint's architecture (32x32x1, nz 4, ngf 2, ndf 2, batch 2).
  private static let trainer: GANTrainer = {
    var c = TrainingConfiguration(architecture: try! Architecture(imageSize: 32, nz: 4, ngf: 2, ndf: 2, nc: 1))
    c.batchSize = 2
    c.threads = 1
    return GANTrainer(configuration: c)
  }()

  /// The safetensors reader and everything that reads a model file: fp32 generators, int8
  /// generators (gan-quant's format) and training checkpoints; a generator that loads must run.
  public static func safetensors(_ data: UnsafePointer<UInt8>, _ count: Int) -> String? {
    let path = FuzzInput.file(data, count)
    guard let file = try? SafeTensorsFile(path: path) else { return nil }
    for e in file.entries { _ = file.rawBytes(e).reduce(0, &+) }  // every entry's bytes lie in the map
    if let g = try? openGenerator(path: path, maxBatch: 1, threads: 1) {
      let a = g.architecture
      let z = [Float](repeating: 0.5, count: a.nz)
      var out = [Float](repeating: 0, count: a.imageSize * a.imageSize * a.nc)
      z.withUnsafeBufferPointer { zp in
        out.withUnsafeMutableBufferPointer { g.generate(latents: zp.baseAddress!, count: 1, output: $0.baseAddress!,
                                                        pixels: nil) }
      }
    }
    _ = try? trainer.restore(from: file)
    return nil
  }

  /// The .npy reader: the header parser on the bytes, then each typed reader on the file.
  public static func npy(_ data: UnsafePointer<UInt8>, _ count: Int) -> String? {
    _ = try? NPY.parseHeader(bytes(data, count), path: "input")
    let path = FuzzInput.file(data, count)
    if let (v, shape) = try? NPY.readFloat32(path: path), v.count != shape.reduce(1, *) {
      return "float32: \(v.count) values for shape \(shape)"
    }
    if let (v, shape) = try? NPY.readUInt8(path: path), v.count != shape.reduce(1, *) {
      return "uint8: \(v.count) values for shape \(shape)"
    }
    if let l = try? NPY.readLatents(path: path), l.values.count != l.count * l.nz {
      return "latents: \(l.values.count) values for \(l.count) x \(l.nz)"
    }
    _ = try? NPY.readHeader(path: path)
    return nil
  }

  /// The IDX reader (gzip-compressed or not), as gan-train reads Fashion-MNIST.
  public static func idx(_ data: UnsafePointer<UInt8>, _ count: Int) -> String? {
    guard let images = try? IDX.readImages(path: FuzzInput.file(data, count)) else { return nil }
    for i in images where i.pixels.count != i.width * i.height * i.channels {
      return "IDX image of \(i.width)x\(i.height)x\(i.channels) holds \(i.pixels.count) pixels"
    }
    return nil
  }

  /// The JSON parser (safetensors headers, gan.arch, reports): anything it accepts serializes to
  /// text that parses back to the same value.
  public static func json(_ data: UnsafePointer<UInt8>, _ count: Int) -> String? {
    guard let v = try? JSON.parse(bytes: bytes(data, count)) else { return nil }
    let text = v.serialized
    guard let again = try? JSON.parse(text) else { return "serialized JSON does not parse: \(text)" }
    if again != v { return "JSON round trip changed the value: \(text)" }
    _ = try? Architecture(json: text)
    return nil
  }

  /// The PNG/JPEG decode shim (CGanImageIO over libpng and libjpeg-turbo), gray and RGB, then the
  /// dataset's centre crop and area resize.
  public static func image(_ data: UnsafePointer<UInt8>, _ count: Int) -> String? {
    let path = FuzzInput.file(data, count)
    for channels in [1, 3] {
      guard let img = try? Image.load(path: path, channels: channels) else { continue }
      if img.pixels.count != img.width * img.height * channels {
        return "decoded \(img.width)x\(img.height)x\(channels) holds \(img.pixels.count) values"
      }
      _ = img.centerCropResized(to: 32)
    }
    return nil
  }

  /// gan-gen's flag parsing and validation (the input split at NUL bytes into arguments): every
  /// outcome is options, --help, or a usage error.
  public static func ganGenFlags(_ data: UnsafePointer<UInt8>, _ count: Int) -> String? {
    do {
      guard let options = try GanGenOptions(arguments: FuzzInput.arguments(data, count)) else { return nil }
      try options.validate()
    } catch {
      guard case .usage = error else { return "flag parsing threw a non-usage error: \(error)" }
    }
    return nil
  }

  /// gan-train's flag parsing and validation (swift-argument-parser over GanTrainOptions).
  public static func ganTrainFlags(_ data: UnsafePointer<UInt8>, _ count: Int) -> String? {
    _ = try? GanTrainOptions.parse(FuzzInput.arguments(data, count))
    return nil
  }
}
