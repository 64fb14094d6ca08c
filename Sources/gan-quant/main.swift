import ArgumentParser
import GanCommandLine
import GanModel
import GanQuant
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// gan-quant: fp32 generator -> int8 generator, with a fidelity report.
struct GanQuantCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gan-quant",
    abstract: "Quantize a DCGAN generator to int8 (BatchNorm folded, per-channel int8 weights, calibrated " +
              "activations).",
    discussion: """
    Calibration needs no dataset: latents are drawn from N(0, I) with --seed. The report (printed, and \
    as JSON beside the output: out.safetensors -> out.report.json) gives per-layer SQNR, PSNR and SSIM \
    of int8 against fp32 over 256 fixed latents, the file sizes and the layers kept in fp32. \
    gan-gen runs the output file as it runs fp32 ones.
    Examples:
      gan-quant --model out/generator.safetensors --out out/generator.int8.safetensors
      gan-quant --model g.safetensors --out g8.safetensors --method mse --keep-fp32 0,4
    """)

  @Option(help: "fp32 generator safetensors (gan-train's generator.safetensors or a PyTorch DCGAN state_dict).")
  var model: String

  @Option(help: "Output int8 safetensors.")
  var out: String

  @Option(help: "Calibration batches of 64 latents, 1 to 10000.")
  var calibrationBatches: Int = 8

  @Option(help: """
            How activation ranges are chosen: minmax (largest value), percentile (see --percentile), mse (least \
            squared error).
            """)
  var method: String = "mse"

  @Option(help: "Percentile of activation values kept unclipped with --method percentile, 50 to 100.")
  var percentile: Double = 99.99

  @Option(help: "Comma-separated layers (0-based; G1 is 0) kept in fp32, e.g. 0,4.")
  var keepFP32: String?

  @Option(help: "Batches of 64 latents to re-estimate BatchNorm statistics over before folding, 0 to 100000 (0: use the file's).")
  var bnBatches: Int = 50

  @Option(help: "Seed of the calibration, re-estimation and evaluation latents.")
  var seed: UInt64 = 0

  @Option(help: "Compute threads, 1 to 1024 (default: all cores).")
  var threads: Int?

  func validate() throws {
    try checkFlag("calibration-batches", calibrationBatches, 1...10000)
    guard percentile.isFinite else { throw ValidationError("--percentile \(percentile): expected 50 to 100") }
    try checkFlag("percentile", percentile, 50...100)
    try checkFlag("bn-batches", bnBatches, 0...100_000)
    if let t = threads { try checkFlag("threads", t, FlagRange.threads) }
  }

  func fail(_ message: String) -> ExitCode {
    fputs("gan-quant: \(message)\n", stderr)
    return ExitCode(1)
  }

  func run() throws {
    var o = QuantizationOptions()
    guard let m = CalibrationMethod(rawValue: method) else {
      throw fail("--method \(method): expected one of " +
                 "\(CalibrationMethod.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    o.method = m
    o.calibrationBatches = calibrationBatches
    o.percentile = percentile
    o.bnReestimationBatches = bnBatches
    o.seed = seed
    o.threads = threads ?? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    if let k = keepFP32 {
      var layers = Set<Int>()
      for part in k.split(separator: ",") {
        guard let v = Int(part.trimmingCharacters(in: " ")) else {
          throw fail("--keep-fp32 \(k): expected comma-separated layer numbers")
        }
        layers.insert(v)
      }
      o.keepFP32 = layers
    }
    o.log = { fputs("gan-quant: \($0)\n", stderr) }
    do {
      let report = try quantizeGenerator(input: model, output: out, options: o)
      print(report.text, terminator: "")
      let path = reportPath(forOutput: out)
      try writeFileAtomically(path: path, bytes: Array(report.json.utf8))
      print("wrote \(out) and \(path)")
    } catch { throw fail("\(error)") }
  }
}

extension Substring {
  func trimmingCharacters(in set: Character) -> Substring {
    var s = self
    while s.first == set { s = s.dropFirst() }
    while s.last == set { s = s.dropLast() }
    return s
  }
}

OneLineErrors.main(GanQuantCommand.self)
