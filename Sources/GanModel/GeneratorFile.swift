extension Architecture {
  /// The architecture of an fp32 DCGAN generator file from its tensor shapes (gan-train's
  /// generator.safetensors or a PyTorch `state_dict`), and the prefix before the layer index
  /// ("main.", "", "G.main.", ...). Checks every tensor a generator needs: names, dtypes, shapes.
  public static func inferGenerator(_ f: SafeTensorsFile) throws(GanError) -> (Architecture, String) {
    func bad(_ r: String) -> GanError { .invalidFile(path: f.path, reason: r) }
    // The prefix before the layer index: "main.", "", "G.main.", "module.main." ...
    let candidates = ["main.", "", "G.main.", "module.main.", "netG.main."]
    var chosen: String?
    for p in candidates where f.entry(p + "0.weight") != nil { chosen = p; break }
    guard let prefix = chosen else {
      throw bad("missing tensor \"main.0.weight\" (not a DCGAN generator: no first ConvTranspose2d weight)")
    }
    var layers: [[Int]] = []
    var idx = 0
    while let e = f.entry(prefix + "\(idx).weight"), e.shape.count == 4 {
      guard e.dtype == .F32 else { throw bad("tensor \"\(e.name)\" is \(e.dtype.rawValue), expected F32") }
      layers.append(e.shape)
      idx += 3
    }
    let L = layers.count
    guard (4...6).contains(L) else {
      throw bad("shape not a DCGAN generator: \(L) ConvTranspose2d layers found at \(prefix)0, \(prefix)3, ... " +
                "(32/64/128 px need 4/5/6)")
    }
    let nz = layers[0][0], nc = layers[L - 1][1], ngf = layers[L - 2][1]
    let arch: Architecture
    do { arch = try Architecture(imageSize: 4 << (L - 1), nz: nz, ngf: ngf, ndf: ngf, nc: nc) } catch {
      throw bad("shape not a DCGAN generator: \(error.description)")
    }
    for i in 0..<L {
      let want = [arch.generatorInputChannels(i), arch.generatorChannels(i), 4, 4]
      guard layers[i] == want else {
        throw bad("shape not a DCGAN generator: \(prefix)\(3 * i).weight has shape \(formatList(layers[i])), " +
                  "expected \(formatList(want)) for \(arch)")
      }
      if i < L - 1 {
        for t in ["weight", "bias", "running_mean", "running_var"] {
          let name = prefix + "\(3 * i + 1).\(t)"
          guard let e = f.entry(name) else { throw bad("missing tensor \"\(name)\"") }
          guard e.dtype == .F32 else { throw bad("tensor \"\(name)\" is \(e.dtype.rawValue), expected F32") }
          guard e.shape == [arch.generatorChannels(i)] else {
            throw bad("tensor \"\(name)\" has shape \(formatList(e.shape)), expected [\(arch.generatorChannels(i))]")
          }
        }
      }
    }
    return (arch, prefix)
  }
}

/// BatchNorm2d in eval mode folded into the convolution before it, per output channel:
/// scale = gamma / sqrt(running_var + eps), shift = beta - running_mean * scale (PyTorch's eps).
/// The one fold: gan-gen's fp32 runtime and gan-quant both use it.
public enum BatchNormFold {
  public static let eps: Float = 1e-5

  /// name: the BatchNorm's tensor prefix for errors ("main.1."); path: the file it came from.
  public static func scaleShift(gamma: [Float], beta: [Float], mean: [Float], variance: [Float],
                                name: String, path: String) throws(GanError) -> (scale: [Float], shift: [Float]) {
    let n = gamma.count
    precondition(beta.count == n && mean.count == n && variance.count == n, "BatchNormFold: channel counts differ")
    var scale = [Float](repeating: 1, count: n), shift = [Float](repeating: 0, count: n)
    for c in 0..<n {
      guard variance[c] >= 0, variance[c].isFinite else {
        throw GanError.invalidFile(path: path, reason: "\(name)running_var[\(c)] is \(variance[c])")
      }
      scale[c] = gamma[c] / (variance[c] + eps).squareRoot()
      shift[c] = beta[c] - mean[c] * scale[c]
    }
    return (scale, shift)
  }

  /// The same from a generator file's tensors `prefix` + weight, bias, running_mean, running_var.
  public static func scaleShift(_ file: SafeTensorsFile, prefix: String,
                                channels: Int) throws(GanError) -> (scale: [Float], shift: [Float]) {
    try scaleShift(gamma: try file.floats(prefix + "weight", shape: [channels]), beta: try file.floats(prefix + "bias",
        shape: [channels]),
                   mean: try file.floats(prefix + "running_mean", shape: [channels]),
                   variance: try file.floats(prefix + "running_var", shape: [channels]), name: prefix, path: file.path)
  }
}
