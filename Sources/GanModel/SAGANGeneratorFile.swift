import GanKernels

extension Architecture {
  /// Name prefixes under which a SAGAN generator's tensors may sit: gan-train's export (""), a
  /// checkpoint ("G."), wrapped modules.
  static let saganPrefixes = ["", "G.", "module.", "netG."]

  /// The prefix of a SAGAN generator's tensors in `f` (where `blocks.0.conv.weight_orig` is), or nil.
  public static func saganGeneratorPrefix(_ f: SafeTensorsFile) -> String? {
    saganPrefixes.first { f.entry($0 + "blocks.0.conv.weight_orig") != nil }
  }

  /// The architecture of an fp32 SAGAN generator file: gan-train's generator.safetensors (its
  /// `gan.arch`), or a state_dict of tools/sagan_reference.py's Generator saved with safetensors
  /// (inferred from the tensors: blocks, output, gain tables, attention). Every tensor the
  /// generator has is checked (present, F32, PyTorch's shape) before anything is trusted.
  public static func inferSAGANGenerator(_ f: SafeTensorsFile) throws(GanError) -> (Architecture, String) {
    func bad(_ r: String) -> GanError { .invalidFile(path: f.path, reason: r) }
    guard let prefix = saganGeneratorPrefix(f) else {
      throw bad("missing tensor \"blocks.0.conv.weight_orig\" (not a SAGAN generator)")
    }
    func shape(_ name: String) throws(GanError) -> [Int] {
      guard let e = f.entry(prefix + name) else { throw bad("missing tensor \"\(prefix + name)\"") }
      return e.shape
    }
    let arch: Architecture
    if let text = f.metadata["gan.arch"] {
      do { arch = try Architecture(json: text) } catch { throw bad("metadata gan.arch: \(error.description)") }
      guard arch.isSAGAN else { throw bad("metadata gan.arch is not a SAGAN, but the tensors are") }
    } else {
      var blocks = 0
      while f.entry(prefix + "blocks.\(blocks).conv.weight_orig") != nil { blocks += 1 }
      let first = try shape("blocks.0.conv.weight_orig"), out = try shape("output.weight")
      guard (3...5).contains(blocks), first.count == 4, out.count == 4 else {
        throw bad("shape not a SAGAN generator: \(blocks) blocks (32/64/128 px need 3/4/5), first block " +
                  "\(formatList(first)), output \(formatList(out))")
      }
      let classes = f.entry(prefix + "blocks.0.bn.gain.weight")?.shape.first ?? 0
      let probe: Architecture
      do {
        probe = try Architecture(imageSize: 4 << blocks, nz: first[0], ngf: out[0], ndf: out[0], nc: out[1],
                                 family: .sagan, classes: classes, attentionAt: 0)
      } catch { throw bad("shape not a SAGAN generator: \(error.description)") }
      var attentionAt = 0
      if let v = f.entry(prefix + "attention.value.weight_orig"), let c = v.shape.first {
        guard let i = (1..<(probe.layerCount - 1)).first(where: { probe.generatorChannels($0) == c }) else {
          throw bad("attention over \(c) channels, but no generator block has \(c) channels")
        }
        attentionAt = probe.generatorSize(i)
      }
      do {
        arch = try Architecture(imageSize: probe.imageSize, nz: probe.nz, ngf: probe.ngf, ndf: probe.ndf, nc: probe.nc,
                                family: .sagan, classes: classes, attentionAt: attentionAt)
      } catch { throw bad("shape not a SAGAN generator: \(error.description)") }
    }
    let spec = arch.generatorSpec
    for s in spec.parameters + spec.buffers {
      let name = prefix + s.name
      guard let e = f.entry(name) else { throw bad("missing tensor \"\(name)\" (\(arch))") }
      guard e.dtype == .F32 else { throw bad("tensor \"\(name)\" is \(e.dtype.rawValue), expected F32") }
      guard e.shape == s.layout.torchShape else {
        throw bad("tensor \"\(name)\" has shape \(formatList(e.shape)), expected \(formatList(s.layout.torchShape)) " +
                  "for \(arch)")
      }
    }
    return (arch, prefix)
  }

  /// The class names in a generator file's `gan.classes` (a JSON array of strings), or their
  /// numbers when it has none.
  public static func classNames(_ f: SafeTensorsFile, classes: Int) -> [String] {
    var names: [String] = []
    if let text = f.metadata["gan.classes"], let v = try? JSON.parse(text), let a = v.arrayValue, a.count == classes {
      for n in a { if let s = n.stringValue { names.append(s) } }
    }
    if names.count == classes { return names }
    var numbers: [String] = []
    for k in 0..<classes { numbers.append(String(k)) }
    return numbers
  }
}

/// A generator file's tensors as inference uses them (eval mode): spectral norm with the stored
/// u and v (no power iteration), BatchNorm with its running statistics.
public enum InferenceFold {
  /// sigma = u . (W v) of one spectral-normalized weight from the file (`prefix` + the spec's
  /// names), computed by the training kernels in the internal layouts.
  public static func sigma(_ f: SafeTensorsFile, prefix: String, spec: NetworkSpec,
                           norm: SpectralNormSpec) throws(GanError) -> Float {
    guard let w = spec.parameter(named: norm.weight), let u = spec.buffer(named: norm.u),
          let v = spec.buffer(named: norm.v) else { preconditionFailure("spectral norm \(norm.weight) not in its spec") }
    func internalLayout(_ s: TensorSpec) throws(GanError) -> [Float] {
      let torch = try f.floats(prefix + s.name, shape: s.layout.torchShape)
      var out = [Float](repeating: 0, count: s.count)
      torch.withUnsafeBufferPointer { t in out.withUnsafeMutableBufferPointer { s.layout.fromTorch(t.baseAddress!,
                                                                                                 to: $0.baseAddress!) } }
      return out
    }
    let wi = try internalLayout(w)
    var ui = try internalLayout(u), vi = try internalLayout(v)
    var scratch = [Float](repeating: 0, count: norm.matrix.rows)
    let sigma = wi.withUnsafeBufferPointer { wp in
      ui.withUnsafeMutableBufferPointer { up in
        vi.withUnsafeMutableBufferPointer { vp in
          scratch.withUnsafeMutableBufferPointer { sp in
            SpectralNorm.sigma(norm.matrix, w: wp.baseAddress!, u: up.baseAddress!, v: vp.baseAddress!, update: false,
                               scratch: sp.baseAddress!, normalized: nil)
          }
        }
      }
    }
    guard sigma.isFinite && sigma > 0 else {
      throw GanError.invalidFile(path: f.path, reason: "spectral norm of \"\(prefix + norm.weight)\" is \(sigma) " +
                                 "(u, v or the weight is degenerate)")
    }
    return sigma
  }

  /// Conditional BatchNorm in eval mode as per-class tables (classes x channels): scale = gain *
  /// rstd, shift = bias - mean * scale, rstd = 1 / sqrt(running_var + eps).
  public static func conditionalBatchNorm(_ f: SafeTensorsFile, prefix: String, names: BatchNormNames, classes: Int,
                                          channels: Int) throws(GanError) -> (scale: [Float], shift: [Float]) {
    let gain = try f.floats(prefix + names.gain, shape: [classes, channels])
    let bias = try f.floats(prefix + names.bias, shape: [classes, channels])
    let mean = try f.floats(prefix + names.runningMean, shape: [channels])
    let variance = try f.floats(prefix + names.runningVar, shape: [channels])
    var rstd = [Float](repeating: 0, count: channels)
    for c in 0..<channels {
      guard variance[c] >= 0, variance[c].isFinite, mean[c].isFinite else {
        throw GanError.invalidFile(path: f.path, reason: "\(prefix + names.runningVar)[\(c)] is \(variance[c])")
      }
      rstd[c] = 1 / (variance[c] + BatchNormFold.eps).squareRoot()
    }
    var scale = [Float](repeating: 0, count: classes * channels), shift = scale
    var rows = [Int32](repeating: 0, count: classes)
    for k in 0..<classes { rows[k] = Int32(k) }
    ConditionalBatchNorm.scaleShift(images: classes, channels: channels, labels: rows, gain: gain, bias: bias,
                                    mean: mean, rstd: rstd, scale: &scale, shift: &shift)
    return (scale, shift)
  }
}
