import GanKernels
import GanModel
import GanRuntime
import GanTraining

/// Per layer: the activation thresholds the calibration chose, the observed maxima, and the
/// input scales (threshold / qmax: 127 for the signed latent, 255 for unsigned activations).
struct Calibration {
  var maxima: [Float]
  var thresholds: [Float]
  var inputScales: [Float]
}

/// The steps of quantizeGenerator over one fp32 generator file: BatchNorm re-estimation, the
/// fold, calibration, the int8 file, and the evaluation against fp32. Holds the fp32 generator
/// (batch 64) the steps run.
final class QuantizationJob {
  let input: String
  let options: QuantizationOptions
  let file: SafeTensorsFile
  let arch: Architecture
  /// The file's name prefix of the generator's parameters ("main." or "G.main.").
  let prefix: String
  let spec: NetworkSpec
  let params: ParameterSet
  let g: Generator
  let batch = 64
  var layerCount: Int { arch.layerCount }
  var imageCount: Int { arch.imageSize * arch.imageSize * arch.nc }
  var evaluationBatches: Int { (options.evaluationLatents + batch - 1) / batch }

  init(input: String, options: QuantizationOptions) throws {
    self.input = input
    self.options = options
    file = try SafeTensorsFile(path: input)
    (arch, prefix) = Architecture.saganGeneratorPrefix(file) != nil ? try Architecture.inferSAGANGenerator(file)
      : try Architecture.inferGenerator(file)
    let L = arch.layerCount
    for k in options.keepFP32 where !(0..<L).contains(k) {
      throw QuantizationError.invalidOption("--keep-fp32: layer \(k) does not exist (\(arch) has layers 0-\(L - 1))")
    }
    guard options.calibrationBatches > 0 else {
      throw QuantizationError.invalidOption("--calibration-batches must be at least 1")
    }
    guard options.percentile > 0 && options.percentile <= 100 else {
      throw QuantizationError.invalidOption("--percentile must be in (0, 100]")
    }
    spec = arch.generatorSpec
    params = ParameterSet(spec: spec)
    // Parameters in PyTorch layout under the file's prefix ("main.N." in a DCGAN's spec).
    for s in spec.parameters + spec.buffers {
      let name = arch.isSAGAN ? prefix + s.name : prefix + s.name.dropFirst("main.".count)
      let data = try file.floats(name, shape: s.layout.torchShape)
      let dst = (spec.buffers.contains(s) ? params.buffers : params.values) + s.offset
      data.withUnsafeBufferPointer { s.layout.fromTorch($0.baseAddress!, to: dst) }
    }
    g = Generator(architecture: arch, batch: batch, threads: options.threads, parameters: params)
  }

  /// The generator's input: latents stream + first ... + batch - 1; conditional models' classes
  /// (first + j) mod classes, every class equally often.
  func fillLatents(stream: Int, first: Int) {
    for j in 0..<batch { latent(seed: options.seed, index: stream + first + j, into: g.input + j * arch.nz,
                                nz: arch.nz) }
    for j in 0..<batch where arch.isConditional { g.labels[j] = Int32((first + j) % arch.classes) }
  }

  /// Eval-mode outputs over the evaluation latents, one array per batch.
  func evaluationOutputs() -> [[Float]] {
    (0..<evaluationBatches).map { b in
      fillLatents(stream: LatentStreams.evaluation, first: b * batch)
      g.forward(mode: .eval)
      return Array(UnsafeBufferPointer(start: g.output, count: batch * imageCount))
    }
  }

  /// 1. BatchNorm population statistics re-estimated (when asked); returns the PSNR between the
  /// eval output before and after, over the evaluation latents.
  func reestimateBatchNorm() -> Double? {
    guard options.bnReestimationBatches > 0 else { return nil }
    let before = evaluationOutputs()
    options.log("re-estimating BatchNorm statistics over \(options.bnReestimationBatches) x \(batch) latents")
    g.reestimateBatchNormStatistics(passes: options.bnReestimationBatches) { [arch, batch, options, g] p, pass in
      for j in 0..<batch {
        latent(seed: options.seed, index: LatentStreams.reestimation + pass * batch + j, into: p + j * arch.nz,
               nz: arch.nz)
        if arch.isConditional { g.labels[j] = Int32((pass * batch + j) % arch.classes) }
      }
    }
    let after = evaluationOutputs()
    var se = 0.0, n = 0
    for b in 0..<evaluationBatches {
      let count = min(batch, options.evaluationLatents - b * batch) * imageCount
      for e in 0..<count { let d = Double(after[b][e] - before[b][e]); se += d * d }
      n += count
    }
    return ImageMetrics.psnr(meanSquaredError: se / Double(n))
  }

  /// 2. Per layer the PyTorch-layout weights (cin, cout, 4, 4) with BatchNorm folded in,
  /// w[ci, co, :, :] *= gamma / sqrt(var + eps), and the bias beta - mean * that.
  func foldBatchNorm() throws -> [(weights: [Float], bias: [Float])] {
    if arch.isSAGAN { return try foldSAGAN() }
    return try (0..<layerCount).map { i in
      let cin = arch.generatorInputChannels(i), cout = arch.generatorChannels(i)
      var w = try file.floats(prefix + "\(spec.convIndex[i]).weight", shape: [cin, cout, 4, 4])
      var b = [Float](repeating: 0, count: cout)
      if let bn = spec.bnIndex[i] {
        func vector(_ p: UnsafePointer<Float>) -> [Float] { Array(UnsafeBufferPointer(start: p, count: cout)) }
        let scale: [Float]
        (scale, b) = try BatchNormFold.scaleShift(
          gamma: vector(params.value("main.\(bn).weight")), beta: vector(params.value("main.\(bn).bias")),
          mean: vector(params.buffer("main.\(bn).running_mean")), variance: vector(params.buffer("main.\(bn).running_var")),
          name: "main.\(bn).", path: input)
        for e in 0..<w.count { w[e] *= scale[(e / 16) % cout] }
      }
      return (w, b)
    }
  }

  /// Layer i's input in the fp32 run: the latent (i = 0, signed) or layer i-1's output.
  func inputOf(_ i: Int) -> (UnsafePointer<Float>, Int) {
    i == 0 ? (UnsafePointer(g.input), batch * arch.nz)
      : (g.activation(i - 1), arch.generatorOutputElements(i - 1, batch: batch))
  }

  /// 3. Calibration: two passes over the same latents, the maxima then the histograms.
  func calibrate() -> Calibration {
    let L = layerCount
    options.log("calibrating over \(options.calibrationBatches) x \(batch) latents (\(options.method.rawValue))")
    var maxima = [Float](repeating: 0, count: L)
    for b in 0..<options.calibrationBatches {
      fillLatents(stream: LatentStreams.calibration, first: b * batch)
      g.forward(mode: .eval)
      for i in 0..<L {
        let (p, n) = inputOf(i)
        for e in 0..<n { maxima[i] = max(maxima[i], abs(p[e])) }
      }
    }
    var histograms = maxima.map { ActivationHistogram(maximum: $0) }
    for b in 0..<options.calibrationBatches {
      fillLatents(stream: LatentStreams.calibration, first: b * batch)
      g.forward(mode: .eval)
      for i in 0..<L { let (p, n) = inputOf(i); histograms[i].add(p, count: n) }
    }
    let qmax = (0..<L).map { $0 == 0 ? 127 : 255 }
    let thresholds = (0..<L).map { histograms[$0].threshold(method: options.method, percentile: options.percentile,
                                                            qmax: qmax[$0]) }
    return Calibration(maxima: maxima, thresholds: thresholds,
                       inputScales: (0..<L).map { thresholds[$0] / Float(qmax[$0]) })
  }

  /// 4. The int8 file (Int8Format): per-output-channel weight codes and scales, input scales,
  /// biases; layers in keepFP32 as folded fp32 weights.
  func writeInt8(to output: String, folded: [(weights: [Float], bias: [Float])], calibration: Calibration) throws {
    var w = SafeTensorsWriter()
    let kept = options.keepFP32.sorted()
    let description = JSON.object([
      ("weights", .string("I8 per output channel, symmetric [-127,127], BatchNorm folded")),
      ("activations", .string("U8 zero point 0 (latent: S8 [-127,127])")),
      ("method", .string(options.method.rawValue)), ("percentile", .finite(Double(options.percentile))),
      ("calibration_latents", .number(Double(options.calibrationBatches * batch))),
      ("bn_reestimation_batches", .number(Double(options.bnReestimationBatches))),
      // A string: a UInt64 does not fit a JSON number (a double) exactly.
      ("seed", .string(String(options.seed))), ("kept_fp32", .array(kept.map { .number(Double($0)) })),
    ])
    w.metadata = [("gan.format", Int8Format.tag), ("gan.arch", arch.json), ("gan.quantization", description.serialized),
                  ("gan.source", input)] + (file.metadata["gan.classes"].map { [("gan.classes", $0)] } ?? [])
    for i in 0..<layerCount {
      let cin = arch.generatorInputChannels(i), cout = arch.generatorChannels(i)
      if options.keepFP32.contains(i) {
        w.add(Int8Format.weight(i), floats: folded[i].weights, shape: [cin, cout, 4, 4])
      } else {
        let (codes, scales) = quantizeWeightsPerOutputChannel(folded[i].weights, inChannels: cin, outChannels: cout)
        w.add(Int8Format.weight(i), dtype: .I8, shape: [cin, cout, 4, 4], bytes: codes.map { UInt8(bitPattern: $0) })
        w.add(Int8Format.weightScale(i), floats: scales, shape: [cout])
        w.add(Int8Format.inputScale(i), floats: [calibration.inputScales[i]], shape: [1])
      }
      w.add(Int8Format.bias(i), floats: folded[i].bias, shape: [cout])
    }
    if arch.isSAGAN { addSAGANPasses(to: &w) }
    try w.write(to: output)
  }

  /// 5. The written file against the fp32 generator on the evaluation latents: per-layer SQNR,
  /// output PSNR, SSIM and max |diff|.
  func evaluate(output: String, calibration: Calibration, reestimationPSNR: Double?) throws -> QuantizationReport {
    let L = layerCount
    options.log("evaluating int8 against fp32 over \(options.evaluationLatents) fixed latents")
    let q = try Int8GeneratorRuntime(path: output, maxBatch: batch, threads: options.threads)
    var signal = [Double](repeating: 0, count: L), noise = [Double](repeating: 0, count: L)
    var se = 0.0, ssimSum = 0.0, maxAbs: Float = 0, pixels = 0
    for b in 0..<evaluationBatches {
      let count = min(batch, options.evaluationLatents - b * batch)
      fillLatents(stream: LatentStreams.evaluation, first: b * batch)
      g.forward(mode: .eval)
      let outs = q.layerOutputs(latents: g.input, labels: arch.isConditional ? UnsafePointer(g.labels) : nil,
                                count: count)
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
          ssimSum += ImageMetrics.ssim(qp.baseAddress! + j * imageCount, g.output + j * imageCount,
                                       size: arch.imageSize, channels: arch.nc)
        }
      }
    }
    let layers = (0..<L).map { i in
      LayerReport(index: i, name: spec.convNames[i], int8: !options.keepFP32.contains(i),
                  inputScale: options.keepFP32.contains(i) ? 0 : calibration.inputScales[i],
                  inputThreshold: calibration.thresholds[i], inputMaximum: calibration.maxima[i],
                  sqnrDB: ImageMetrics.sqnr(signal: signal[i], noise: noise[i]))
    }
    return QuantizationReport(input: input, output: output, architecture: arch, method: options.method,
                              percentile: options.percentile, calibrationLatents: options.calibrationBatches * batch,
                              evaluationLatents: options.evaluationLatents, layers: layers,
                              psnrDB: ImageMetrics.psnr(meanSquaredError: se / Double(pixels)),
                              ssim: ssimSum / Double(options.evaluationLatents), maxAbsError: maxAbs,
                              fp32Bytes: fileSize(input), int8Bytes: fileSize(output), keptFP32: options.keepFP32.sorted(),
                              bnReestimationBatches: options.bnReestimationBatches, bnReestimationPSNR: reestimationPSNR,
                              notes: saganNotes)
  }
}
