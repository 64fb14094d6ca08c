import GanKernels
import GanModel
import GanTraining

/// gan-quant's SAGAN parts: spectral norm folded into every weight (W / sigma with the stored u
/// and v, as eval mode), conditional BatchNorm kept as per-class fp32 tables, and the attention
/// block kept in fp32 (Int8Format).
extension QuantizationJob {
  /// sigma of a spectral-normalized weight of the (loaded, re-estimated) parameters.
  func sigma(_ weight: String) -> Float {
    guard let norm = spec.spectralNorm(of: weight) else { return 1 }
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: norm.matrix.rows)
    defer { scratch.deallocate() }
    // update: false reads u and v without changing them.
    return SpectralNorm.sigma(norm.matrix, w: params.value(norm.weight), u: params.buffer(norm.u),
                              v: params.buffer(norm.v), update: false, scratch: scratch, normalized: nil)
  }

  /// Per layer, PyTorch-layout (cin, cout, 4, 4) weights divided by sigma, an affine BatchNorm
  /// folded in as DCGAN's (conditional ones stay as tables: bias 0).
  func foldSAGAN() throws -> [(weights: [Float], bias: [Float])] {
    try (0..<layerCount).map { i in
      let cout = arch.generatorChannels(i), name = spec.convNames[i]
      let s = sigma(name)
      var w = params.torchValue(name).map { $0 / s }
      var b = [Float](repeating: 0, count: cout)
      if let names = spec.norms[i], !names.conditional {
        func vector(_ p: UnsafePointer<Float>) -> [Float] { Array(UnsafeBufferPointer(start: p, count: cout)) }
        let scale: [Float]
        (scale, b) = try BatchNormFold.scaleShift(
          gamma: vector(params.value(names.gain)), beta: vector(params.value(names.bias)),
          mean: vector(params.buffer(names.runningMean)), variance: vector(params.buffer(names.runningVar)),
          name: names.gain, path: input)
        for e in 0..<w.count { w[e] *= scale[(e / 16) % cout] }
      }
      return (w, b)
    }
  }

  /// The conditional BatchNorm tables (eval mode, re-estimated statistics) and the attention
  /// block's W / sigma, biases and gamma.
  func addSAGANPasses(to w: inout SafeTensorsWriter) {
    for i in 0..<(layerCount - 1) {
      guard let names = spec.norms[i], names.conditional else { continue }
      let c = arch.generatorChannels(i), k = arch.classes
      var rstd = [Float](repeating: 0, count: c)
      let variance = params.buffer(names.runningVar)
      for j in 0..<c { rstd[j] = 1 / (variance[j] + BatchNormFold.eps).squareRoot() }
      var scale = [Float](repeating: 0, count: k * c), shift = scale
      let rows = (0..<k).map { Int32($0) }
      ConditionalBatchNorm.scaleShift(images: k, channels: c, labels: rows, gain: params.value(names.gain),
                                      bias: params.value(names.bias), mean: params.buffer(names.runningMean),
                                      rstd: rstd, scale: &scale, shift: &shift)
      w.add(Int8Format.conditionalScale(i), floats: scale, shape: [k, c])
      w.add(Int8Format.conditionalShift(i), floats: shift, shape: [k, c])
    }
    guard let att = spec.attention else { return }
    for part in AttentionSpec.parts {
      let name = att.weight(part), s = sigma(name)
      let cout = part == "value" ? att.channels : att.keyChannels
      w.add(Int8Format.attentionWeight(part), floats: params.torchValue(name).map { $0 / s },
            shape: [cout, att.channels, 1, 1])
      w.add(Int8Format.attentionBias(part), floats: params.torchValue(att.bias(part)), shape: [cout])
    }
    w.add(Int8Format.attentionGamma, floats: params.torchValue(att.gamma), shape: [1])
  }

  /// The report's lines on what a SAGAN keeps in fp32.
  var saganNotes: [String] {
    var notes: [String] = []
    if arch.isConditional {
      notes.append("conditional BatchNorm: fp32 per-class scale and shift after each hidden layer (its int8 output " +
                   "dequantized, the next layer quantizing as it reads)")
    }
    if let a = spec.attention {
      notes.append("self-attention after G\(a.layer + 1) (\(a.channels) channels): kept in fp32")
    }
    if arch.isSAGAN { notes.append("spectral norm folded into the weights (W / sigma, stored u and v)") }
    return notes
  }
}
