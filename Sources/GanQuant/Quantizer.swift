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

  public var sizeRatio: Double { Double(int8Bytes) / Double(fp32Bytes) }

  public var text: String {
    var s = "gan-quant: \(architecture), method \(method.rawValue)" + (method == .percentile ? " (\(percentile)%)" : "")
      + ", calibration \(calibrationLatents) latents\n"
    if let p = bnReestimationPSNR {
      s += "BN re-estimation: \(bnReestimationBatches) x 64 latents; fp32 eval output moved by PSNR \(fmt(p, 1)) dB\n"
    } else {
      s += "BN re-estimation: off (the file's running statistics)\n"
    }
    s += "layer  type   input scale  threshold/max      SQNR\n"
    for l in layers {
      s += pad("G\(l.index + 1)", 7) + pad(l.int8 ? "int8" : "fp32", 7)
        + pad(l.int8 ? sci(l.inputScale) : "-", 13)
        + pad(l.int8 ? "\(fmt(Double(l.inputThreshold), 3))/\(fmt(Double(l.inputMaximum), 3))" : "-", 17)
        + "\(fmt(l.sqnrDB, 1)) dB\n"
    }
    s += "output over \(evaluationLatents) fixed latents: PSNR \(fmt(psnrDB, 2)) dB, SSIM \(fmt(ssim, 4)), max |diff| \(fmt(Double(maxAbsError), 4))\n"
    s += "size: fp32 \(fp32Bytes) bytes, int8 \(int8Bytes) bytes (\(fmt(100 * sizeRatio, 1))%)"
    s += keptFP32.isEmpty ? "; all layers int8\n" : "; kept in fp32: \(keptFP32.map { "G\($0 + 1)" }.joined(separator: ", "))\n"
    return s
  }

  public var json: String {
    func num(_ d: Double) -> String { d.isFinite ? "\(d)" : "null" }
    let ls = layers.map { l in
      "{\"layer\":\(l.index),\"name\":\"\(l.name)\",\"type\":\"\(l.int8 ? "int8" : "fp32")\",\"input_scale\":\(l.inputScale),\"input_threshold\":\(l.inputThreshold),\"input_max\":\(l.inputMaximum),\"sqnr_db\":\(num(l.sqnrDB))}"
    }
    return """
    {"input":"\(escape(input))","output":"\(escape(output))","architecture":\(architecture.json),\
    "method":"\(method.rawValue)","percentile":\(percentile),"calibration_latents":\(calibrationLatents),\
    "bn_reestimation_batches":\(bnReestimationBatches),"bn_reestimation_psnr_db":\(bnReestimationPSNR.map(num) ?? "null"),\
    "evaluation_latents":\(evaluationLatents),"psnr_db":\(num(psnrDB)),"ssim":\(num(ssim)),"max_abs_error":\(maxAbsError),\
    "fp32_bytes":\(fp32Bytes),"int8_bytes":\(int8Bytes),"size_ratio":\(sizeRatio),"kept_fp32":\(keptFP32),\
    "layers":[\(ls.joined(separator: ","))]}

    """
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
    for i in 0..<count { latent(seed: seed, index: LatentStreams.evaluation + i, into: p.baseAddress! + i * nz, nz: nz) }
  }
  return z
}

/// fp32 generator file -> int8 file (and report). See Int8Format for the file.
public func quantizeGenerator(input: String, output: String, options: QuantizationOptions) throws -> QuantizationReport {
  let file = try SafeTensorsFile(path: input)
  let (arch, prefix) = try Architecture.inferGenerator(file)
  let L = arch.layerCount
  for k in options.keepFP32 where !(0..<L).contains(k) {
    throw QuantizationError.invalidOption("--keep-fp32: layer \(k) does not exist (\(arch) has layers 0-\(L - 1))")
  }
  guard options.calibrationBatches > 0 else { throw QuantizationError.invalidOption("--calibration-batches must be at least 1") }
  guard options.percentile > 0 && options.percentile <= 100 else { throw QuantizationError.invalidOption("--percentile must be in (0, 100]") }
  let spec = arch.generatorSpec
  let batch = 64
  let params = ParameterSet(spec: spec)
  // Parameters in PyTorch layout under the file's prefix ("main.N." in the spec).
  for s in spec.parameters + spec.buffers {
    let name = prefix + s.name.dropFirst("main.".count)
    let data = try file.floats(name, shape: s.layout.torchShape)
    let dst = (spec.buffers.contains(s) ? params.buffers : params.values) + s.offset
    data.withUnsafeBufferPointer { s.layout.fromTorch($0.baseAddress!, to: dst) }
  }
  let g = Generator(architecture: arch, batch: batch, threads: options.threads, parameters: params)
  func fill(stream: Int, first: Int) {
    for j in 0..<batch { latent(seed: options.seed, index: stream + first + j, into: g.input + j * arch.nz, nz: arch.nz) }
  }
  let evalBatches = (options.evaluationLatents + batch - 1) / batch
  let imageCount = arch.imageSize * arch.imageSize * arch.nc

  // 1. BatchNorm re-estimation, and how far it moved the eval output.
  var reestimationPSNR: Double?
  if options.bnReestimationBatches > 0 {
    var before: [[Float]] = []
    for b in 0..<evalBatches {
      fill(stream: LatentStreams.evaluation, first: b * batch)
      g.forward(mode: .eval)
      before.append(Array(UnsafeBufferPointer(start: g.output, count: batch * imageCount)))
    }
    options.log("re-estimating BatchNorm statistics over \(options.bnReestimationBatches) x \(batch) latents")
    g.reestimateBatchNormStatistics(passes: options.bnReestimationBatches) { p, pass in
      for j in 0..<batch { latent(seed: options.seed, index: LatentStreams.reestimation + pass * batch + j, into: p + j * arch.nz, nz: arch.nz) }
    }
    var se = 0.0, n = 0
    for b in 0..<evalBatches {
      fill(stream: LatentStreams.evaluation, first: b * batch)
      g.forward(mode: .eval)
      let count = min(batch, options.evaluationLatents - b * batch) * imageCount
      for e in 0..<count { let d = Double(g.output[e] - before[b][e]); se += d * d }
      n += count
    }
    reestimationPSNR = ImageMetrics.psnr(meanSquaredError: se / Double(n))
  }

  // 2. Fold BatchNorm: w[ci, co, :, :] *= gamma / sqrt(var + eps), bias = beta - mean * that.
  var folded: [[Float]] = [], biases: [[Float]] = []
  for i in 0..<L {
    let cin = arch.generatorInputChannels(i), cout = arch.generatorChannels(i)
    var w = try file.floats(prefix + "\(spec.convIndex[i]).weight", shape: [cin, cout, 4, 4])
    var b = [Float](repeating: 0, count: cout)
    if let bn = spec.bnIndex[i] {
      let gamma = params.value("main.\(bn).weight"), beta = params.value("main.\(bn).bias")
      let mean = params.buffer("main.\(bn).running_mean"), variance = params.buffer("main.\(bn).running_var")
      func vector(_ p: UnsafePointer<Float>) -> [Float] { Array(UnsafeBufferPointer(start: p, count: cout)) }
      let scale: [Float]
      (scale, b) = try BatchNormFold.scaleShift(gamma: vector(gamma), beta: vector(beta), mean: vector(mean),
                                                variance: vector(variance), name: "main.\(bn).", path: input)
      for e in 0..<w.count { w[e] *= scale[(e / 16) % cout] }
    }
    folded.append(w); biases.append(b)
  }

  // 3. Calibration: two passes over the same latents, the maxima then the histograms. Input of
  // layer 0 is the latent (signed, codes in [-127, 127]); of layer i > 0, layer i-1's output.
  func inputOf(_ i: Int) -> (UnsafePointer<Float>, Int) {
    i == 0 ? (UnsafePointer(g.input), batch * arch.nz)
      : (g.activation(i - 1), batch * arch.generatorSize(i - 1) * arch.generatorSize(i - 1) * arch.generatorChannels(i - 1))
  }
  options.log("calibrating over \(options.calibrationBatches) x \(batch) latents (\(options.method.rawValue))")
  var maxima = [Float](repeating: 0, count: L)
  for b in 0..<options.calibrationBatches {
    fill(stream: LatentStreams.calibration, first: b * batch)
    g.forward(mode: .eval)
    for i in 0..<L {
      let (p, n) = inputOf(i)
      for e in 0..<n { maxima[i] = max(maxima[i], abs(p[e])) }
    }
  }
  var histograms = maxima.map { ActivationHistogram(maximum: $0) }
  for b in 0..<options.calibrationBatches {
    fill(stream: LatentStreams.calibration, first: b * batch)
    g.forward(mode: .eval)
    for i in 0..<L { let (p, n) = inputOf(i); histograms[i].add(p, count: n) }
  }
  let qmax = (0..<L).map { $0 == 0 ? 127 : 255 }
  let thresholds = (0..<L).map { histograms[$0].threshold(method: options.method, percentile: options.percentile, qmax: qmax[$0]) }
  let inputScales = (0..<L).map { thresholds[$0] / Float(qmax[$0]) }

  // 4. Write the int8 file.
  var w = SafeTensorsWriter()
  let kept = options.keepFP32.sorted()
  w.metadata = [("gan.format", Int8Format.tag), ("gan.arch", arch.json),
                ("gan.quantization", "{\"weights\":\"I8 per output channel, symmetric [-127,127], BatchNorm folded\",\"activations\":\"U8 zero point 0 (latent: S8 [-127,127])\",\"method\":\"\(options.method.rawValue)\",\"percentile\":\(options.percentile),\"calibration_latents\":\(options.calibrationBatches * batch),\"bn_reestimation_batches\":\(options.bnReestimationBatches),\"seed\":\(options.seed),\"kept_fp32\":\(kept)}"),
                ("gan.source", input)]
  for i in 0..<L {
    let cin = arch.generatorInputChannels(i), cout = arch.generatorChannels(i)
    if options.keepFP32.contains(i) {
      w.add(Int8Format.weight(i), floats: folded[i], shape: [cin, cout, 4, 4])
    } else {
      let (codes, scales) = quantizeWeightsPerOutputChannel(folded[i], inChannels: cin, outChannels: cout)
      w.add(Int8Format.weight(i), dtype: .I8, shape: [cin, cout, 4, 4], bytes: codes.map { UInt8(bitPattern: $0) })
      w.add(Int8Format.weightScale(i), floats: scales, shape: [cout])
      w.add(Int8Format.inputScale(i), floats: [inputScales[i]], shape: [1])
    }
    w.add(Int8Format.bias(i), floats: biases[i], shape: [cout])
  }
  try w.write(to: output)

  // 5. Evaluate the written file against the fp32 generator on the fixed latents.
  options.log("evaluating int8 against fp32 over \(options.evaluationLatents) fixed latents")
  let q = try Int8GeneratorRuntime(path: output, maxBatch: batch, threads: options.threads)
  var signal = [Double](repeating: 0, count: L), noise = [Double](repeating: 0, count: L)
  var se = 0.0, ssimSum = 0.0, maxAbs: Float = 0, pixels = 0
  for b in 0..<evalBatches {
    let count = min(batch, options.evaluationLatents - b * batch)
    fill(stream: LatentStreams.evaluation, first: b * batch)
    g.forward(mode: .eval)
    let outs = q.layerOutputs(latents: g.input, count: count)
    for i in 0..<L {
      let ref: UnsafePointer<Float> = i == L - 1 ? UnsafePointer(g.output) : g.activation(i)
      for (e, v) in outs[i].enumerated() {
        let r = Double(ref[e]), d = Double(v) - r
        signal[i] += r * r; noise[i] += d * d
      }
    }
    for e in 0..<(count * imageCount) {
      let d = outs[L - 1][e] - g.output[e]
      maxAbs = max(maxAbs, abs(d)); se += Double(d * d)
    }
    pixels += count * imageCount
    outs[L - 1].withUnsafeBufferPointer { qp in
      for j in 0..<count {
        ssimSum += ImageMetrics.ssim(qp.baseAddress! + j * imageCount, g.output + j * imageCount, size: arch.imageSize, channels: arch.nc)
      }
    }
  }
  let layers = (0..<L).map { i in
    LayerReport(index: i, name: "main.\(spec.convIndex[i])", int8: !options.keepFP32.contains(i),
                inputScale: options.keepFP32.contains(i) ? 0 : inputScales[i], inputThreshold: thresholds[i], inputMaximum: maxima[i],
                sqnrDB: ImageMetrics.sqnr(signal: signal[i], noise: noise[i]))
  }
  return QuantizationReport(input: input, output: output, architecture: arch, method: options.method, percentile: options.percentile,
                            calibrationLatents: options.calibrationBatches * batch, evaluationLatents: options.evaluationLatents,
                            layers: layers, psnrDB: ImageMetrics.psnr(meanSquaredError: se / Double(pixels)),
                            ssim: ssimSum / Double(options.evaluationLatents), maxAbsError: maxAbs,
                            fp32Bytes: fileSize(input), int8Bytes: fileSize(output), keptFP32: kept,
                            bnReestimationBatches: options.bnReestimationBatches, bnReestimationPSNR: reestimationPSNR)
}

func fileSize(_ path: String) -> Int {
  var st = stat()
  return stat(path, &st) == 0 ? Int(st.st_size) : 0
}

func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

func sci(_ x: Float) -> String { String(format: "%.3e", Double(x)) }

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

func escape(_ s: String) -> String {
  var o = ""
  for c in s.unicodeScalars {
    switch c {
    case "\"": o += "\\\""
    case "\\": o += "\\\\"
    default: o.unicodeScalars.append(c)
    }
  }
  return o
}
