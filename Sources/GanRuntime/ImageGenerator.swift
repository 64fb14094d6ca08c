import GanKernels
import GanModel

/// A planned generator (fp32 or int8): same calls, no allocation per `generate`.
public protocol ImageGenerator: AnyObject {
  var architecture: Architecture { get }
  var maxBatch: Int { get }
  var threads: Int { get }
  /// Floats per image of the output (S * S * nc), NHWC.
  var imageElements: Int { get }
  /// Kernels in use, for --bench.
  var kernelDescription: String { get }
  /// A conditional model's class names (empty for unconditional ones).
  var classNames: [String] { get }
  /// `count` images (<= maxBatch) from latents (count, nz) and, for conditional models, their
  /// classes (count values in 0 ..< classes; nil: class 0): NHWC floats in [-1, 1] and/or pixels.
  func generate(latents: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, count: Int,
                output: UnsafeMutablePointer<Float>?, pixels: UnsafeMutablePointer<UInt8>?)
}

extension ImageGenerator {
  /// An unconditional call (conditional models: class 0).
  public func generate(latents: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>?,
                       pixels: UnsafeMutablePointer<UInt8>?) {
    generate(latents: latents, labels: nil, count: count, output: output, pixels: pixels)
  }
}

extension GeneratorRuntime: ImageGenerator {}

/// Opens a generator file: an int8 file from gan-quant (metadata `gan.format` = Int8Format.tag)
/// or an fp32 one (gan-train or PyTorch). `winograd`: Winograd deconvolutions (fp32: F(4x4, 2x2)
/// or F(2x2, 2x2) per layer shape; int8: the exact F(2x2, 2x2) where the int8 variant has no dot
/// product instruction).
public func openGenerator(path: String, maxBatch: Int, threads: Int,
                          winograd: Bool = false) throws(GanError) -> ImageGenerator {
  let file = try SafeTensorsFile(path: path)
  if file.metadata["gan.format"] == Int8Format.tag {
    return try Int8GeneratorRuntime(file: file, maxBatch: maxBatch, threads: threads, winograd: winograd)
  }
  return try GeneratorRuntime(file: file, maxBatch: maxBatch, threads: threads, winograd: winograd)
}
