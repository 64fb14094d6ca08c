import Foundation
import GanKernels
import GanModel
import GanRuntime
import GanTraining

public struct QuantizationOptions: Sendable {
  /// Calibration batches of 64 latents drawn from N(0, I) (no dataset).
  public var calibrationBatches = 8
  public var method: CalibrationMethod = .mse
  /// For `.percentile`.
  public var percentile = 99.99
  /// Layers (0-based) kept in fp32.
  public var keepFP32: Set<Int> = []
  /// BatchNorm population statistics re-estimated over this many batches of 64 latents before
  /// folding (0: keep the file's running statistics).
  public var bnReestimationBatches = 50
  /// Seed of the calibration, re-estimation and evaluation latents.
  public var seed: UInt64 = 0
  /// Fixed latents the report compares int8 and fp32 over.
  public var evaluationLatents = 256
  public var threads = 1
  public var log: @Sendable (String) -> Void = { _ in }
  public init() {}
}

public struct LayerReport: Sendable {
  public var index: Int
  public var name: String
  public var int8: Bool
  /// Scale of the layer's input codes (0 for an fp32 layer).
  public var inputScale: Float
  /// Clipping threshold of the input (the largest value calibration saw, for comparison).
  public var inputThreshold: Float, inputMaximum: Float
  /// SQNR of this layer's output in the int8 network against the fp32 network, over the
  /// evaluation latents (errors accumulated through the layers before it).
  public var sqnrDB: Double
}

public struct QuantizationReport: Sendable {
  public var input: String, output: String
  public var architecture: Architecture
  public var method: CalibrationMethod
  public var percentile: Double
  public var calibrationLatents: Int
  public var evaluationLatents: Int
  public var layers: [LayerReport]
  public var psnrDB: Double
  public var ssim: Double
  public var maxAbsError: Float
  public var fp32Bytes: Int, int8Bytes: Int
  public var keptFP32: [Int]
  public var bnReestimationBatches: Int
  /// PSNR of the fp32 generator's eval output after BN re-estimation against before it.
  public var bnReestimationPSNR: Double?
  /// What stays in fp32 besides kept layers (a SAGAN's attention and conditional BatchNorm).
  public var notes: [String] = []

  public var sizeRatio: Double { Double(int8Bytes) / Double(fp32Bytes) }

  public var text: String {
    var s = "gan-quant: \(architecture), method \(method.rawValue)" + (method == .percentile ? " (\(percentile)%)" : "")
      + ", calibration \(calibrationLatents) latents\n"
    if let p = bnReestimationPSNR {
      s += "BN re-estimation: \(bnReestimationBatches) x 64 latents; fp32 eval output moved by PSNR " +
           "\(formatFixed(p, 1)) dB\n"
    } else {
      s += "BN re-estimation: off (the file's running statistics)\n"
    }
    s += "layer  type   input scale  threshold/max      SQNR\n"
    for l in layers {
      s += pad("G\(l.index + 1)", 7) + pad(l.int8 ? "int8" : "fp32", 7)
        + pad(l.int8 ? formatScientific(Double(l.inputScale), 3) : "-", 13)
        + pad(l.int8 ? "\(formatFixed(Double(l.inputThreshold), 3))/\(formatFixed(Double(l.inputMaximum), 3))" : "-",
              17)
        + "\(formatFixed(l.sqnrDB, 1)) dB\n"
    }
    s += "output over \(evaluationLatents) fixed latents: PSNR \(formatFixed(psnrDB, 2)) dB, SSIM " +
         "\(formatFixed(ssim, 4)), max |diff| \(formatFixed(Double(maxAbsError), 4))\n"
    s += "size: fp32 \(fp32Bytes) bytes, int8 \(int8Bytes) bytes (\(formatFixed(100 * sizeRatio, 1))%)"
    s += keptFP32.isEmpty ? "; all layers int8\n" : "; kept in fp32: " +
                                                    "\(keptFP32.map { "G\($0 + 1)" }.joined(separator: ", "))\n"
    for n in notes { s += n + "\n" }
    return s
  }

  public var json: String {
    func int(_ n: Int) -> JSON { .number(Double(n)) }
    let ls: [JSON] = layers.map { l in
      .object([("layer", int(l.index)), ("name", .string(l.name)), ("type", .string(l.int8 ? "int8" : "fp32")),
               ("input_scale", .finite(Double(l.inputScale))), ("input_threshold", .finite(Double(l.inputThreshold))),
               ("input_max", .finite(Double(l.inputMaximum))), ("sqnr_db", .finite(l.sqnrDB))])
    }
    return JSON.object([
      ("input", .string(input)), ("output", .string(output)), ("architecture", architecture.jsonValue),
      ("method", .string(method.rawValue)), ("percentile", .finite(Double(percentile))),
      ("calibration_latents", int(calibrationLatents)), ("bn_reestimation_batches", int(bnReestimationBatches)),
      ("bn_reestimation_psnr_db", bnReestimationPSNR.map { .finite($0) } ?? .null),
      ("evaluation_latents", int(evaluationLatents)), ("psnr_db", .finite(psnrDB)), ("ssim", .finite(ssim)),
      ("max_abs_error", .finite(Double(maxAbsError))), ("fp32_bytes", int(fp32Bytes)), ("int8_bytes", int(int8Bytes)),
      ("size_ratio", .finite(sizeRatio)), ("kept_fp32", .array(keptFP32.map(int))),
      ("notes", .array(notes.map { .string($0) })), ("layers", .array(ls)),
    ]).serialized + "\n"
  }
}

public enum QuantizationError: Error, CustomStringConvertible {
  case invalidOption(String)
  public var description: String {
    switch self { case .invalidOption(let s): return s }
  }
}

/// Where the report goes beside an output file: out.safetensors -> out.report.json.
public func reportPath(forOutput output: String) -> String {
  (output.hasSuffix(".safetensors") ? String(output.dropLast(".safetensors".count)) : output) + ".report.json"
}

/// Streams of the latents (Philox stream = base + index) so calibration, re-estimation and
/// evaluation never share a latent.
enum LatentStreams {
  static let calibration = 0
  static let reestimation = 1 << 40
  static let evaluation = 2 << 40
}

/// The report's fixed latents: `count` x nz, image i = latent(seed, evaluation stream + i).
public func evaluationLatents(seed: UInt64, count: Int, nz: Int) -> [Float] {
  var z = [Float](repeating: 0, count: count * nz)
  z.withUnsafeMutableBufferPointer { p in
    for i in 0..<count { latent(seed: seed, index: LatentStreams.evaluation + i, into: p.baseAddress! + i * nz,
                                nz: nz) }
  }
  return z
}

/// fp32 generator file -> int8 file (and report). See Int8Format for the file.
public func quantizeGenerator(input: String, output: String,
                              options: QuantizationOptions) throws -> QuantizationReport {
  let job = try QuantizationJob(input: input, options: options)
  let reestimationPSNR = job.reestimateBatchNorm()
  let folded = try job.foldBatchNorm()
  let calibration = job.calibrate()
  try job.writeInt8(to: output, folded: folded, calibration: calibration)
  return try job.evaluate(output: output, calibration: calibration, reestimationPSNR: reestimationPSNR)
}

func fileSize(_ path: String) -> Int {
  var st = stat()
  return stat(path, &st) == 0 ? Int(st.st_size) : 0
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
