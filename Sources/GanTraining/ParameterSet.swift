import GanKernels
import GanModel

/// Parameters of one network (G or D) in one flat buffer, in the internal layouts, with their
/// gradients, Adam moments and BatchNorm running statistics: one allocation, carved into views.
public final class ParameterSet {
  public let spec: NetworkSpec
  public let count: Int
  public let values: UnsafeMutablePointer<Float>
  public let gradients: UnsafeMutablePointer<Float>
  public let adamM: UnsafeMutablePointer<Float>
  public let adamV: UnsafeMutablePointer<Float>
  /// running_mean / running_var of every BatchNorm, per `spec.buffers`.
  public let buffers: UnsafeMutablePointer<Float>
  /// Adam steps taken (PyTorch's state['step']).
  public var adamStep = 0
  /// Bumped by every change of `values` made here (initialization, Adam step, load): kernels that
  /// keep transformed copies of the weights (Winograd) re-derive them when it moves. Code that
  /// writes `values` directly calls `markModified()`.
  public private(set) var generation = 0
  public func markModified() { generation &+= 1 }
  private let arena: Arena

  public init(spec: NetworkSpec) {
    self.spec = spec
    count = spec.parameterCount
    let n = count, b = spec.bufferCount
    let (arena, views) = Arena.build { a in (a.floats(n), a.floats(n), a.floats(n), a.floats(n), a.floats(b)) }
    self.arena = arena
    (values, gradients, adamM, adamV, buffers) = views
    resetBuffers()
  }

  public func value(_ name: String) -> UnsafeMutablePointer<Float> {
    guard let s = spec.parameter(named: name) else { preconditionFailure("no parameter \(name)") }
    return values + s.offset
  }

  public func gradient(_ name: String) -> UnsafeMutablePointer<Float> {
    guard let s = spec.parameter(named: name) else { preconditionFailure("no parameter \(name)") }
    return gradients + s.offset
  }

  /// Each layer's convolution weight and its gradient, in layer order (`spec.convNames`).
  var convolutionViews: (weights: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
    (spec.convNames.map(value), spec.convNames.map(gradient))
  }

  public func buffer(_ name: String) -> UnsafeMutablePointer<Float> {
    guard let s = spec.buffer(named: name) else { preconditionFailure("no buffer \(name)") }
    return buffers + s.offset
  }

  /// BatchNorm running statistics to PyTorch's initial state (running_mean = 0, running_var = 1);
  /// spectral norm's u and v are left as they are.
  public func resetBuffers() {
    for s in spec.buffers where s.isRunningStatistic {
      let v: Float = s.name.hasSuffix("running_var") ? 1 : 0
      (buffers + s.offset).update(repeating: v, count: s.count)
    }
  }

  public func zeroGradients() { gradients.update(repeating: 0, count: count) }

  /// Every tensor as its spec says (DCGAN: conv weights N(0, 0.02), BatchNorm weight N(1, 0.02),
  /// bias 0; SAGAN: tools/sagan_reference.py's init, u and v random unit vectors), drawn from
  /// `rng` in spec order, parameters first; Adam state cleared.
  public func initialize(rng: inout Philox4x32) {
    for (s, base) in spec.parameters.map({ ($0, values) }) + spec.buffers.map({ ($0, buffers) }) {
      let p = UnsafeMutableBufferPointer(start: base + s.offset, count: s.count)
      switch s.initialization {
      case .normal(let mean, let std): rng.fillNormal(p, mean: mean, std: std)
      case .constant(let c): p.update(repeating: c)
      case .unitVector:
        rng.fillNormal(p)
        var n = 0.0
        for x in p { n += Double(x) * Double(x) }
        let inv = Float(1 / max(n.squareRoot(), 1e-12))
        for i in p.indices { p[i] *= inv }
      }
    }
    adamM.update(repeating: 0, count: count)
    adamV.update(repeating: 0, count: count)
    adamStep = 0
    markModified()
  }

  /// torch.optim.Adam step over all parameters.
  public func adamStep(lr: Float, beta1: Float, beta2: Float = 0.999, eps: Float = 1e-8) {
    adamStep += 1
    markModified()
    Adam.step(count: count, params: values, grads: gradients, m: adamM, v: adamV, lr: lr, beta1: beta1,
              beta2: beta2, eps: eps, step: adamStep)
  }

  // MARK: - PyTorch names and layouts

  /// Loads parameters and running statistics from a file in PyTorch layouts (`prefix` + name).
  public func load(from file: SafeTensorsFile, prefix: String = "") throws {
    for s in spec.parameters + spec.buffers {
      let isBuffer = spec.buffers.contains(s)
      let data = try file.floats(prefix + s.name, shape: s.layout.torchShape)
      let dst = (isBuffer ? buffers : values) + s.offset
      data.withUnsafeBufferPointer { s.layout.fromTorch($0.baseAddress!, to: dst) }
    }
    markModified()
  }

  /// Adds parameters and running statistics, in PyTorch layouts, to a writer.
  public func save(into writer: inout SafeTensorsWriter, prefix: String = "") {
    for s in spec.parameters + spec.buffers {
      let isBuffer = spec.buffers.contains(s)
      var out = [Float](repeating: 0, count: s.count)
      out.withUnsafeMutableBufferPointer { s.layout.toTorch((isBuffer ? buffers : values) + s.offset,
                                                            to: $0.baseAddress!) }
      writer.add(prefix + s.name, floats: out, shape: s.layout.torchShape)
    }
  }

  /// A parameter's gradient in PyTorch's layout (for comparisons with PyTorch).
  public func torchGradient(_ name: String) -> [Float] {
    guard let s = spec.parameter(named: name) else { preconditionFailure("no parameter \(name)") }
    var out = [Float](repeating: 0, count: s.count)
    out.withUnsafeMutableBufferPointer { s.layout.toTorch(gradients + s.offset, to: $0.baseAddress!) }
    return out
  }

  /// A parameter's value in PyTorch's layout.
  public func torchValue(_ name: String) -> [Float] {
    guard let s = spec.parameter(named: name) else { preconditionFailure("no parameter \(name)") }
    var out = [Float](repeating: 0, count: s.count)
    out.withUnsafeMutableBufferPointer { s.layout.toTorch(values + s.offset, to: $0.baseAddress!) }
    return out
  }
}
